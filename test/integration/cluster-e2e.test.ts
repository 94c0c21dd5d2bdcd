// Issue 18 end to end: operator A runs two nodes behind one MX — A1 and A2, two live
// `serve` (their gates) with their own state directories and gate addresses, published as
// two MX records of A's domains in the sandbox DNS, sharing one Redis Sentinel set (1
// master, 1 replica, 3 sentinels) and A's Postfix and Dovecot (the mail store behind both
// front ends). Operator B (its own Postfix, Dovecot and `serve`) sends MESSAGES messages to
// A; its outbound gate spreads them over A1 and A2. Mid-run A1 is SIGKILLed (B's Postfix
// retries what it had in flight, on A2), later the Redis master is SIGKILLed (the sentinels
// fail over; A2's journal events wait in its spool and are replayed), then A1 comes back.
// Every message must land exactly once in A's mailbox, A's journal must hold one `received`
// event per message (written by either node, retried, replayed: counted once), and a
// rate-limit counter and a UserInfo cache entry written before the failover are there after
// it. MSS_CLUSTER_MESSAGES sets the count (200 here; `make bench`'s bench/cluster.ts and a
// manual run take 1,000).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parse, stringify } from 'yaml';
import { StoreTtlCache } from '../../src/auth/store-cache.js';
import { loadConfig } from '../../src/config/load.js';
import type { ReceivedEvent } from '../../src/journal/events.js';
import { Journal } from '../../src/journal/journal.js';
import { createLogger } from '../../src/log.js';
import { openStore } from '../../src/store/open.js';
import { RateLimiter } from '../../src/submission/rules/rate-limit.js';
import { CLI, cliEnv } from '../helpers/cli.js';
import { gateWorld, type TestWorld } from '../helpers/gates.js';
import { spawnTracked, waitForOutput, type Spawned } from '../helpers/processes.js';
import { startSentinelSet, until } from '../helpers/sentinel.js';
import { SmtpClient, message } from '../helpers/smtp-client.js';

const MESSAGES = Number(process.env.MSS_CLUSTER_MESSAGES ?? 200);
const ALICE = 'alice.martin@ch-sandbox-a.mssante.fr';
const BRUNO = 'bruno.petit@clinique-sandbox-b.mssante.fr';
const A2_ADDRESS = '127.0.0.40';
const TAG = 'cluster-e2e';
const HOOK = pathToFileURL(path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'helpers', 'kill-on-write.js')).href;

const set = await startSentinelSet();
after(() => set.stop());
/** The parts of a node's config.yaml A2's copy changes. */
interface NodeYaml {
  state: { dir: string };
  registry: { file: string };
  cluster: { node: string };
  gates: { in: { listen: { host: string } }; out: unknown };
  milter?: { enabled: boolean };
}

let world: TestWorld;
let a2Config: string;

before(async () => {
  world = await gateWorld({
    mta: 'real',
    operators: ['A', 'B'],
    daemons: false,
    configure: (op, c) => {
      if (op.id !== 'A') return;
      c.state = {
        ...c.state,
        redis: { sentinels: set.sentinelAddresses.map((s) => `${s.host}:${s.port}`), masterName: set.masterName, keyPrefix: 'e2e:', waitTimeoutMs: 500 },
      };
      // A node that stops beating is gone after 0.6 s: its pending digests are taken over at once.
      c.cluster = { node: 'A1', heartbeatMs: 200 };
    },
  });
  const a = world.node('A');
  // A2: A1's configuration with its own name, state directory (the verified liste blanche
  // copied, as an administrator installs it) and gate address; only A1 sends (A's Postfix
  // has one outbound gate and one milter).
  const dir = path.join(world.dir, 'a2');
  fs.mkdirSync(dir, { recursive: true });
  const c = parse(fs.readFileSync(a.configFile, 'utf8')) as NodeYaml;
  const stateDir = path.join(dir, 'state');
  fs.cpSync(a.config.state.dir, stateDir, { recursive: true });
  const registry = path.join(dir, 'registry.yaml');
  fs.copyFileSync(a.config.registry.file, registry);
  c.state.dir = stateDir;
  c.registry = { ...c.registry, file: registry };
  c.cluster.node = 'A2';
  c.gates.in.listen.host = A2_ADDRESS;
  c.gates.out = { enabled: false };
  if (c.milter) c.milter.enabled = false;
  a2Config = path.join(dir, 'config.yaml');
  fs.writeFileSync(a2Config, stringify(c));
  // Two MX records for each of A's domains, same priority: B's outbound gate spreads over them.
  const fqdn = world.pki.operators.find((o) => o.id === 'A')?.fqdn as string;
  world.dns.zone.a = { ...world.dns.zone.a, [`mx2.${fqdn}`]: [A2_ADDRESS] };
  for (const d of a.config.operator.domains)
    world.dns.zone.mx = { ...world.dns.zone.mx, [d]: [...(world.dns.zone.mx?.[d] ?? []), { priority: 10, exchange: `mx2.${fqdn}` }] };
});
after(async () => {
  await world?.stop();
});

