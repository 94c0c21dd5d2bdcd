// Statistics fixtures: a configuration, a registry and a journal for a synthetic month.
import fs from 'node:fs';
import path from 'node:path';
import { configSchema, type Config } from '../../src/config/schema.js';
import { Journal } from '../../src/journal/journal.js';
import { loadRegistry } from '../../src/registry/load.js';
import { loadOptionsFrom } from '../../src/registry/open.js';
import type { Registry } from '../../src/registry/registry.js';
import { RuntimeFields } from '../../src/registry/runtime.js';
import { STATS_LOGINS_RECORDED_SINCE, statsJournalEvents, statsRegistryYaml, statsRuntime } from '../../sandbox/stats-data.js';
import { monthRange, type Month } from '../../src/stats/month.js';
import { EmbeddedStore } from '../../src/store/embedded.js';
import type { StateStore } from '../../src/store/store.js';
import { tmpDir } from './tmp.js';

export const STATS_DOMAINS = ['ch-test.mssante.fr', 'labo.ch-test.mssante.fr'];
/** March 2025: Europe/Paris goes from +01:00 to +02:00 on the 30th. */
export const GOLDEN_MONTH: Month = { year: 2025, month: 3 };

export function statsTestConfig(dir: string, extra: Record<string, unknown> = {}, operator: Record<string, unknown> = {}): Config {
  return configSchema.parse({
    operator: {
      name: 'CH TEST',
      domains: STATS_DOMAINS,
      structureId: '1130000001',
      certificate: path.join(dir, 'op.crt'),
      key: path.join(dir, 'op.key'),
      ...operator,
    },
    trust: { dir: path.join(dir, 'trust') },
    state: { dir: path.join(dir, 'state') },
    registry: { file: path.join(dir, 'registry.yaml') },
    stats: { loginsRecordedSince: STATS_LOGINS_RECORDED_SINCE, ...extra },
  });
}

export interface StatsWorld {
  dir: string;
  config: Config;
  store: StateStore;
  registry: Registry;
}

/** A directory with the synthetic registry, journal and run-time fields of `month`. */
export async function statsWorld(month: Month = GOLDEN_MONTH, extra: Record<string, unknown> = {}): Promise<StatsWorld> {
  const dir = tmpDir('mss-stats-');
  const config = statsTestConfig(dir, extra);
  const range = monthRange(month, config.operator.timeZone);
  fs.writeFileSync(config.registry.file, statsRegistryYaml(STATS_DOMAINS, range));
  const store = new EmbeddedStore(path.join(config.state.dir, 'store'));
  await new Journal(store).record(statsJournalEvents(STATS_DOMAINS, range));
  const rt = new RuntimeFields(store);
  for (const r of statsRuntime(STATS_DOMAINS, range)) {
    if (r.lastLogin) await rt.setLastLogin(r.address, r.lastLogin);
    if (r.lastExchange) await rt.setLastExchange(r.address, r.lastExchange);
  }
  return { dir, config, store, registry: loadRegistry(config.registry.file, loadOptionsFrom(config)) };
}
