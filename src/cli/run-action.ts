// Uniform ending for every command: a coded error is printed as `error CODE: message` on
// stderr (and as JSON with --json), and the exit status tells scripts and systemd what
// happened without parsing text. Both go to the program's io (./io.ts): the process's, or a
// test's.
import { Command } from 'commander';
import { asMssError } from '../errors.js';
import { ioOf, PROCESS_IO } from './io.js';

/** Exit statuses, documented in docs/cli.md. */
export const EXIT = {
  OK: 0,
  /** The operation ran and refused or failed (bad signature, blocking anomalies...). */
  FAILED: 1,
  /** Bad usage or invalid configuration: nothing was attempted. */
  CONFIG: 2,
  /** A peer was unavailable; the last valid state is still in use. Retry later. */
  TEMPORARY: 3,
} as const;

const CONFIG_CODES = /^(CONFIG_|USAGE_)/;
// A peer that did not answer, answered 5xx or broke the transfer: try again later.
const TEMPORARY_CODES = /^(HTTP_UNREACHABLE|HTTP_TIMEOUT|HTTP_SERVER_ERROR|HTTP_TRUNCATED|TEMPORARY_)/;

export function exitCodeFor(code: string): number {
  if (CONFIG_CODES.test(code)) return EXIT.CONFIG;
  if (TEMPORARY_CODES.test(code)) return EXIT.TEMPORARY;
  return EXIT.FAILED;
}

export function action<A extends unknown[]>(fn: (...args: A) => Promise<number | void> | number | void) {
  return async (...args: A): Promise<void> => {
    // commander passes the command last: it leads to the program's io and its --json.
    const cmd = args[args.length - 1];
    const io = cmd instanceof Command ? ioOf(cmd) : PROCESS_IO;
    try {
      const status = await fn(...args);
      io.setStatus(typeof status === 'number' ? status : EXIT.OK);
    } catch (thrown) {
      const err = asMssError(thrown);
      const wantsJson = cmd instanceof Command && (cmd.optsWithGlobals() as { json?: boolean }).json === true;
      if (wantsJson) io.stdout.write(`${JSON.stringify({ ok: false, error: err.toJSON() })}\n`);
      io.stderr.write(`error ${err.code}: ${err.message}\n`);
      if (err.code === 'INTERNAL' && process.env.MSS_DEBUG === '1' && thrown instanceof Error) io.stderr.write(`${thrown.stack}\n`);
      io.setStatus(exitCodeFor(err.code));
    }
  };
}
