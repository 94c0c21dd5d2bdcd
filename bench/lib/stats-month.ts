// The synthetic month of bench/stats.ts: one managed domain, 2 recipients per message, one
// delivery event per recipient, 2% of messages retried once (a `deferred` then a
// `delivered`), embedded store, March 2025 in the operator's zone (a DST change inside).
// Written once per directory and reused: the figures are the build's, not the writing's.
import fs from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { configSchema, type Config } from '../../src/config/schema.js';
import type { JournalEvent } from '../../src/journal/events.js';
import { Journal } from '../../src/journal/journal.js';
import { statsRegistryYaml } from '../../sandbox/stats-data.js';
import { monthRange } from '../../src/stats/month.js';
import { EmbeddedStore } from '../../src/store/embedded.js';

export const BENCH_MONTH = { year: 2025, month: 3 };
const DOMAINS = ['ch-bench.mssante.fr'];

export function benchConfig(dir: string): Config {
  return configSchema.parse({
    operator: { name: 'CH BENCH', domains: DOMAINS, structureId: '1130000001', certificate: path.join(dir, 'x.crt'), key: path.join(dir, 'x.key') },
    trust: { dir: path.join(dir, 'trust') },
    state: { dir: path.join(dir, 'state') },
    registry: { file: path.join(dir, 'registry.yaml') },
  });
}

/** The build time the bench uses: a day after the month. */
export function benchNow(config: Config): Date {
  return new Date(monthRange(BENCH_MONTH, config.operator.timeZone).endMs + 86_400_000);
}

export const journalDir = (config: Config): string => path.join(config.state.dir, 'store', 'journal');

/** The configuration file `mss-sidecar --config` reads for the same installation. */
export const configFile = (dir: string): string => path.join(dir, 'config.yaml');

/**
 * The environment the shipped stats unit runs `mss-sidecar stats run` with, as far as the
 * process's memory goes (systemd/mss-sidecar-stats.service: NODE_OPTIONS, MALLOC_ARENA_MAX):
 * the bench and the memory test run the build as the timer does.
 */
export function statsUnitEnvironment(repoRoot: string): Record<string, string> {
  const unit = fs.readFileSync(path.join(repoRoot, 'systemd', 'mss-sidecar-stats.service'), 'utf8');
  const env: Record<string, string> = {};
  for (const m of unit.matchAll(/^Environment=(?:"([^"]*)"|(\S*))$/gm)) {
    const assignment = m[1] ?? m[2] ?? '';
    const eq = assignment.indexOf('=');
    const name = assignment.slice(0, eq);
    if (name === 'NODE_OPTIONS' || name.startsWith('MALLOC_')) env[name] = assignment.slice(eq + 1);
  }
  return env;
}

/** The NODE_OPTIONS of the stats unit ('' if none). */
export const statsUnitNodeOptions = (repoRoot: string): string => statsUnitEnvironment(repoRoot).NODE_OPTIONS ?? '';

/** Writes the month under `dir` unless a previous run left it complete (a marker file). */
export async function writeBenchMonth(dir: string, recipients: number): Promise<{ config: Config; reused: boolean }> {
  const config = benchConfig(dir);
  const marker = path.join(dir, `complete-${recipients}-v1`);
  if (fs.existsSync(marker)) return { config, reused: true };
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(
    configFile(dir),
    stringify({
      operator: { name: 'CH BENCH', domains: DOMAINS, structureId: '1130000001', certificate: path.join(dir, 'x.crt'), key: path.join(dir, 'x.key') },
      trust: { dir: path.join(dir, 'trust') },
      state: { dir: path.join(dir, 'state') },
      registry: { file: path.join(dir, 'registry.yaml') },
    }),
  );
  const range = monthRange(BENCH_MONTH, config.operator.timeZone);
  fs.writeFileSync(config.registry.file, statsRegistryYaml(DOMAINS, range));
  const store = new EmbeddedStore(path.join(config.state.dir, 'store'));
  const journal = new Journal(store);
  const messages = recipients / 2;
  const span = range.endMs - range.startMs - 3_600_000;
  let batch: JournalEvent[] = [];
  for (let i = 0; i < messages; i++) {
    const at = new Date(range.startMs + Math.floor((i / messages) * span)).toISOString();
    const mailId = `B${i.toString(36).toUpperCase().padStart(8, '0')}`;
    const rcpt = [`dest${i % 5000}@ch-voisin.mssante.fr`, `autre${i % 777}@ch-loin.mssante.fr`];
    batch.push({
      type: 'submitted',
      at,
      mailId,
      sender: 'jean.dupont@ch-bench.mssante.fr',
      recipients: rcpt,
      size: 10_000 + (i % 5000),
      ins: 'O',
      codeCda: '11488-4',
      nil: 'LPS/1.0',
    });
    for (const r of rcpt) {
      if (i % 50 === 0)
        batch.push({ type: 'delivery', at, mailId, sender: 'jean.dupont@ch-bench.mssante.fr', recipient: r, outcome: 'deferred', reply: '451 try later' });
      batch.push({ type: 'delivery', at, mailId, sender: 'jean.dupont@ch-bench.mssante.fr', recipient: r, outcome: 'delivered' });
    }
    if (batch.length >= 5000) {
      await journal.record(batch);
      batch = [];
    }
  }
  await journal.record(batch);
  await store.close();
  fs.writeFileSync(marker, '');
  return { config, reused: false };
}
