// The month's statistics of a two-node cluster (A1 and A2 on one Redis, the sandbox SIPIL):
// each node journals the events of the messages it handled, and one of them replays its
// events a second time (a spool replayed after an answer lost in a failover); the month
// built from the shared journal is line for line the month a single node builds from the
// same events written once (EX_PSU_5830: each recipient event counted exactly once); and
// `stats run --once-per hour` started on both nodes at once uploads the month to SIPIL once.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { stringify } from 'yaml';
import { loadConfig } from '../../src/config/load.js';
import type { JournalEvent } from '../../src/journal/events.js';
import { Journal } from '../../src/journal/journal.js';
import { monthRange } from '../../src/stats/month.js';
import { openStore } from '../../src/store/open.js';
import { whitelistPaths } from '../../src/whitelist/store.js';
import { controlSipil, type SandboxSipilServer } from '../../sandbox/sipil-server.js';
import { statsJournalEvents, statsRegistryYaml } from '../../sandbox/stats-data.js';
import type { PkiManifest } from '../../sandbox/pki.js';
import { runCliAsync } from '../helpers/cli.js';
import { testPki } from '../helpers/pki.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { startSipil } from '../helpers/sipil.js';
import { tmpDir } from '../helpers/tmp.js';
import { signedList } from '../helpers/whitelist.js';

const MONTH = { year: 2025, month: 10 };
const NOW = new Date('2025-11-01T00:30:00+01:00');

let pki: PkiManifest;
let sipil: SandboxSipilServer;
let redis: RedisServer;
const dir = tmpDir('mss-cluster-stats-');

before(async () => {
  pki = await testPki();
  sipil = await startSipil(pki, dir);
  redis = await startRedis();
});
after(async () => {
  await sipil?.stop();
  await redis?.stop();
});

/** Operator A's configuration on node `node` (Redis with `prefix`), or a single node on the embedded store. */
function nodeConfig(name: string, cluster?: { prefix: string; node: string }): string {
  const op = pki.operators[0] as PkiManifest['operators'][number];
  const base = path.join(dir, name);
  fs.mkdirSync(base, { recursive: true });
  const registry = path.join(base, 'registry.yaml');
  fs.writeFileSync(registry, statsRegistryYaml(op.domains, monthRange(MONTH, 'Europe/Paris')));
  const stateDir = path.join(base, 'state');
  const wl = whitelistPaths(stateDir);
  fs.mkdirSync(path.dirname(wl.file), { recursive: true });
  fs.writeFileSync(wl.file, signedList(pki));
  const file = path.join(base, 'config.yaml');
  fs.writeFileSync(
    file,
    stringify({
      operator: { name: op.organisation, domains: op.domains, structureId: op.structureId, certificate: op.cert, key: op.key },
      trust: { dir: pki.trustDir, crlDir: pki.crlDir },
      state: { dir: stateDir, ...(cluster ? { redis: { url: redis.url, keyPrefix: `${cluster.prefix}:` } } : {}) },
      registry: { file: registry },
      stats: { sipil: { postFileUrl: `${sipil.baseUrl}/postFile`, getReportUrl: `${sipil.baseUrl}/getReport` } },
      ...(cluster ? { cluster: { node: cluster.node, leaseTtlMs: 5000 } } : {}),
    }),
  );
  return file;
}

/** Events journaled through `config`'s store with their ids (a node's writes, a replay). */
async function journal(config: string, events: JournalEvent[], ids: string[]): Promise<void> {
  const store = openStore(loadConfig(config).state);
  try {
    await new Journal(store).record(events, { ids });
  } finally {
    await store.close();
  }
}

interface Build {
  echanges: { lines: number; messages: number };
  files: Array<{ name: string; lines: number }>;
}

async function build(config: string): Promise<{ build: Build; csv: string[] }> {
  const r = await runCliAsync(['--config', config, 'stats', 'build', '--month', '2025-10', '--now', NOW.toISOString(), '--json']);
  assert.equal(r.status, 0, r.stderr);
  const b = JSON.parse(r.stdout) as Build & { dir: string };
  const csv = fs
    .readdirSync(b.dir)
    .filter((f) => f.endsWith('.csv'))
    .sort()
    .map((f) => fs.readFileSync(path.join(b.dir, f), 'utf8'));
  return { build: b, csv };
}

test('EX_PSU_5830: the month built from two nodes journals, one of them replayed twice, is the month one node builds from the same events written once', async () => {
  const op = pki.operators[0] as PkiManifest['operators'][number];
  const events = statsJournalEvents(op.domains, monthRange(MONTH, 'Europe/Paris'));
  const ids = events.map((_, i) => `event-${i}`);
  const half = Math.ceil(events.length / 2);
  const single = nodeConfig('single');
  await journal(single, events, ids);
  const a1 = nodeConfig('two-a1', { prefix: 'stats2', node: 'A1' });
  const a2 = nodeConfig('two-a2', { prefix: 'stats2', node: 'A2' });
  await journal(a1, events.slice(0, half), ids.slice(0, half));
  await journal(a2, events.slice(half), ids.slice(half));
  await journal(a1, events.slice(0, half), ids.slice(0, half)); // A1's spool replayed again

  const one = await build(single);
  const two = await build(a1);
  assert.ok(one.build.echanges.lines > 0, 'the sandbox month has lines');
  assert.equal(two.build.echanges.lines, one.build.echanges.lines, 'each recipient event once');
  assert.equal(two.build.echanges.messages, one.build.echanges.messages);
  assert.deepEqual(two.csv, one.csv, 'the same files, line for line');

  // `stats run` started by both nodes' timers at once: one upload.
  const deposits = async (): Promise<number> => ((await controlSipil(sipil.controlUrl, '/')) as { deposits: unknown[] }).deposits.length;
  const before = await deposits();
  await controlSipil(sipil.controlUrl, `/clock?offsetMs=${NOW.getTime() - Date.now()}`);
  try {
    const runs = await Promise.all([a1, a2].map((c) => runCliAsync(['--config', c, 'stats', 'run', '--once-per', 'hour', '--now', NOW.toISOString()])));
    assert.deepEqual(
      runs.map((r) => r.status),
      [0, 0],
      runs.map((r) => r.stdout + r.stderr).join('\n'),
    );
    assert.equal(runs.filter((r) => /already done by A[12]\/\d+/.test(r.stdout + r.stderr)).length, 1, 'the other node found the run done');
  } finally {
    await controlSipil(sipil.controlUrl, '/clock?offsetMs=0');
  }
  assert.equal((await deposits()) - before, 1, 'the month uploaded to SIPIL once');
});
