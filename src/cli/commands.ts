import type { Command } from 'commander';
import type { CliContext } from './context.js';
import { registerConfigCommands } from './config-commands.js';
import { registerServeCommand } from './serve-command.js';
import { registerSandboxCommands } from './sandbox-commands.js';
import { registerWhitelistCommands } from './whitelist-commands.js';
import { registerBalCommands } from './bal-commands.js';
import { registerLifecycleCommands } from './lifecycle-commands.js';
import { registerTracesCommands } from './traces-commands.js';
import { registerAutoconfigCommands } from './autoconfig-command.js';
import { registerStatsCommands } from './stats-commands.js';
import { registerAnnuaireCommands } from './annuaire-commands.js';
import { registerCrlCommands } from './crl-commands.js';
import { registerStatusCommand } from './status-command.js';

/** A command group adds its subcommands to the program; ctx() is called inside actions. */
export type CommandGroup = (program: Command, ctx: () => CliContext) => void;

export const commandGroups: CommandGroup[] = [registerConfigCommands, registerServeCommand, registerWhitelistCommands, registerSandboxCommands, registerBalCommands, registerLifecycleCommands, registerTracesCommands, registerAutoconfigCommands, registerStatsCommands, registerAnnuaireCommands, registerCrlCommands, registerStatusCommand];
