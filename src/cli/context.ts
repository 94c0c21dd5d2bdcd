// What every command needs: the configuration (loaded once, on first use, so that commands
// which need none — `sandbox pki`, `whitelist verify FILE --trust DIR` — run without one)
// and a logger. The configuration loader (zod, the schemas) and the logger (pino) are ~0.15 s
// of modules: program.ts loads them before an action (prepareContext), except for commands
// marked preparesItsOwnContext, which call prepareContext() only when they need them.
import type { Command } from 'commander';
import type { Config } from '../config/schema.js';
import { configPathFrom } from '../config/path.js';
import { MssError } from '../errors.js';
import type { Logger } from '../log.js';

export interface CliContext {
  readonly configPath: string;
  config(): Config;
  readonly log: Logger;
}

interface Loaders {
  createLogger: typeof import('../log.js').createLogger;
  loadConfig: typeof import('../config/load.js').loadConfig;
}

let loaders: Loaders | undefined;
const selfPreparing = new WeakSet<Command>();

/** Load the configuration loader and the logger, once. */
export async function prepareContext(): Promise<void> {
  if (loaders) return;
  const [log, load] = await Promise.all([import('../log.js'), import('../config/load.js')]);
  loaders = { createLogger: log.createLogger, loadConfig: load.loadConfig };
}

/** Mark a command whose action calls prepareContext() itself, only when it needs a configuration or a logger. */
export function preparesItsOwnContext(cmd: Command): Command {
  selfPreparing.add(cmd);
  return cmd;
}

export function needsPreparedContext(cmd: Command): boolean {
  return !selfPreparing.has(cmd);
}

function ready(): Loaders {
  if (!loaders) throw new MssError('INTERNAL', 'the CLI context was used before prepareContext()');
  return loaders;
}

export function contextFrom(program: Command): CliContext {
  const opts = program.opts<{ config?: string; logLevel?: string }>();
  const configPath = configPathFrom(opts.config);
  let cached: Config | undefined;
  let logger: Logger | undefined;
  return {
    configPath,
    config() {
      cached ??= ready().loadConfig(configPath);
      return cached;
    },
    get log() {
      logger ??= ready().createLogger({ level: (opts.logLevel ?? process.env.MSS_LOG_LEVEL ?? cached?.log.level ?? 'info') as never });
      return logger;
    },
  };
}
