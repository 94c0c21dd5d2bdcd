// The entry of the `mss-sidecar` command, for bin/mss-sidecar: importing it runs nothing, so
// tests build the program in-process (test/helpers/cli-program.ts) and start a process only
// where the process is the point (exit statuses, signals, what a run loads).
import type { Command } from 'commander';
import { buildProgram, invokedCommand } from './program.js';
import { EXIT } from './run-action.js';

/** The program for a command line (without node and the script): it loads only the command group the line names (./commands.ts). */
export async function programFor(args: readonly string[]): Promise<Command> {
  const invoked = invokedCommand(args);
  return buildProgram(new Set(invoked === undefined ? [] : [invoked]));
}

/** `mss-sidecar bal list | head`: the reader went away; that ends the output, not in a crash. */
export function endQuietlyWhenStdoutCloses(): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(EXIT.OK);
    throw err;
  });
}
