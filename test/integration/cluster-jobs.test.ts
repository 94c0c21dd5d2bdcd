// The nightly jobs of a two-node cluster (nodes A1 and A2: two configuration files, two
// state directories, one Redis Sentinel set of 1 master, 1 replica, 3 sentinels, all real
// processes), run as the timers run them (`lifecycle run --once-per day`, the real CLI):
// started on both nodes at once, the run happens once; its node SIGKILLed, the other node
// takes it over; its node paused (SIGSTOP) or cut off from Redis (a network namespace whose
// link goes down) past the lease, the other node takes it over and the first one, back, does
// nothing more. Shell scripts stand in for doveadm and the notice command and log who ran.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { parse, stringify } from 'yaml';
import { openStore } from '../../src/store/open.js';
import { stateSection } from '../../src/config/core-sections.js';
import { CLI, runCliAsync } from '../helpers/cli.js';
import { createNetns, netnsAvailable, type Netns } from '../helpers/netns.js';
import { spawnTracked, type Spawned } from '../helpers/processes.js';
import { DOMAIN, per, registryYaml } from '../helpers/registry.js';
import { startSentinelSet, until, type SentinelSet } from '../helpers/sentinel.js';
import { tmpDir } from '../helpers/tmp.js';

const LEASE_TTL_MS = 2000;
const NOW = '2025-06-02T03:15:00+02:00';
const X = `xavier.martin@${DOMAIN}`;
const Y = `yvonne.durand@${DOMAIN}`;
// Each of them is due both notices (deletion in two months, depublication in 15 days).
const NOTICES = [X, X, Y, Y];

const noNetns = netnsAvailable();
// At the top level: their after() hooks then run when the file ends (not when a before() ends).
const netns: Netns | undefined = noNetns ? undefined : createNetns();
// The servers listen where both namespaces reach them (this one's end of the veth pair).
const set: SentinelSet = await startSentinelSet(netns ? { host: netns.hostIp } : {});
const dir = tmpDir('mss-cluster-jobs-');
const log = path.join(dir, 'commands.log');

before(() => {
  // The auto-reply purge blocks while block-<node> exists (the node is then "in" its job),
  // and lets go once release-<node> exists; every command logs "<node> <what> <address>".
  const script = path.join(dir, 'command.sh');
  fs.writeFileSync(
    script,
    `#!/bin/sh\nwhat=$1; shift\necho "$MSS_TEST_NODE $what $1" >> ${log}\nif [ "$what" = purge ] && [ -f ${dir}/block-$MSS_TEST_NODE ]; then\n  touch ${dir}/started-$MSS_TEST_NODE\n  while [ ! -f ${dir}/release-$MSS_TEST_NODE ]; do sleep 0.05; done\nfi\n`,
  );
  fs.chmodSync(script, 0o755);
});
after(() => set.stop());

/** Two nodes' configuration files on a fresh key prefix (a fresh cluster for each test). */
function cluster(prefix: string): { config: (node: string) => string } {
  const base = path.join(dir, prefix);
  const script = path.join(dir, 'command.sh');
  for (const node of ['A1', 'A2']) {
    const d = path.join(base, node);
    fs.mkdirSync(d, { recursive: true });
    fs.writeFileSync(
      path.join(d, 'registry.yaml'),
      registryYaml([
        per('xavier.martin', 'Xavier', 'MARTIN', '810000000501', { created: '2023-01-01', contact: { email: 'x@example.org' } }),
        per('yvonne.durand', 'Yvonne', 'DURAND', '810000000502', { created: '2023-01-01', contact: { email: 'y@example.org' } }),
      ]),
    );
    fs.writeFileSync(
      path.join(d, 'config.yaml'),
      stringify({
        operator: { name: 'CH Test', domains: [DOMAIN], structureId: '1130000001', certificate: 'op.crt', key: 'op.key', timeZone: 'Europe/Paris' },
        trust: { dir: 'trust' },
        state: {
          dir: 'state',
          redis: { sentinels: set.sentinelAddresses.map((s) => `${s.host}:${s.port}`), masterName: set.masterName, keyPrefix: `${prefix}:` },
        },
        registry: { file: 'registry.yaml' },
        cluster: { node, leaseTtlMs: LEASE_TTL_MS },
        lifecycle: {
          activityKnownSince: '2020-01-01',
          notices: { via: 'command', command: [script, 'notice', '{address}'] },
          deleteCommand: [script, 'delete', '{address}'],
          purgeAutoreplyCommand: [script, 'purge', '{address}'],
          autoreplyCheckCommand: [script, 'check', '{address}'],
        },
      }),
    );
  }
  return { config: (node) => path.join(base, node, 'config.yaml') };
}