/** A node's serve, ready; `killAtReply`: SIGKILLed as it answers its n-th accepted message (test/helpers/kill-on-write.ts). */
async function serve(config: string, killAtReply?: number): Promise<Spawned> {
  const hook = killAtReply ? ['--import', HOOK] : [];
  const env: Record<string, string> = killAtReply
    ? { MSS_TEST_KILL_ON_WRITE: '250 2\\.0\\.0 Ok: queued as', MSS_TEST_KILL_ON_WRITE_COUNT: String(killAtReply) }
    : {};
  const p = spawnTracked(process.execPath, [...hook, CLI, '--config', config, 'serve'], { env: cliEnv(env) });
  await waitForOutput(p, (out) => /"msg":"ready"/.test(out), 120_000);
  return p;
}

/** Inject messages [from, to) into B's Postfix, four sessions at a time. */
async function inject(from: number, to: number): Promise<void> {
  const port = world.node('B').ports.inject;
  const sessions = 4;
  await Promise.all(
    Array.from({ length: sessions }, async (_, s) => {
      const c = await SmtpClient.connect(port);
      assert.equal((await c.command('EHLO lps.clinique-sandbox-b.test')).code, 250);
      for (let i = from + s; i < to; i += sessions) {
        assert.equal((await c.command(`MAIL FROM:<${BRUNO}>`)).code, 250);
        assert.equal((await c.command(`RCPT TO:<${ALICE}>`)).code, 250);
        const [, final] = await c.data(
          message({ from: BRUNO, to: [ALICE], subject: `${TAG} ${i}`, body: `message ${i} of ${MESSAGES}\r\n${'x'.repeat(2000)}` }),
        );
        assert.equal(final.code, 250, final.text);
      }
      await c.quit();
    }),
  );
}

/** How many copies of each message A's mailbox holds (subject → count). */
function copies(): Map<number, number> {
  const n = new Map<number, number>();
  const re = new RegExp(`^Subject: ${TAG} (\\d+)$`, 'm');
  for (const f of world.node('A').delivered()) {
    let head: string;
    try {
      head = fs.readFileSync(f, 'latin1').slice(0, 4000);
    } catch {
      continue;
    }
    const m = re.exec(head);
    if (m) n.set(Number(m[1]), (n.get(Number(m[1])) ?? 0) + 1);
  }
  return n;
}

/** Occurrences of `re` in a node's functional traces (EX_GDT_5010): what its gates decided. */
function inTraces(stateDir: string, re: RegExp): number {
  let n = 0;
  const dir = path.join(stateDir, 'traces');
  for (const f of fs.existsSync(dir) ? fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }) : []) {
    const file = path.join(dir, f);
    if (fs.statSync(file).isFile()) n += (fs.readFileSync(file, 'utf8').match(re) ?? []).length;
  }
  return n;
}

const total = (n: Map<number, number>): number => [...n.values()].reduce((a, b) => a + b, 0);
const replayedIn = (out: string): number => [...out.matchAll(/"replayed":(\d+)/g)].reduce((a, m) => a + Number(m[1]), 0);

