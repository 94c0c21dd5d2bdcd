// The nightly jobs that talk to the ANS, on a two-node cluster (A1 and A2: two
// configurations, two state directories, one Redis), run as the timers run them (the real
// CLI with --once-per): `annuaire publish` and `annuaire report` started on both nodes at
// once send one feed and fetch the report once (the sandbox Annuaire counts the tickets it
// received); `stats run` started on both nodes at once uploads the month to SIPIL once.
// test/integration/cluster-jobs.test.ts covers the lifecycle job, the takeover after a
// SIGKILL, a paused node and a node cut off from Redis.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, test } from 'node:test';
import { parse, stringify } from 'yaml';
import { openStore } from '../../src/store/open.js';
import { loadConfig } from '../../src/config/load.js';
import { operatorAConfig, startAnnuaireSandbox, type AnnuaireSandbox } from '../helpers/annuaire.js';
import { runCliAsync, type CliResult } from '../helpers/cli.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';

let sb: AnnuaireSandbox;
let redis: RedisServer;

before(async () => {
  redis = await startRedis();
  sb = await startAnnuaireSandbox();
});
after(async () => {
  await sb?.stop();
  await redis?.stop();
});

/** Operator A's configuration for node `node` of a cluster on Redis key prefix `prefix`. */
function nodeConfig(prefix: string, node: string): string {
  const op = operatorAConfig(sb);
  const c = parse(fs.readFileSync(op.file, 'utf8')) as Record<string, unknown>;
  c.state = { ...(c.state as object), redis: { url: redis.url, keyPrefix: `${prefix}:` } };
  c.cluster = { node, leaseTtlMs: 5000 };
  fs.writeFileSync(op.file, stringify(c));
  return op.file;
}

const NIGHT = (hhmm: string): string => new Date(`2026-03-10T${hhmm}:00+01:00`).toISOString();

async function bothAtOnce(configs: string[], ...args: string[]): Promise<CliResult[]> {
  return Promise.all(configs.map((file) => runCliAsync(['--config', file, ...args])));
}

async function jobRuns(config: string, job: string): Promise<string[]> {
  const store = openStore(loadConfig(config).state);
  try {
    const keys: string[] = [];
    for await (const k of store.scan(`job-run:${job}:`)) keys.push(k);
    return keys;
  } finally {
    await store.close();
  }
}

test('EX_1.1.1_5010: `annuaire publish --once-per day` started on both nodes at once sends one feed; `annuaire report --once-per hour` on both fetches it once', async () => {
  const configs = [nodeConfig('ans1', 'A1'), nodeConfig('ans1', 'A2')];
  for (const file of configs) assert.equal((await runCliAsync(['--config', file, 'whitelist', 'sync'])).status, 0);
  const ticketsBefore = ((await sb.control('/')) as { tickets: unknown[] }).tickets.length;

  const pub = await bothAtOnce(configs, 'annuaire', 'publish', '--once-per', 'day', '--now', NIGHT('01:00'), '--actor', 'system:annuaire');
  assert.deepEqual(
    pub.map((r) => r.status),
    [0, 0],
    pub.map((r) => r.stderr).join('\n'),
  );
  const tickets = ((await sb.control('/')) as { tickets: Array<{ ticket: string }> }).tickets.slice(ticketsBefore);
  assert.equal(tickets.length, 1, `one feed received by the Annuaire across the cluster: ${JSON.stringify(tickets)}`);
  assert.equal(pub.filter((r) => /already done by A[12]\/\d+/.test(r.stdout + r.stderr)).length, 1, 'the other node found the run done');
  assert.equal((await jobRuns(configs[0] as string, 'annuaire-publish')).length, 1);

  await sb.control('/batch');
  const rep = await bothAtOnce(configs, 'annuaire', 'report', '--once-per', 'hour', '--now', NIGHT('05:00'), '--actor', 'system:annuaire');
  assert.deepEqual(
    rep.map((r) => r.status),
    [0, 0],
    rep.map((r) => r.stdout + r.stderr).join('\n'),
  );
  assert.equal(rep.filter((r) => /already done by A[12]\/\d+/.test(r.stdout + r.stderr)).length, 1, 'one node fetched the report, the other found it done');
  assert.equal((await jobRuns(configs[0] as string, 'annuaire-report')).length, 1);
});
