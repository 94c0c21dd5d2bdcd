// `serve` on two cores (serve.workers: 2, daemon/cluster.ts), two operators deployed as in
// e2e-operators.test.ts — real Postfix, real Dovecot, one `mss-sidecar serve` each — and the
// rules hold whichever worker judges: the milter refuses a recipient outside the trust space
// in both workers (each SMTP session of Postfix is its own milter connection, handed to the
// workers in turn), mail crosses both operators' gates, the journal records every message
// once, a reload reaches every worker, a worker that dies is replaced, and SIGTERM stops all.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { OperatorNode } from '../../sandbox/operator-node.js';
import { lpsSend, recentJournal, waitForMail } from '../../sandbox/lps-exchange.js';
import { SandboxPsc } from '../../sandbox/psc/sandbox-psc.js';
import { freePorts } from '../../src/util/free-port.js';
import { CLI, cliEnv } from '../helpers/cli.js';
import { gateWorld, type TestWorld } from '../helpers/gates.js';
import { freshLoopback } from '../helpers/lps-stack.js';
import { testPki } from '../helpers/pki.js';
import { spawnTracked, waitForOutput, type Spawned } from '../helpers/processes.js';

let psc: SandboxPsc;
let metricsPort: number;
let world: TestWorld;
const serves = new Map<string, Spawned>();
const node = (id: string): OperatorNode => world.node(id);

interface LogLine {
  msg: string;
  pid: number;
  worker?: number;
  services?: string[];
  signal?: string;
}
const logLines = (s: Spawned): LogLine[] =>
  s
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine);
/** The pid of each worker now serving, by worker number (the last `worker ready` line of each). */
const workerPids = (s: Spawned): Map<number, number> =>
  new Map(
    logLines(s)
      .filter((l) => l.msg === 'worker ready')
      .map((l) => [l.worker as number, l.pid]),
  );

before(async () => {
  const pki = await testPki();
  psc = new SandboxPsc({
    tls: { cert: fs.readFileSync(pki.https.cert, 'utf8') + fs.readFileSync(pki.intermediate.cert, 'utf8'), key: fs.readFileSync(pki.https.key, 'utf8') },
  });
  await psc.start();
  [metricsPort] = await freePorts(1);
  world = await gateWorld({
    mta: 'real',
    daemons: false,
    psc: { issuer: psc.issuer, ca: pki.root.cert },
    configure: (op, c) => {
      c.serve = { workers: 2 };
      // A's supervision endpoint: worker 1's /metrics sums both workers (health/cluster-metrics.ts).
      if (op.id === 'A') c.health = { metrics: { enabled: true, listen: { host: '127.0.0.1', port: metricsPort }, cacheMs: 50 } };
    },
  });
  for (const id of ['A', 'B']) {
    const serve = spawnTracked(process.execPath, [CLI, '--config', node(id).configFile, 'serve'], { env: cliEnv() });
    serves.set(id, serve);
    await waitForOutput(serve, (out) => /"workers":2,.*"msg":"ready"/.test(out), 60_000);
  }
});

after(async () => {
  for (const s of serves.values()) await s.stop();
  await world?.stop();
  await psc?.stop();
});

test('serve.workers: 2 — two worker processes per operator: the gates and the milter in both (and the metrics counting, when enabled), the API LPS in worker 1', () => {
  for (const [id, s] of serves) {
    const ready = new Map(
      logLines(s)
        .filter((l) => l.msg === 'worker ready')
        .map((l) => [l.worker, l]),
    );
    assert.deepEqual([...ready.keys()].sort(), [1, 2], id);
    // The metrics count in every worker (A has them on); worker 1 alone listens.
    assert.deepEqual(ready.get(2)?.services?.sort(), id === 'A' ? ['gates', 'metrics', 'milter'] : ['gates', 'milter'], id);
    assert.ok(
      ['api-lps', 'gates', 'milter'].every((name) => ready.get(1)?.services?.includes(name)),
      `${id}: ${ready.get(1)?.services?.join(' ')}`,
    );
    assert.notEqual(ready.get(1)?.pid, ready.get(2)?.pid);
    assert.ok(![ready.get(1)?.pid, ready.get(2)?.pid].includes(s.child.pid), 'the primary runs no service');
  }
});