interface Run {
  node: string;
  p: Spawned;
  done: Promise<number | null>;
}

/** `lifecycle run --once-per day` on a node, as its timer starts it (A2 inside the namespace when asked). */
function lifecycle(config: string, node: string, opts: { inNetns?: boolean } = {}): Run {
  const argv = [process.execPath, CLI, '--config', config, 'lifecycle', 'run', '--once-per', 'day', '--now', NOW, '--json'];
  const [cmd, ...args] = opts.inNetns && netns ? [...netns.prefix, ...argv] : argv;
  const p = spawnTracked(cmd as string, args, { env: { ...process.env, MSS_TEST_NODE: node, MSS_LOG_JSON: '1' } });
  const done = new Promise<number | null>((resolve) => p.child.once('exit', (code) => resolve(code)));
  return { node, p, done };
}

const lines = (): string[] => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n').filter(Boolean) : []);
const by = (node: string, what: string): string[] =>
  lines()
    .filter((l) => l.startsWith(`${node} ${what} `))
    .map((l) => l.split(' ')[2] as string);

function reset(): void {
  fs.rmSync(log, { force: true });
  for (const f of fs.readdirSync(dir)) if (/^(block|release|started)-/.test(f)) fs.rmSync(path.join(dir, f));
}

async function runRecord(config: string): Promise<{ holder: string; token: number } | undefined> {
  const prefix = (parse(fs.readFileSync(config, 'utf8')) as { state: { redis: { keyPrefix: string } } }).state.redis.keyPrefix;
  const store = openStore(stateSection.parse({ redis: { sentinels: set.sentinelAddresses, masterName: set.masterName, keyPrefix: prefix } }));
  try {
    const keys: string[] = [];
    for await (const k of store.scan('job-run:lifecycle:')) keys.push(k);
    assert.ok(keys.length <= 1, keys.join(', '));
    const v = keys[0] ? await store.get(keys[0]) : undefined;
    return v ? (JSON.parse(v) as { holder: string; token: number }) : undefined;
  } finally {
    await store.close();
  }
}

test('EX_GBM_4440: the lifecycle job started on both nodes at once runs once: one node sends each notice, the other finds the run done', async () => {
  reset();
  const c = cluster('both');
  const runs = [lifecycle(c.config('A1'), 'A1'), lifecycle(c.config('A2'), 'A2')];
  const codes = await Promise.all(runs.map((r) => r.done));
  assert.deepEqual(codes, [0, 0], runs.map((r) => r.p.output()).join('\n'));
  assert.deepEqual([...by('A1', 'notice'), ...by('A2', 'notice')].sort(), NOTICES, 'each notice sent once across the cluster');
  assert.equal([...by('A1', 'purge'), ...by('A2', 'purge')].length, 1, 'one auto-reply purge');
  const record = await runRecord(c.config('A1'));
  assert.ok(record, 'the run is recorded');
  const ran = record.holder.split('/')[0] as string;
  const other = runs.find((r) => r.node !== ran) as Run;
  assert.match(other.p.output(), /lifecycle run 2025-06-02 already done by A[12]\/\d+/);
});

