// Where a run of the CLI writes and how it ends. bin/mss-sidecar runs the program on the
// process (stdout, stderr, the exit status); tests build the same program on a CliIo of their
// own and run commands in-process (test/helpers/cli-in-process.ts): no process per command,
// the output and the status as a person would see them.
import type { Command } from 'commander';

export interface CliOutput {
  write(text: string): unknown;
}

export interface CliIo {
  readonly stdout: CliOutput;
  readonly stderr: CliOutput;
  /** The exit status of the command that ran (run-action.ts EXIT). */
  setStatus(status: number): void;
  /**
   * A usage error, --help or --version ended the parse with this status: the process exits,
   * an in-process run is told by the CommanderError commander throws.
   */
  readonly exitOnParseEnd: boolean;
}

export const PROCESS_IO: CliIo = {
  stdout: process.stdout,
  stderr: process.stderr,
  setStatus: (status) => {
    process.exitCode = status;
  },
  exitOnParseEnd: true,
};

const ioOfProgram = new WeakMap<Command, CliIo>();

export function attachIo(program: Command, io: CliIo): void {
  ioOfProgram.set(program, io);
}

/** The io of the program a (sub)command belongs to. */
export function ioOf(cmd: Command): CliIo {
  let root = cmd;
  while (root.parent) root = root.parent;
  return ioOfProgram.get(root) ?? PROCESS_IO;
}
