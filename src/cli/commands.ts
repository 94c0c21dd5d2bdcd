import type { Command } from 'commander';
import type { CliContext } from './context.js';
import { registerConfigCommands } from './config-commands.js';
import { registerServeCommand } from './serve-command.js';

/** A command group adds its subcommands to the program; ctx() is called inside actions. */
export type CommandGroup = (program: Command, ctx: () => CliContext) => void;

export const commandGroups: CommandGroup[] = [registerConfigCommands, registerServeCommand];
