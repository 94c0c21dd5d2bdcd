// A registry change made by a command or a job (bal …, the lifecycle's deletions, the
// Annuaire's corrections): with several nodes (a Redis store) it runs as the cluster's only
// registry change, on the cluster's latest version, and is sent to the other nodes at once
// (registry-sync.ts); with the embedded store it just runs.
import type { Logger } from '../log.js';
import type { StateStore } from '../store/store.js';
import { RegistrySync } from './registry-sync.js';

export async function registryChange<T>(
  store: StateStore | undefined,
  file: string,
  stateDir: string | undefined,
  fn: () => T | Promise<T>,
  log?: Logger,
): Promise<T> {
  if (store?.backend !== 'redis' || stateDir === undefined) return fn();
  return new RegistrySync(store, file, stateDir, log).edit(fn);
}
