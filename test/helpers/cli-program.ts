// The CLI's program built in-process (every command group loaded), for tests whose point is
// what the commands and options are, not how a process runs them: no process per question.
import type { Command } from 'commander';
import { buildProgram } from '../../src/cli/program.js';

let program: Promise<Command> | undefined;

/** `mss-sidecar WORDS --help` as the CLI prints it, or undefined when WORDS name no command. */
export async function helpOf(words: readonly string[]): Promise<string | undefined> {
  program ??= buildProgram('all');
  let cmd: Command | undefined = await program;
  for (const word of words) cmd = cmd?.commands.find((c) => c.name() === word || c.aliases().includes(word));
  return cmd?.helpInformation();
}

/** Whether a command's help lists an option (`--name`, alone or beside its short form). */
export function listsOption(help: string, option: string): boolean {
  return new RegExp(`(?:^|[ ,])${option}(?:[ ,]|$)`, 'm').test(help);
}
