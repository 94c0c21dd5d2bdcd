// Debian's Prometheus scrapes a sandbox operator's `serve` (/metrics) with the shipped
// alert rules loaded: the target is up, every rule evaluates without error against the real
// series, and an alert goes pending on what the daemon reports (EX_SSI_5120).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { REPO_ROOT } from '../helpers/cli.js';
import { gateWorld, type TestWorld } from '../helpers/gates.js';
import { freePorts } from '../helpers/ports.js';
import { spawnTracked, type Spawned } from '../helpers/processes.js';
import { tmpDir } from '../helpers/tmp.js';

const RULES = path.join(REPO_ROOT, 'examples', 'prometheus', 'alerts.yml');
let world: TestWorld;
let prometheus: Spawned;
let promPort: number;

before(async () => {
  const [metricsPort, port] = (await freePorts(2)) as [number, number];
  promPort = port;
  world = await gateWorld({
    mta: 'none',
    operators: ['A'],
    configure: (_op, c) => {
      c.health = { metrics: { enabled: true, listen: { host: '127.0.0.1', port: metricsPort }, cacheMs: 500 } };
    },
  });
  const dir = tmpDir('mss-prometheus-');
  const config = path.join(dir, 'prometheus.yml');
  fs.writeFileSync(
    config,
    `global: { scrape_interval: 1s, evaluation_interval: 1s }
rule_files: ['${RULES}']
scrape_configs:
  - job_name: mss-sidecar
    static_configs: [{ targets: ['127.0.0.1:${metricsPort}'] }]
`,
  );
  const check = spawnSync('promtool', ['check', 'config', config], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(check.error, undefined, 'promtool is missing: scripts/install-system-deps.sh installs the Debian package prometheus');
  assert.equal(check.status, 0, check.stdout + check.stderr);
  prometheus = spawnTracked('prometheus', [
    `--config.file=${config}`,
    `--storage.tsdb.path=${path.join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${promPort}`,
    '--log.level=warn',
  ]);
});
after(async () => {
  await prometheus?.stop();
  await world?.stop();
});

function api<T>(p: string): Promise<T> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port: promPort, path: `/api/v1/${p}` }, (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => {
          try {
            resolve((JSON.parse(text) as { data: T }).data);
          } catch (err) {
            reject(err);
          }
        });
      })
      .on('error', reject);
  });
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (prometheus.child.exitCode !== null) throw new Error(`prometheus exited (${prometheus.child.exitCode}):\n${prometheus.output()}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (${String(last ?? '')}):\n${prometheus.output().slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

interface Rule {
  name: string;
  health: string;
  lastError?: string;
  evaluationTime: number;
  lastEvaluation: string;
}

test("EX_SSI_5120: Debian's Prometheus scrapes serve's /metrics and evaluates every shipped alert rule without error; an alert goes pending on the daemon's own report", async () => {
  const target = await until('the scrape of serve', async () => {
    const t = await api<{ activeTargets: Array<{ health: string; lastError: string; scrapeUrl: string }> }>('targets');
    return t.activeTargets[0]?.health === 'up' ? t.activeTargets[0] : undefined;
  });
  assert.match(target.scrapeUrl, /\/metrics$/);
  const rules = await until('every rule evaluated', async () => {
    const r = await api<{ groups: Array<{ rules: Rule[] }> }>('rules');
    const all = r.groups.flatMap((g) => g.rules);
    return all.length > 0 && all.every((x) => !x.lastEvaluation.startsWith('0001-')) ? all : undefined;
  });
  assert.deepEqual(
    rules.filter((r) => r.health !== 'ok').map((r) => `${r.name}: ${r.lastError}`),
    [],
  );
  assert.ok(rules.length >= 10);
  const series = await api<{ result: Array<{ metric: Record<string, string> }> }>('query?query=mss_check_status');
  assert.ok(
    series.result.some((s) => s.metric.check === 'whitelist.age' && s.metric.job === 'mss-sidecar'),
    'the checks arrive as series',
  );
  // The sandbox node has a list but no `whitelist sync` record: whitelist.age is critical,
  // so MssCheckCritical (for: 10m) is pending within seconds.
  const pending = await until('MssCheckCritical pending', async () => {
    const a = await api<{ alerts: Array<{ labels: Record<string, string>; state: string }> }>('alerts');
    return a.alerts.find((x) => x.labels.alertname === 'MssCheckCritical' && x.labels.check === 'whitelist.age');
  });
  assert.equal(pending.state, 'pending');
});
