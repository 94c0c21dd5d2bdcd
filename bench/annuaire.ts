// Benchmark of TM1.1.1P (make bench): build, validate and send a feed of 50,000 mailboxes
// to the sandbox Annuaire (a separate process, so the RSS measured is the client's).
// Target (issue 7): < 5 s, memory bounded. Also measured: the report of that feed.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { loadConfig } from '../src/config/load.js';
import { silentLogger } from '../src/log.js';
import type { SandboxManifest } from '../sandbox/manifest.js';
import { EmbeddedStore } from '../src/store/embedded.js';
import { TraceLog } from '../src/traces/trace-log.js';
import { publish } from '../src/annuaire/publish.js';
import { fetchReports } from '../src/annuaire/report.js';
import { DOMAIN_A, bigRegistryYaml } from '../test/helpers/annuaire.js';
import { killProcessGroup, waitForExit } from '../src/util/process-group.js';

const N = Number(process.env.BENCH_MAILBOXES ?? 50_000);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mss-bench-annuaire-'));
// The sandbox's other components run Postfix and Dovecot workers that must traverse it.
fs.chmodSync(dir, 0o755);
const mb = (b: number): string => `${(b / 1048576).toFixed(0)} MB`;
let peakRss = 0;
const sample = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 20);

const CLI = new URL('../../bin/mss-sidecar', import.meta.url).pathname;
const child = spawn(process.execPath, [CLI, 'sandbox', '--dir', path.join(dir, 'sandbox')], {
  detached: true,
  stdio: ['ignore', 'pipe', 'pipe'],
  env: { ...process.env, MSS_LOG_JSON: '1', MSS_LOG_LEVEL: 'warn' },
});
try {
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`sandbox not ready:\n${out}`)), 60_000);
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (/^ready$/m.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('exit', (code) => reject(new Error(`sandbox exited ${code}:\n${out}`)));
  });
  const m = JSON.parse(fs.readFileSync(path.join(dir, 'sandbox', 'sandbox.json'), 'utf8')) as SandboxManifest;
  const a = m.operators[0] as SandboxManifest['operators'][number];
  const registry = path.join(dir, 'registry.yaml');
  fs.writeFileSync(registry, bigRegistryYaml(N));
  const configFile = path.join(dir, 'config.yaml');
  fs.writeFileSync(
    configFile,
    stringify({
      operator: { name: 'CENTRE HOSPITALIER SANDBOX A', domains: [DOMAIN_A], structureId: '1130099991', certificate: a.cert, key: a.key },
      trust: { dir: m.pki.trustDir },
      state: { dir: path.join(dir, 'state') },
      registry: { file: registry },
      annuaire: { feedUrl: m.endpoints.annuaire?.feedUrl, reportUrl: m.endpoints.annuaire?.reportUrl },
    }),
  );
  const config = loadConfig(configFile);
  // The registry's own cold load (YAML parse, validation, compiled cache) is measured by
  // bench/registry.ts: done once here, in another process, so that this one starts clean.
  execFileSync(process.execPath, [
    '--input-type=module',
    '-e',
    `import { loadConfig } from ${JSON.stringify(new URL('../src/config/load.js', import.meta.url).href)};
    import { loadRegistryFrom } from ${JSON.stringify(new URL('../src/registry/open.js', import.meta.url).href)};
    loadRegistryFrom(loadConfig(${JSON.stringify(configFile)}));`,
  ]);
  global.gc?.();
  const before = process.memoryUsage.rss();
  peakRss = before;

  const store = new EmbeddedStore(path.join(dir, 'state', 'store'));
  const traces = new TraceLog(path.join(dir, 'traces'));
  const deps = { config, store, traces, actor: { id: 'system:bench', kind: 'system' as const }, log: silentLogger, whitelist: null };
  const t0 = performance.now();
  const r = await publish(deps, { now: new Date('2026-01-10T00:30:00Z') });
  const total = performance.now() - t0;
  if (r.outcome !== 'sent') throw new Error(`not sent: ${r.outcome} ${JSON.stringify(r.validation.anomalies.slice(0, 3))}`);
  process.stdout.write(`annuaire: ${N} mailboxes, ${(r.digest.bytes / 1048576).toFixed(1)} MB of feed\n`);
  process.stdout.write(`  registry (compiled cache) + run-time state + feed records: ${r.timingsMs.build} ms\n`);
  process.stdout.write(`  local validation (§9.7.3) + digest: ${r.timingsMs.validate} ms\n`);
  process.stdout.write(`  send over mutual TLS, sandbox parses, checks VIHF and schema, answers the ticket: ${r.timingsMs.send} ms\n`);
  process.stdout.write(`  total build + validate + send (target < 5000 ms): ${total.toFixed(0)} ms; RSS ${mb(before)} before, peak ${mb(peakRss)}\n`);

  await fetch(new URL('/batch', m.endpoints.annuaire?.control), { method: 'POST' });
  const t1 = performance.now();
  const rep = await fetchReports(deps, { now: new Date('2026-01-10T05:00:00Z') });
  const t = rep.tickets[0];
  process.stdout.write(
    `  report (ZIP, checksum, ${t?.report?.domains[0]?.anomalies.length ?? 0} anomalies parsed): ${(performance.now() - t1).toFixed(0)} ms, ${t?.outcome}\n`,
  );
  traces.close();
  await store.close();
} finally {
  clearInterval(sample);
  killProcessGroup(child, 'SIGTERM');
  await waitForExit(child, 5000);
  fs.rmSync(dir, { recursive: true, force: true });
}
