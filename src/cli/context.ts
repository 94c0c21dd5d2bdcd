// What every command needs: the configuration (loaded once, on first use, so that commands
// which need none — `sandbox pki`, `whitelist verify FILE --trust DIR` — run without one)
// and a logger.
import type { Command } from 'commander';
import { createLogger, type Logger } from '../log.js';
import { configPathFrom, loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';

export interface CliContext {
  readonly configPath: string;
  config(): Config;
  readonly log: Logger;
}

export function contextFrom(program: Command): CliContext {
  const opts = program.opts<{ config?: string; logLevel?: string }>();
  const configPath = configPathFrom(opts.config);
  let cached: Config | undefined;
  let logger: Logger | undefined;
  return {
    configPath,
    config() {
      cached ??= loadConfig(configPath);
      return cached;
    },
    get log() {
      logger ??= createLogger({ level: (opts.logLevel ?? process.env.MSS_LOG_LEVEL ?? cached?.log.level ?? 'info') as never });
      return logger;
    },
  };
}
