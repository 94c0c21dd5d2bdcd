// Benchmark: `stats build` over a month of 1,000,000 recipient events (500,000 messages of 2
// recipients, one delivery event each, 2% retried), embedded store. Prints time and peak RSS.
//   node --expose-gc dist/bench/stats.js [recipients]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { configSchema } from '../src/config/schema.js';
import type { JournalEvent } from '../src/journal/events.js';
import { Journal } from '../src/journal/journal.js';
import { loadRegistry } from '../src/registry/load.js';
import { loadOptionsFrom } from '../src/registry/open.js';
import { statsRegistryYaml } from '../src/sandbox/stats-data.js';
import { buildMonth } from '../src/stats/build.js';
import { monthRange } from '../src/stats/month.js';
import { EmbeddedStore } from '../src/store/embedded.js';
import { fmt } from './lib/stats.js';

const recipients = Number(process.argv[2] ?? 1_000_000);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mss-bench-stats-'));
const domains = ['ch-bench.mssante.fr'];
const config = configSchema.parse({
  operator: { name: 'CH BENCH', domains, structureId: '1130000001', certificate: path.join(dir, 'x.crt'), key: path.join(dir, 'x.key') },
  trust: { dir: path.join(dir, 'trust') },
  state: { dir: path.join(dir, 'state') },
  registry: { file: path.join(dir, 'registry.yaml') },
});
const month = { year: 2025, month: 3 };
const range = monthRange(month, config.operator.timeZone);
fs.writeFileSync(config.registry.file, statsRegistryYaml(domains, range));
const store = new EmbeddedStore(path.join(config.state.dir, 'store'));
const journal = new Journal(store);

const t0 = Date.now();
const messages = recipients / 2;
const span = range.endMs - range.startMs - 3_600_000;
let batch: JournalEvent[] = [];
for (let i = 0; i < messages; i++) {
  const at = new Date(range.startMs + Math.floor((i / messages) * span)).toISOString();
  const mailId = `B${i.toString(36).toUpperCase().padStart(8, '0')}`;
  const rcpt = [`dest${i % 5000}@ch-voisin.mssante.fr`, `autre${i % 777}@ch-loin.mssante.fr`];
  batch.push({ type: 'submitted', at, mailId, sender: 'jean.dupont@ch-bench.mssante.fr', recipients: rcpt, size: 10_000 + (i % 5000), ins: 'O', codeCda: '11488-4', nil: 'LPS/1.0' });
  for (const r of rcpt) {
    if (i % 50 === 0) batch.push({ type: 'delivery', at, mailId, sender: 'jean.dupont@ch-bench.mssante.fr', recipient: r, outcome: 'deferred', reply: '451 try later' });
    batch.push({ type: 'delivery', at, mailId, sender: 'jean.dupont@ch-bench.mssante.fr', recipient: r, outcome: 'delivered' });
  }
  if (batch.length >= 5000) {
    await journal.record(batch);
    batch = [];
  }
}
await journal.record(batch);
await store.close();
process.stdout.write(`journal: ${fmt(messages)} messages, ${fmt(recipients)} recipients written in ${fmt((Date.now() - t0) / 1000, 1)} s\n`);

globalThis.gc?.();
let peak = process.memoryUsage().rss;
const baseline = peak;
const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
const reader = new EmbeddedStore(path.join(config.state.dir, 'store'));
const t1 = Date.now();
const b = await buildMonth({ config, registry: loadRegistry(config.registry.file, loadOptionsFrom(config)), store: reader, month, now: new Date(range.endMs + 86_400_000) });
const ms = Date.now() - t1;
clearInterval(timer);
peak = Math.max(peak, process.memoryUsage().rss);
await reader.close();
const csv = b.files.reduce((n, f) => n + f.bytes, 0);
process.stdout.write(`stats build: ${fmt(b.echanges.lines)} Echanges lines (${fmt(csv / 1e6, 1)} MB CSV, ${fmt(b.archive.bytes / 1e6, 1)} MB ZIP) in ${fmt(ms / 1000, 2)} s (target < 15 s); peak RSS ${fmt(peak / 2 ** 20)} MiB (baseline ${fmt(baseline / 2 ** 20)} MiB)\n`);
fs.rmSync(dir, { recursive: true, force: true });
if (b.echanges.lines !== recipients) {
  process.stderr.write(`expected ${recipients} lines\n`);
  process.exitCode = 1;
}
