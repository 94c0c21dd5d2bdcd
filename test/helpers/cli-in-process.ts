// A command of the CLI run in this process, as bin/mss-sidecar runs it in its own: the same
// program (src/cli/program.ts, the command line's group loaded), on an io that keeps what
// the command writes and its exit status (src/cli/io.ts). For tests whose point is what a
// command does and says; runCli (./cli.ts) stays for those whose point is the process
// (exit statuses as the shell sees them, signals, what a run loads).
import { CommanderError } from 'commander';
import { programFor } from '../../src/cli/main.js';
import type { CliIo } from '../../src/cli/io.js';
import { NO_CONFIG, type CliResult } from './cli.js';

// What cliEnv() gives a spawned CLI: without --config, a command finds NO_CONFIG (a path
// where no file is written), never /etc/mss-sidecar/config.yaml. Set once for this test process.
process.env.MSS_SIDECAR_CONFIG = NO_CONFIG;

/**
 * `mss-sidecar ARGS` in-process. Logs are silenced (`--log-level silent`) unless ARGS name a
 * level: pino would write to this process's stderr, not to the result.
 */
export async function runCliInProcess(args: readonly string[]): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  let status = 0;
  const io: CliIo = {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    setStatus: (s) => {
      status = s;
    },
    exitOnParseEnd: false,
  };
  const line = [...(args.includes('--log-level') ? [] : ['--log-level', 'silent']), ...args];
  const program = await programFor(line, io);
  try {
    await program.parseAsync([...line], { from: 'user' });
  } catch (err) {
    // Usage errors, --help, --version: commander ended the parse; io.setStatus has the status.
    if (!(err instanceof CommanderError)) throw err;
  }
  return { status, stdout, stderr };
}