test(`issue 18: ${MESSAGES} messages from B to A's two nodes, A1 SIGKILLed then the Redis master SIGKILLed mid-run: each lands once, is journaled once; rate limits and the UserInfo cache survive the failover (EX_PSU_5830)`, async () => {
  const started = Date.now();
  const b = await serve(world.node('B').configFile);
  // A1 dies in the RFC 1047 window of one message: Postfix queued it, A1 committed its
  // digest, and is SIGKILLed as it writes its 250 to B. B retries it, on A2: answered 250,
  // not delivered again (gate-in-dedupe; without it, that message arrives twice).
  const killAt = Math.max(1, Math.floor(MESSAGES / 12));
  let a1 = await serve(world.node('A').configFile, killAt);
  const a2 = await serve(a2Config);
  const log = createLogger({ level: 'silent', pretty: false });
  const aState = loadConfig(world.node('A').configFile).state;
  const store = openStore(aState);
  try {
    // State the submission side and the LPS keep in Redis, written before the failover.
    const limiter = new RateLimiter({ enabled: true, messages: 1000, recipients: 1000, windowSeconds: 3600, exempt: [] }, store, log);
    for (let i = 0; i < 3; i++) await limiter.count(ALICE, 1);
    const cache = new StoreTtlCache(store);
    await cache.set('userinfo:e2e-token', '{"sub":"810000000201"}', 3600);

    const bPf = world.node('B').postfix;
    const aPf = world.node('A').postfix;
    assert.ok(bPf && aPf);
    // Messages B's Postfix handed to its outbound gate, which had A's 250 for them.
    const sent = (): number => (bPf.maillog().match(/to=<alice\.martin@ch-sandbox-a\.mssante\.fr>.*status=sent/g) ?? []).length;
    // The first half; A1 dies at its killAt-th message (B's queue holds the rest: they go on
    // arriving, on A2, with Postfix's retries for those A1 had in hand).
    const half = Math.floor(MESSAGES / 2);
    const injected = inject(0, half);
    await until(() => a1.child.exitCode !== null || a1.child.signalCode !== null, 300_000, `A1 to die at its message ${killAt}`, 100);
    const a1KilledAt = sent();
    await injected;
    // The Redis master SIGKILLed, and the second half sent at once: A2 receives and journals
    // them during the failover (its spool) and after it.
    const oldMaster = await set.master();
    const masterKilledAt = sent();
    const killed = Date.now();
    (await set.masterProcess()).process.child.kill('SIGKILL');
    const second = inject(half, MESSAGES);
    await set.waitForNewMaster(oldMaster, 60_000);
    const newMasterMs = Date.now() - killed;
    await second;
    // A1 back: it replays its own spool, if anything was left in it, and takes its share again.
    a1 = await serve(world.node('A').configFile);
    await until(() => total(copies()) >= MESSAGES, 300_000, `all ${MESSAGES} messages in A`, 200);
    await until(() => bPf.queue().length === 0 && aPf.queue().length === 0, 120_000, 'both Postfix queues empty', 200);

    const n = copies();
    const missing = Array.from({ length: MESSAGES }, (_, i) => i).filter((i) => !n.has(i));
    const duplicated = [...n].filter(([, c]) => c > 1).map(([i]) => i);
    assert.deepEqual(missing, [], 'every message arrived');
    assert.deepEqual(duplicated, [], 'none twice');
    const a2State = path.join(world.dir, 'a2', 'state');
    // The message A1 died answering was retried on A2, which found its digest committed.
    const alreadyReceived = inTraces(a2State, /already received/g);
    assert.ok(alreadyReceived >= 1, 'A2 answered a retry of a message A1 had queued with 250, without a second delivery');

    // The journal: one `received` event per message, whichever node wrote it, retried or replayed.
    const events: ReceivedEvent[] = [];
    await until(
      async () => {
        events.length = 0;
        for await (const e of new Journal(store).read({ from: new Date(started - 60_000), to: new Date(Date.now() + 60_000), types: ['received'] }))
          if ((e as ReceivedEvent).sender === BRUNO) events.push(e as ReceivedEvent);
        return events.length >= MESSAGES;
      },
      60_000,
      'every received event in the shared journal (spools replayed)',
      500,
    );
    assert.equal(events.length, MESSAGES, 'one received event per message');
    assert.equal(new Set(events.map((e) => e.mailId)).size, MESSAGES, 'one mailId per message');

    // Submission rate limit and UserInfo cache through the failover.
    assert.equal(await store.get(`rate:m:${ALICE}`), '3', 'the rate-limit counter survived the failover');
    await limiter.count(ALICE, 1);
    assert.equal(await store.get(`rate:m:${ALICE}`), '4', 'and goes on counting on the new master');
    assert.equal(await cache.get('userinfo:e2e-token'), '{"sub":"810000000201"}', 'the UserInfo cache entry survived the failover');

    const spooled = replayedIn(a2.output()) + replayedIn(a1.output());
    const retries = (bPf.maillog().match(/status=deferred/g) ?? []).length;
    const tookOver = (a2.output().match(/claimed by a process that is gone/g) ?? []).length;
    const spread = { A1: inTraces(aState.dir, /Ok: queued as [0-9A-Z]+"/g), A2: inTraces(a2State, /Ok: queued as [0-9A-Z]+"/g) };
    assert.ok(spread.A1 > 0 && spread.A2 > 0, `both nodes received: ${JSON.stringify(spread)}`);
    process.stdout.write(
      `# cluster e2e: ${MESSAGES} messages in ${((Date.now() - started) / 1000).toFixed(1)} s, accepted by A1 ${spread.A1}, A2 ${spread.A2}; A1 SIGKILLed after ${a1KilledAt} accepted, ` +
        `the Redis master after ${masterKilledAt}; new master after ${newMasterMs} ms; B's deferrals (retries) ${retries}; ` +
        `answered "already received" ${alreadyReceived}; taken over ${tookOver}; duplicates ${duplicated.length}; journal events replayed from spools ${spooled}; ` +
        `load ${fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}\n`,
    );
  } finally {
    await store.close();
    await Promise.all([a1.stop(), a2.stop(), b.stop()]);
  }
});
