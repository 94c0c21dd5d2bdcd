// Wiring from the configuration, shared by the daemon services and the CLI.
import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import { tracesDir } from '../traces/config.js';
import { TraceLog } from '../traces/trace-log.js';
import { RegistryHolder } from './holder.js';
import { loadRegistry, type LoadOptions } from './load.js';
import type { Registry } from './registry.js';

export function loadOptionsFrom(config: Config): LoadOptions {
  return {
    domains: config.operator.domains,
    finessRegistered: config.operator.finessRegistered,
    finessJuridique: config.operator.finessJuridique,
    stateDir: config.state.dir,
  };
}

/** For daemons: the registry, reloaded when the file changes. */
export function openRegistryHolder(config: Config, log?: Logger): Promise<RegistryHolder> {
  return RegistryHolder.open({ file: config.registry.file, load: loadOptionsFrom(config), pollMs: config.registry.pollMs, ...(log ? { log } : {}) });
}

/** For jobs: the registry as it is now. */
export function loadRegistryFrom(config: Config): Registry {
  return loadRegistry(config.registry.file, loadOptionsFrom(config));
}

export function openTraceLog(config: Config): TraceLog {
  return new TraceLog(tracesDir(config.traces, config.state.dir));
}
