// The top-level commands of `mss-sidecar`. Each group's file (and everything it imports) is
// loaded only when that command runs or shows its help: `mss-sidecar --help` lists the
// commands from the terms and descriptions below without loading any of them (< 150 ms
// instead of ~0.5 s with every module loaded eagerly).
//
// Adding a command group: one line here. `term` and `description` must be what the group
// registers (test/unit/cli-lazy.test.ts compares this table with the loaded groups).
import type { Command } from 'commander';
import type { CliContext } from './context.js';

/** A command group adds its subcommands to the program; ctx() is called inside actions. */
export type CommandGroup = (program: Command, ctx: () => CliContext) => void;

export interface CommandEntry {
  /** As `mss-sidecar --help` lists it: the name, then `[options]` and the arguments if any. */
  readonly term: string;
  readonly description: string;
  readonly load: () => Promise<CommandGroup>;
}

export const commandGroups: readonly CommandEntry[] = [
  { term: 'config', description: 'inspect the configuration file', load: async () => (await import('./config-commands.js')).registerConfigCommands },
  {
    term: 'serve',
    description: 'run the enabled services (gates, milter, auth endpoint) until SIGTERM',
    load: async () => (await import('./serve-command.js')).registerServeCommand,
  },
  {
    term: 'whitelist',
    description: 'liste blanche (TM4.1P): verify, look up, download',
    load: async () => (await import('./whitelist-commands.js')).registerWhitelistCommands,
  },
  {
    term: 'sandbox [options]',
    description: 'run the ANS side (liste blanche host…) on loopback until SIGINT/SIGTERM; prints "ready"',
    load: async () => (await import('./sandbox-commands.js')).registerSandboxCommands,
  },
  {
    term: 'bal',
    description: 'mailbox (BAL) registry: list, show and change mailboxes',
    load: async () => (await import('./bal-commands.js')).registerBalCommands,
  },
  {
    term: 'lifecycle',
    description: 'mailbox lifecycle: inactivity notices, depublication, deletion, auto-reply purge',
    load: async () => (await import('./lifecycle-commands.js')).registerLifecycleCommands,
  },
  {
    term: 'traces',
    description: 'functional traces: integrity check and retention',
    load: async () => (await import('./traces-commands.js')).registerTracesCommands,
  },
  {
    term: 'autoconfig',
    description: 'API LPS autoconfiguration through DNS SRV records (TM5.1P)',
    load: async () => (await import('./autoconfig-command.js')).registerAutoconfigCommands,
  },
  {
    term: 'stats',
    description: 'monthly usage statistics (Echanges, Connexions) and their upload to SIPIL',
    load: async () => (await import('./stats-commands.js')).registerStatsCommands,
  },
  {
    term: 'annuaire',
    description: 'publication of the mailboxes to the Annuaire Santé (TM1.1.1P) and its reports',
    load: async () => (await import('./annuaire-commands.js')).registerAnnuaireCommands,
  },
  {
    term: 'cluster',
    description: 'several nodes behind one MX: nodes, leases, Redis, shared registry',
    load: async () => (await import('./cluster-commands.js')).registerClusterCommands,
  },
  {
    term: 'crl',
    description: 'IGC-Santé revocation lists (EX_OPE_5050): download, verify, store; status',
    load: async () => (await import('./crl-commands.js')).registerCrlCommands,
  },
  {
    term: 'status [options]',
    description:
      'check what supervision must watch: liste blanche age, CRLs, certificate expiry, CA fingerprints, keys readable by the service user, clock, state store, lifecycle start date',
    load: async () => (await import('./status-command.js')).registerStatusCommand,
  },
  {
    term: 'postfix',
    description: 'check the Postfix side of the perimeter',
    load: async () => (await import('./postfix-commands.js')).registerPostfixCommands,
  },
];

export function nameOf(entry: CommandEntry): string {
  return entry.term.split(' ')[0] as string;
}
