// Benchmarks of the registry and the journal (make bench). Targets (issue 3): load and
// validate 50,000 mailboxes in < 1 s; canUse > 1,000,000 lookups/s. Also measured: the
// cold load of a hand-edited file, a CLI edit on the big file, and the journal the
// statistics read (1,000,000 recipient events).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { Journal } from '../src/journal/journal.js';
import type { JournalEvent } from '../src/journal/events.js';
import { loadRegistry, loadRegistryText } from '../src/registry/load.js';
import * as ops from '../src/registry/operations.js';
import { validateEntries } from '../src/registry/rules.js';
import { EmbeddedStore } from '../src/store/embedded.js';
import { TraceLog } from '../src/traces/trace-log.js';
import { runLifecycle } from '../src/lifecycle/run.js';
import { lifecycleSection } from '../src/lifecycle/config.js';
import { DOMAIN, LOAD, bigRegistryYaml } from '../test/helpers/registry.js';

const N = Number(process.env.BENCH_MAILBOXES ?? 50_000);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mss-bench-'));
const ms = (t0: number): string => `${(performance.now() - t0).toFixed(0)} ms`;
const mb = (b: number): string => `${(b / 1048576).toFixed(0)} MB`;
let peakRss = 0;
const sample = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 50);

try {
  const file = path.join(dir, 'registry.yaml');
  const text = bigRegistryYaml(N);
  fs.writeFileSync(file, text);
  const load = { ...LOAD, stateDir: path.join(dir, 'state') };
  process.stdout.write(`registry: ${N} mailboxes, ${mb(text.length)} of YAML\n`);

  let t0 = performance.now();
  loadRegistryText(file, text, load);
  process.stdout.write(`  cold load (YAML parse + validate + cache write, after a hand edit): ${ms(t0)}\n`);
  global.gc?.();

  {
    const raw = (parse(text) as { mailboxes: unknown[] }).mailboxes;
    t0 = performance.now();
    const v = validateEntries(raw, load);
    process.stdout.write(`  validation alone (schema + every rule, ${v.entries.length} entries): ${ms(t0)}\n`);
  }
  global.gc?.();

  const loads: number[] = [];
  let reg = loadRegistry(file, load);
  for (let i = 0; i < 5; i++) {
    global.gc?.();
    t0 = performance.now();
    reg = loadRegistry(file, load);
    loads.push(performance.now() - t0);
  }
  if (reg.size !== N + 1) throw new Error('wrong size');
  process.stdout.write(
    `  load from the compiled cache in this process (read, hash, JSON, index): best ${Math.min(...loads).toFixed(0)} ms, worst ${Math.max(...loads).toFixed(0)} ms\n`,
  );
  // What a CLI command or a starting daemon sees: a fresh process, nothing warmed up.
  const script = `import { loadRegistry } from ${JSON.stringify(new URL('../src/registry/load.js', import.meta.url).href)};
    const t = performance.now(); const r = loadRegistry(${JSON.stringify(file)}, ${JSON.stringify(load)});
    process.stdout.write(JSON.stringify({ ms: performance.now() - t, size: r.size }));`;
  const fresh = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })) as { ms: number; size: number };
  process.stdout.write(`  load + validate of ${fresh.size} mailboxes in a fresh process (target < 1000 ms): ${fresh.ms.toFixed(0)} ms\n`);

  const pairs: Array<[string, string]> = [];
  for (let i = 0; i < 1024; i++) {
    const k = (i * 7919) % N;
    const id = String(10_000_000_000 + k);
    pairs.push([i % 2 ? `8${id}` : `8${String(20_000_000_000 + k)}`, `prenom${k}.nom${k}@${DOMAIN}`]);
  }
  let allowed = 0;
  const LOOKUPS = 10_000_000;
  t0 = performance.now();
  for (let i = 0; i < LOOKUPS; i++) {
    const p = pairs[i & 1023] as [string, string];
    if (reg.canUse(p[0], p[1]).allowed) allowed++;
  }
  const secs = (performance.now() - t0) / 1000;
  if (allowed !== LOOKUPS) throw new Error(`canUse refused ${LOOKUPS - allowed} lookups`);
  process.stdout.write(`  canUse (target > 1,000,000/s): ${(LOOKUPS / secs / 1e6).toFixed(1)} million lookups/s\n`);

  const traces = new TraceLog(path.join(dir, 'traces'));
  const env: ops.EditEnv = { file, load, traces, actor: { id: 'admin:bench', kind: 'admin' } };
  t0 = performance.now();
  ops.addDelegate(env, `prenom${N - 1}.nom${N - 1}@${DOMAIN}`, { idNat: '810000000999' }, `8${String(10_000_000_000 + N - 1)}`);
  process.stdout.write(`  CLI edit on the big file (lock, cache, splice one entry, validate all, atomic write, trace): ${ms(t0)}\n`);
  traces.close();

  {
    const lstore = new EmbeddedStore(path.join(dir, 'lifecycle-store'));
    const ltraces = new TraceLog(path.join(dir, 'traces'));
    t0 = performance.now();
    const report = await runLifecycle(
      {
        file,
        load,
        store: lstore,
        traces: ltraces,
        notices: { blockedFor: () => undefined, send: async () => ({ to: 'x' }), close: () => undefined },
        config: lifecycleSection.parse({ activityKnownSince: '2020-01-01' }),
        stats: {},
        actor: { id: 'system:bench', kind: 'system' },
      },
      { now: new Date('2025-06-01T03:00:00Z'), dryRun: true },
    );
    process.stdout.write(`  lifecycle dry run over ${N} mailboxes (registry, run-time state, plan): ${ms(t0)}, ${report.actions.length} actions\n`);
    ltraces.close();
    await lstore.close();
  }

  const store = new EmbeddedStore(path.join(dir, 'store'));
  const journal = new Journal(store);
  const start = Date.UTC(2025, 2, 1);
  const step = (31 * 86_400_000) / EVENTS;
  t0 = performance.now();
  const batch: JournalEvent[] = [];
  for (let i = 0; i < EVENTS; i++) {
    batch.push({
      type: 'delivery',
      at: new Date(start + Math.floor(i * step)).toISOString(),
      mailId: `Q${Math.floor(i / 3)}`,
      sender: `prenom${i % N}.nom${i % N}@${DOMAIN}`,
      recipient: `dest${i}@autre.mssante.fr`,
      outcome: 'delivered',
    });
    if (batch.length === 1000) await journal.record(batch.splice(0));
  }
  await journal.record(batch.splice(0));
  await store.close();
  process.stdout.write(`journal: ${EVENTS} delivery events written in ${ms(t0)}\n`);
  const reader = new EmbeddedStore(path.join(dir, 'store'));
  global.gc?.();
  const rssBefore = process.memoryUsage.rss();
  peakRss = rssBefore;
  t0 = performance.now();
  let n = 0;
  for await (const e of new Journal(reader).read({ from: new Date(start), to: new Date(Date.UTC(2025, 3, 1)) })) if (e.type === 'delivery') n++;
  process.stdout.write(`  read back the month (${n} events, streamed): ${ms(t0)}, RSS ${mb(rssBefore)} before, peak ${mb(peakRss)}\n`);
  await reader.close();
} finally {
  clearInterval(sample);
  fs.rmSync(dir, { recursive: true, force: true });
}
