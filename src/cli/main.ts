// The entry of the `mss-sidecar` command, for bin/mss-sidecar: importing it runs nothing, so
// tests build the program in-process (test/helpers/cli-program.ts for its help,
// test/helpers/cli-in-process.ts to run a command on an io of their own) and start a process
// only where the process is the point (exit statuses, signals, what a run loads).
import type { Command } from 'commander';
import type { CliIo } from './io.js';
import { buildProgram, invokedCommand } from './program.js';
import { EXIT } from './run-action.js';

export { buildProgram };

/** The command groups to load for a command line (without node and the script): the one it names (./commands.ts), if any. */
export function groupsFor(args: readonly string[]): ReadonlySet<string> {
  const invoked = invokedCommand(args);
  return new Set(invoked === undefined ? [] : [invoked]);
}

/** The program for a command line, on `io` (the process's by default, ./io.ts). */
export function programFor(args: readonly string[], io?: CliIo): Promise<Command> {
  return buildProgram(groupsFor(args), io);
}

/** `mss-sidecar bal list | head`: the reader went away; that ends the output, not in a crash. */
export function endQuietlyWhenStdoutCloses(): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(EXIT.OK);
    throw err;
  });
}