test('the node running the job SIGKILLed: the other node, started meanwhile, takes the job over once the lease expires and finishes it', async () => {
  reset();
  const c = cluster('killed');
  fs.writeFileSync(path.join(dir, 'block-A1'), '');
  const a1 = lifecycle(c.config('A1'), 'A1');
  await until(() => fs.existsSync(path.join(dir, 'started-A1')), 60_000, 'A1 to be in its job');
  // The cluster view (`status`, `cluster status`) on the other node names the lease's holder.
  const view = await runCliAsync(['--config', c.config('A2'), 'cluster', 'status']);
  assert.match(view.stdout, /^\S+ +cluster\.leases +.*lifecycle held by A1\/\d+ \(token \d+/m, view.stdout);
  const a2 = lifecycle(c.config('A2'), 'A2');
  await until(() => /waiting until it is done, or taking it over/.test(a2.p.output()), 60_000, 'A2 to wait for A1');
  const killedAt = Date.now();
  await a1.p.stop('SIGKILL');
  assert.equal(await a2.done, 0, a2.p.output());
  const tookMs = Date.now() - killedAt;
  assert.deepEqual(by('A2', 'notice').sort(), NOTICES, 'A2 sent the notices A1 never reached');
  assert.deepEqual(by('A1', 'notice'), []);
  assert.match((await runRecord(c.config('A1')))?.holder ?? '', /^A2\//);
  assert.ok(tookMs >= LEASE_TTL_MS - 500, `taken over only once the lease expired (${tookMs} ms)`);
  process.stdout.write(`# takeover after SIGKILL: ${tookMs} ms (lease ${LEASE_TTL_MS} ms)\n`);
});

test('a node paused (SIGSTOP) in its job past the lease: the other node takes over; resumed, the first one sends nothing and writes nothing (LEASE_LOST)', async () => {
  reset();
  const c = cluster('paused');
  fs.writeFileSync(path.join(dir, 'block-A1'), '');
  const a1 = lifecycle(c.config('A1'), 'A1');
  await until(() => fs.existsSync(path.join(dir, 'started-A1')), 60_000, 'A1 to be in its job');
  const pid = a1.p.child.pid as number;
  process.kill(pid, 'SIGSTOP');
  try {
    // Its purge command ends while it is paused: when it resumes, the job goes on from there.
    fs.writeFileSync(path.join(dir, 'release-A1'), '');
    const a2 = lifecycle(c.config('A2'), 'A2');
    assert.equal(await a2.done, 0, a2.p.output());
    assert.deepEqual(by('A2', 'notice').sort(), NOTICES);
  } finally {
    process.kill(pid, 'SIGCONT');
  }
  const code = await a1.done;
  assert.notEqual(code, 0, a1.p.output());
  assert.match(a1.p.output(), /LEASE_LOST/);
  assert.deepEqual(by('A1', 'notice'), [], 'the paused node sent no notice');
  assert.deepEqual(by('A1', 'check'), [], 'nor ran any command after its purge');
  assert.match((await runRecord(c.config('A1')))?.holder ?? '', /^A2\//, 'the run is A2 s');
});

test(
  'a node cut off from Redis (network namespace, link down) never runs a job the other node holds, and one cut off while running it stops once its lease expires',
  { skip: noNetns },
  async () => {
    assert.ok(netns);
    reset();
    const c = cluster('partition');
    // A2 cut off before it starts, while A1 runs the job: it cannot take the lease, so it does nothing.
    fs.writeFileSync(path.join(dir, 'block-A1'), '');
    const a1 = lifecycle(c.config('A1'), 'A1');
    await until(() => fs.existsSync(path.join(dir, 'started-A1')), 60_000, 'A1 to be in its job');
    netns.cut();
    try {
      const a2 = lifecycle(c.config('A2'), 'A2', { inNetns: true });
      assert.notEqual(await a2.done, 0, a2.p.output());
      assert.match(a2.p.output(), /TEMPORARY_STORE_UNAVAILABLE|Redis/);
      assert.deepEqual(
        lines().filter((l) => l.startsWith('A2 ')),
        [],
        'the cut-off node ran nothing',
      );
    } finally {
      netns.heal();
    }
    fs.writeFileSync(path.join(dir, 'release-A1'), '');
    assert.equal(await a1.done, 0, a1.p.output());

    // A2 (in the namespace) runs the job and is cut off in it; A1 takes over once the lease expires.
    reset();
    const c2 = cluster('partition2');
    fs.writeFileSync(path.join(dir, 'block-A2'), '');
    const a2 = lifecycle(c2.config('A2'), 'A2', { inNetns: true });
    await until(() => fs.existsSync(path.join(dir, 'started-A2')), 60_000, 'A2 to be in its job');
    netns.cut();
    try {
      const b1 = lifecycle(c2.config('A1'), 'A1');
      assert.equal(await b1.done, 0, b1.p.output());
      assert.deepEqual(by('A1', 'notice').sort(), NOTICES);
      fs.writeFileSync(path.join(dir, 'release-A2'), '');
      const code = await a2.done;
      assert.notEqual(code, 0, a2.p.output());
      assert.match(a2.p.output(), /LEASE_LOST/);
    } finally {
      netns.heal();
    }
    assert.deepEqual(by('A2', 'notice'), [], 'the cut-off node sent no notice');
    assert.deepEqual(by('A2', 'check'), [], 'nor ran any command once cut off');
    assert.match((await runRecord(c2.config('A1')))?.holder ?? '', /^A1\//);
  },
);
