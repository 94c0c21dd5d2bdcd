// What every command needs: the configuration (loaded once, on first use, so that commands
// which need none — `sandbox pki`, `whitelist verify FILE --trust DIR` — run without one)
// and a logger. The configuration loader (zod, the schemas) and the logger (pino) are ~0.15 s
// of modules: program.ts loads them before an action (prepareContext), except for commands
// marked preparesItsOwnContext, which call prepareContext() only when they need them.
import type { Command } from 'commander';
import type { Config } from '../config/schema.js';
import { configPathFrom } from '../config/path.js';
import { useClusterConfig } from '../cluster/identity.js';
import { MssError } from '../errors.js';
import type { Logger } from '../log.js';
import { ioOf, type CliOutput } from './io.js';

export interface CliContext {
  readonly configPath: string;
  config(): Config;
  readonly log: Logger;
  /** Where the command writes its result and its warnings (the program's io, ./io.ts). */
  readonly out: CliOutput;
  readonly err: CliOutput;
}

let createLogger: typeof import('../log.js').createLogger | undefined;
let loadConfig: typeof import('../config/load.js').loadConfig | undefined;
const selfPreparing = new WeakSet<Command>();

/** Load the configuration loader and (unless `configOnly`) the logger, once. */
export async function prepareContext(configOnly = false): Promise<void> {
  loadConfig ??= (await import('../config/load.js')).loadConfig;
  if (!configOnly) createLogger ??= (await import('../log.js')).createLogger;
}

/** Mark a command whose action calls prepareContext() itself, only when it needs a configuration or a logger. */
export function preparesItsOwnContext(cmd: Command): Command {
  selfPreparing.add(cmd);
  return cmd;
}

export function needsPreparedContext(cmd: Command): boolean {
  return !selfPreparing.has(cmd);
}

function loaded<T>(fn: T | undefined): T {
  if (fn === undefined) throw new MssError('INTERNAL', 'the CLI context was used before prepareContext()');
  return fn;
}

export function contextFrom(program: Command): CliContext {
  const opts = program.opts<{ config?: string; logLevel?: string }>();
  const configPath = configPathFrom(opts.config);
  let cached: Config | undefined;
  let logger: Logger | undefined;
  const io = ioOf(program);
  return {
    configPath,
    out: io.stdout,
    err: io.stderr,
    config() {
      if (!cached) {
        cached = loaded(loadConfig)(configPath);
        // This process is this node: its leases name it (cluster/config.ts).
        useClusterConfig(cached.cluster);
      }
      return cached;
    },
    get log() {
      logger ??= loaded(createLogger)({ level: (opts.logLevel ?? process.env.MSS_LOG_LEVEL ?? cached?.log.level ?? 'info') as never });
      return logger;
    },
  };
}
