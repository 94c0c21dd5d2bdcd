// One registry and one view across the nodes of a cluster (nodes A1 and A2: two
// configuration files, two state directories and two registry files, one real Redis,
// `serve` running on each as in production): a change made with `bal` on one node, or by
// hand, is on the other node's disk and reloaded within cluster.registrySyncMs; two hand
// edits between two syncs are a conflict that overwrites nothing; `status` and `cluster
// status` show the nodes, the leases, the Redis role and the registry; a node that died
// without saying its spool was empty holds the month's statistics back until it is back or
// forgotten (EX_PSU_5830).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { stringify } from 'yaml';
import { runCliAsync } from '../helpers/cli-async.js';
import { CLI, cliEnv } from '../helpers/cli.js';
import { spawnTracked, waitForOutput, type Spawned } from '../helpers/processes.js';
import { startRedis } from '../helpers/redis.js';
import { DOMAIN, per, registryYaml } from '../helpers/registry.js';
import { until } from '../helpers/sentinel.js';
import { tmpDir } from '../helpers/tmp.js';

const SYNC_MS = 500;
// The documented bound (docs/cluster.md): cluster.registrySyncMs, plus the time to read,
// write and load the file; generous for this shared machine, still far below a minute.
const BOUND_MS = SYNC_MS + 5000;
const X = `xavier.martin@${DOMAIN}`;
const Z = `zoe.bernard@${DOMAIN}`;
const MAILBOXES = [per('xavier.martin', 'Xavier', 'MARTIN', '810000000501'), per('yvonne.durand', 'Yvonne', 'DURAND', '810000000502')];

const redis = await startRedis();
const dir = tmpDir('mss-cluster-registry-');
const serves: Spawned[] = [];
after(async () => {
  await Promise.all(serves.map((s) => s.stop()));
  await redis.stop();
});

interface Node {
  name: string;
  config: string;
  registry: string;
}

/** Two nodes on a fresh key prefix, with the same registry file. */
function cluster(prefix: string): [Node, Node] {
  const nodes = ['A1', 'A2'].map((name) => {
    const d = path.join(dir, prefix, name);
    fs.mkdirSync(path.join(d, 'trust'), { recursive: true });
    fs.writeFileSync(path.join(d, 'registry.yaml'), registryYaml(MAILBOXES));
    fs.writeFileSync(
      path.join(d, 'config.yaml'),
      stringify({
        operator: { name: 'CH Test', domains: [DOMAIN], structureId: '1130000001', certificate: 'op.crt', key: 'op.key', timeZone: 'Europe/Paris' },
        trust: { dir: 'trust' },
        state: { dir: 'state', redis: { url: redis.url, keyPrefix: `${prefix}:` } },
        registry: { file: 'registry.yaml' },
        cluster: { node: name, registrySyncMs: SYNC_MS, heartbeatMs: 500 },
      }),
    );
    return { name, config: path.join(d, 'config.yaml'), registry: path.join(d, 'registry.yaml') };
  });
  return nodes as [Node, Node];
}

async function serve(node: Node): Promise<Spawned> {
  const s = spawnTracked(process.execPath, [CLI, '--config', node.config, 'serve'], { env: cliEnv() });
  serves.push(s);
  await waitForOutput(s, (out) => /"msg":"ready"/.test(out), 30_000);
  return s;
}

const cli = async (node: Node, ...args: string[]) => runCliAsync(['--config', node.config, ...args], { timeoutMs: 60_000 });

/** How long until `file` satisfies `ok` (polled every 20 ms), from now. */
async function timeUntil(file: string, ok: (text: string) => boolean): Promise<number> {
  const start = Date.now();
  await until(() => ok(fs.readFileSync(file, 'utf8')), 60_000, `${file} to change`);
  return Date.now() - start;
}

test('a registry change made with `bal` on node A1 is on node A2 and in use there within cluster.registrySyncMs; a hand edit on A2 comes back to A1 the same way', async () => {
  const [a1, a2] = cluster('edits');
  await serve(a1);
  const s2 = await serve(a2);
  const r = await cli(a1, 'bal', 'set-liste-rouge', X, 'on', '--actor', 'admin');
  assert.equal(r.status, 0, r.stderr);
  await timeUntil(a2.registry, (t) => t === fs.readFileSync(a1.registry, 'utf8'));
  // From the moment A1 sent it to the cluster (registry:head's time) to A2's file written.
  const view = JSON.parse((await cli(a1, 'cluster', 'status', '--json')).stdout) as { view: { registry: { cluster: { at: string; node: string } } } };
  assert.equal(view.view.registry.cluster.node, 'A1');
  const ms = fs.statSync(a2.registry).mtimeMs - Date.parse(view.view.registry.cluster.at);
  assert.ok(ms >= 0 && ms <= BOUND_MS, `A2 had the change ${ms} ms after A1 sent it (bound ${BOUND_MS} ms)`);
  await waitForOutput(
    s2,
    (out) => /registry change of node A1 written here/.test(out) && /"msg":"registry reloaded"/.test(out.slice(out.indexOf('registry change of node A1'))),
    BOUND_MS,
  );
  process.stdout.write(`# bal change sent by A1, written on A2 ${Math.round(ms)} ms later (registrySyncMs ${SYNC_MS})\n`);

  // By hand on A2 (an administrator's editor): A2's serve sends it, A1's takes it.
  fs.writeFileSync(a2.registry, registryYaml([...MAILBOXES, per('zoe.bernard', 'Zoé', 'BERNARD', '810000000503')]));
  const back = await timeUntil(a1.registry, (t) => t.includes(Z));
  assert.ok(back <= 2 * BOUND_MS, `A1 had A2's hand edit after ${back} ms`);
  assert.equal(fs.readFileSync(a1.registry, 'utf8'), fs.readFileSync(a2.registry, 'utf8'));
  const shown = await cli(a1, 'bal', 'show', Z);
  assert.equal(shown.status, 0, shown.stderr);
});