test("EX_3.2_5060 EX_3.1_5030 EX_PSU_5830: in both of A's workers the milter refuses the recipient outside the trust space and accepts B's; every message crosses both gates into B's Dovecot; A's journal records each message once", async () => {
  const a = node('A');
  const b = node('B');
  const sent: Array<{ subject: string; queueId: string }> = [];
  const tokenA = await psc.mint({ idNat: a.mailboxes.holder });
  for (let i = 0; i < 4; i += 1) {
    const subject = `workers ${i} ${Date.now()}`;
    const r = await lpsSend(a.ports.submission, a.mailboxes.person, tokenA, ['patient@gmail.com', b.mailboxes.person], subject, freshLoopback());
    assert.match(r.login, /^235 /);
    const [gmail, ok] = r.sent?.rcpt ?? [];
    assert.match(gmail ?? '', /^550 5\.7\.1 .*gmail\.com is not in the MSSante trust space/, `message ${i}`);
    assert.match(ok ?? '', /^250 /, `message ${i}`);
    assert.ok(r.sent?.queueId, JSON.stringify(r.sent));
    sent.push({ subject, queueId: r.sent.queueId });
  }
  for (const m of sent) assert.equal((await waitForMail(b.mailDir, m.subject, 30_000)).length, 1, `${m.subject} in B's Dovecot`);

  // Which process recorded each `submitted` event: the journal's files are one per writer
  // process (<host>-<pid>-…), so the events name the workers that judged the messages.
  const journal = path.join(a.config.state.dir, 'store', 'journal');
  const writerOf = new Map<string, number>();
  for (const day of fs.readdirSync(journal)) {
    for (const file of fs.readdirSync(path.join(journal, day))) {
      const pid = Number(/-(\d+)-[^-]+-[^-]+\.jsonl$/.exec(file)?.[1]);
      for (const line of fs.readFileSync(path.join(journal, day, file), 'utf8').split('\n')) {
        const m = /"type":"submitted".*"mailId":"([^"]+)"/.exec(line);
        if (m?.[1]) writerOf.set(m[1], pid);
      }
    }
  }
  const judges = new Set(sent.map((m) => writerOf.get(m.queueId)));
  assert.deepEqual([...judges].sort(), [...workerPids(serves.get('A') as Spawned).values()].sort(), 'both workers judged messages');
  const submitted = (await recentJournal(a.config)).filter((e) => e.type === 'submitted' && sent.some((m) => m.queueId === e.mailId));
  assert.equal(submitted.length, sent.length, 'one submitted event per message');
});

/** A sample of A's /metrics (every series of that name and labels, as exposed). */
async function metricsSample(series: string): Promise<number | undefined> {
  const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
  assert.equal(res.status, 200);
  const line = (await res.text()).split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

test('EX_SSI_5120: with two workers, /metrics (worker 1) counts what both judged: every message accepted by the milter, every recipient refused outside the trust space, every delivery by the outbound gate', async () => {
  // The previous test sent 4 messages, judged by both workers, each to B and to gmail.com.
  assert.equal(await metricsSample('mss_messages_total{service="submission",outcome="accepted"}'), 4);
  assert.equal(await metricsSample('mss_refusals_total{service="submission",requirement="EX_3.2_5060",kind="permanent"}'), 4);
  const deadline = Date.now() + 30_000;
  let delivered: number | undefined;
  while ((delivered = await metricsSample('mss_messages_total{service="gate-out",outcome="delivered"}')) !== 4 && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 200));
  assert.equal(delivered, 4);
  assert.equal(await metricsSample('mss_gate_duration_seconds_count{gate="out"}'), 4);
  // The checks' gauges (run in worker 1) are there too, once.
  assert.equal(await metricsSample('mss_store_up{backend="embedded"}'), 1);
});

test('SIGHUP to the primary reloads the registry, the liste blanche and the CRLs in every worker', async () => {
  const s = serves.get('A') as Spawned;
  const before = logLines(s).filter((l) => l.msg === 'reload done').length;
  process.kill(s.child.pid as number, 'SIGHUP');
  await waitForOutput(s, () => logLines(s).filter((l) => l.msg === 'reload done').length >= before + 2, 30_000);
  assert.deepEqual(
    logLines(s)
      .filter((l) => l.msg === 'reload done')
      .slice(before)
      .map((l) => l.worker)
      .sort(),
    [1, 2],
  );
});

test('a worker that dies is replaced, and the shared listeners keep serving', async () => {
  const s = serves.get('A') as Spawned;
  const old = workerPids(s).get(2) as number;
  process.kill(old, 'SIGKILL');
  await waitForOutput(s, () => (workerPids(s).get(2) ?? old) !== old, 30_000);
  assert.match(s.output(), /serve worker died; starting another/);
  const a = node('A');
  const tokenA = await psc.mint({ idNat: a.mailboxes.holder });
  for (let i = 0; i < 2; i += 1) {
    const r = await lpsSend(a.ports.submission, a.mailboxes.person, tokenA, ['patient@gmail.com'], `after restart ${i}`, freshLoopback());
    assert.match(r.sent?.rcpt[0] ?? '', /^550 5\.7\.1 /, `session ${i}: the milter of either worker answers`);
  }
});

test('SIGTERM stops the primary and every worker, with status 0', async () => {
  for (const [id, s] of serves) {
    const pids = [...workerPids(s).values()];
    await s.stop('SIGTERM', 30_000);
    assert.equal(s.child.exitCode, 0, `${id}:\n${s.output().slice(-2000)}`);
    for (const pid of pids) assert.throws(() => process.kill(pid, 0), `${id}: worker ${pid} is gone`);
  }
});