test('`status` and `cluster status` show the cluster: both nodes alive, no lease held, Redis master, registry in sync; a node SIGKILLed shows as not seen', async () => {
  const [a1, a2] = cluster('view');
  await serve(a1);
  const s2 = await serve(a2);
  const status = await cli(a1, 'status');
  assert.match(status.stdout, /^OK +cluster\.nodes +2 of 2 node\(s\) alive: A1 \(this node\) alive .*; A2 alive/m, status.stdout);
  assert.match(status.stdout, /^OK +cluster\.leases +no job lease held/m);
  assert.match(status.stdout, /^OK +cluster\.redis +writes to 127\.0\.0\.1:\d+ \(role master\)/m);
  assert.match(status.stdout, /^OK +cluster\.registry +registry file = cluster version/m);

  await s2.stop('SIGKILL');
  // Its heartbeat key expires after three missed beats.
  await until(
    async () => /A2 NOT SEEN since .* \(did not stop cleanly\)/.test((await cli(a1, 'cluster', 'status')).stdout),
    30_000,
    'A2 to be reported not seen',
  );
  const view = JSON.parse((await cli(a1, 'cluster', 'status', '--json')).stdout) as { checks: Array<{ check: string; severity: string }> };
  assert.equal(view.checks.find((c) => c.check === 'cluster.nodes')?.severity, 'warning');
});

test("EX_PSU_5830: a node that died without saying its spool was empty holds the month's statistics back (its events may not be in the shared journal) until it is forgotten", async () => {
  const [a1, a2] = cluster('stats');
  await serve(a1);
  const s2 = await serve(a2);
  await s2.stop('SIGKILL');
  // Day 1 of the month: `stats run` builds last month's statistics.
  const now = new Date();
  const day1 = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1, 10)).toISOString();
  await until(async () => !/A2 alive/.test((await cli(a1, 'cluster', 'status')).stdout), 30_000, 'A2 heartbeat to expire');
  const held = await cli(a1, 'stats', 'run', '--now', day1, '--json');
  assert.notEqual(held.status, 0);
  const r1 = JSON.parse(held.stdout) as { problem?: { code: string; message: string }; actions: string[] };
  assert.equal(r1.problem?.code, 'TEMPORARY_STATS_NODE_SPOOL', held.stdout);
  assert.match(r1.problem?.message ?? '', /A2 has not been seen since .* did not stop cleanly/);
  assert.ok(!r1.actions.some((a) => /^built /.test(a)), 'nothing built');

  const forgot = await cli(a1, 'cluster', 'forget', 'A2');
  assert.equal(forgot.status, 0, forgot.stderr);
  const built = await cli(a1, 'stats', 'run', '--now', day1, '--json');
  const r2 = JSON.parse(built.stdout) as { problem?: { code: string }; actions: string[] };
  assert.notEqual(r2.problem?.code, 'TEMPORARY_STATS_NODE_SPOOL', built.stdout);
  assert.ok(
    r2.actions.some((a) => /^built /.test(a)),
    built.stdout,
  );
});

test('two hand edits on two nodes between two syncs: a conflict that overwrites nothing, CRIT in `cluster status`, resolved with --take-cluster (the local file saved beside it)', async () => {
  // No serve here: `cluster registry` does what serve does every cluster.registrySyncMs.
  const [a1, a2] = cluster('conflict');
  assert.equal((await cli(a1, 'cluster', 'registry')).status, 0);
  assert.equal((await cli(a2, 'cluster', 'registry')).status, 0);
  const mine = registryYaml([...MAILBOXES, per('zoe.bernard', 'Zoé', 'BERNARD', '810000000503')]);
  const theirs = registryYaml([per('xavier.martin', 'Xavier', 'MARTIN', '810000000501')]);
  fs.writeFileSync(a1.registry, theirs);
  fs.writeFileSync(a2.registry, mine);
  const sent = await cli(a1, 'cluster', 'registry');
  assert.equal(sent.status, 0, sent.stderr);
  assert.match(sent.stdout, /^sent:/);
  const conflict = await cli(a2, 'cluster', 'registry');
  assert.equal(conflict.status, 1, conflict.stdout + conflict.stderr);
  assert.match(conflict.stdout, /^conflict:/);
  assert.equal(fs.readFileSync(a2.registry, 'utf8'), mine, 'nothing overwritten');
  const st = await cli(a2, 'cluster', 'status');
  assert.match(st.stdout, /^CRIT +cluster\.registry +the registry file .* both changed/m);
  const edit = await cli(a2, 'bal', 'set-liste-rouge', X, 'on');
  assert.notEqual(edit.status, 0);
  assert.match(edit.stderr, /REGISTRY_CLUSTER_CONFLICT/);

  const taken = await cli(a2, 'cluster', 'registry', '--take-cluster');
  assert.equal(taken.status, 0, taken.stderr);
  assert.equal(fs.readFileSync(a2.registry, 'utf8'), theirs);
  const saved = fs.readdirSync(path.dirname(a2.registry)).filter((f) => f.startsWith('registry.yaml.conflict-'));
  assert.equal(saved.length, 1);
  assert.equal(fs.readFileSync(path.join(path.dirname(a2.registry), saved[0] as string), 'utf8'), mine);
});
