// Issue 18 end to end (test/helpers/cluster-world.ts): operator A runs two nodes behind one
// MX — A1 and A2, two live `serve` (their gates) with their own state directories and gate
// addresses, published as two MX records of A's domains in the sandbox DNS, sharing one
// Redis Sentinel set (1 master, 1 replica, 3 sentinels) and A's Postfix and Dovecot (the
// mail store behind both front ends). Operator B (its own Postfix, Dovecot and `serve`)
// sends MESSAGES messages to A; its outbound gate spreads them over A1 and A2. Mid-run A1
// is SIGKILLed in the RFC 1047 window of one message (B's Postfix retries what A1 had in
// hand, on A2), then the Redis master is SIGKILLed while the second half arrives (the
// sentinels fail over; A2's journal events wait in its spool and are replayed), then A1
// comes back. Every message must land in A's mailbox, once — or twice only when A1 died
// with it handed to Postfix and its digest not yet committed (RFC 1047) —, A's shared journal must
// hold one `received` event per message (written by either node, retried, replayed: counted
// once), and a rate-limit counter and a UserInfo cache entry written before the failover
// are there after it. MSS_CLUSTER_MESSAGES sets the count: 1,000 by default, as the issue
// asks (~40 s on this 2-core machine, load 9); fewer for a quick run while developing.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, test } from 'node:test';
import { StoreTtlCache } from '../../src/auth/store-cache.js';
import { loadConfig } from '../../src/config/load.js';
import type { ReceivedEvent } from '../../src/journal/events.js';
import { Journal } from '../../src/journal/journal.js';
import { createLogger } from '../../src/log.js';
import { openStore } from '../../src/store/open.js';
import { RateLimiter } from '../../src/submission/rules/rate-limit.js';
import {
  ALICE,
  BRUNO,
  copiesInA,
  deliveredIn,
  injectToA,
  inTraces,
  replayedIn,
  serveNode,
  startClusterWorld,
  totalCopies,
  type ClusterWorld,
} from '../helpers/cluster-world.js';
import { until } from '../helpers/sentinel.js';

const MESSAGES = Number(process.env.MSS_CLUSTER_MESSAGES ?? 1000);
const TAG = 'cluster-e2e';

let cw: ClusterWorld;
before(async () => {
  cw = await startClusterWorld({
    // B's outbound gate keeps no session between messages, so that each message picks one of
    // A's two equal MX records at random (RFC 5321 §5.1) and both nodes take a share before A1
    // is killed. With its connection cache, B kept sending on the few sessions it had open: in
    // a fresh-clone CI run all of them went to A2 and A1 never reached its message 83.
    configureB: (c) => {
      c.gates = { ...c.gates, out: { ...c.gates?.out, connectionCache: { idleMs: 0 } } };
    },
  });
});
after(async () => {
  await cw?.stop();
});

test(`issue 18: ${MESSAGES} messages from B to A's two nodes, A1 SIGKILLed then the Redis master SIGKILLed mid-run: each lands once, is journaled once; rate limits and the UserInfo cache survive the failover (EX_PSU_5830)`, async () => {
  const started = Date.now();
  const b = await serveNode(cw.config.B);
  // A1 dies in the RFC 1047 window of one message: Postfix queued it, A1 committed its
  // digest, and is SIGKILLed as it writes its 250 to B. B retries it, on A2: answered 250,
  // not delivered again (gate-in-dedupe; without it, that message arrives twice).
  const killAt = Math.max(1, Math.floor(MESSAGES / 12));
  let a1 = await serveNode(cw.config.A1, { killAtReply: killAt });
  const a2 = await serveNode(cw.config.A2);
  const log = createLogger({ level: 'silent', pretty: false });
  const aState = loadConfig(cw.config.A1).state;
  const store = openStore(aState);
  try {
    // State the submission side and the LPS keep in Redis, written before the failover.
    const limits = { enabled: true, messages: 1000, recipients: 1000, windowSeconds: 3600, exempt: [] };
    const limiter = new RateLimiter(limits, store, log);
    for (let i = 0; i < 3; i++) await limiter.count(ALICE, 1);
    const cache = new StoreTtlCache(store);
    await cache.set('userinfo:e2e-token', '{"sub":"810000000201"}', 3600);

    const bPf = cw.world.node('B').postfix;
    const aPf = cw.world.node('A').postfix;
    assert.ok(bPf && aPf);
    // Messages B's Postfix handed to its outbound gate, which had A's 250 for them.
    const sent = (): number => (bPf.maillog().match(/to=<alice\.martin@ch-sandbox-a\.mssante\.fr>.*status=sent/g) ?? []).length;
    // The first half; A1 dies at its killAt-th message (B's queue holds the rest: they go on
    // arriving, on A2, with Postfix's retries for those A1 had in hand).
    const half = Math.floor(MESSAGES / 2);
    const injected = injectToA(cw, TAG, 0, half);
    await until(() => a1.child.exitCode !== null || a1.child.signalCode !== null, 300_000, `A1 to die at its message ${killAt}`, 100);
    const a1KilledAt = sent();
    await injected;
    // The Redis master SIGKILLed, and the second half sent at once: A2 receives and journals
    // them during the failover (its spool) and after it.
    const oldMaster = await cw.sentinels.master();
    const masterKilledAt = sent();
    const killed = Date.now();
    (await cw.sentinels.masterProcess()).process.child.kill('SIGKILL');
    const second = injectToA(cw, TAG, half, MESSAGES);
    await cw.sentinels.waitForNewMaster(oldMaster, 60_000);
    const newMasterMs = Date.now() - killed;
    await second;
    // A1 back: it replays its own spool, if anything was left in it, and takes its share again.
    a1 = await serveNode(cw.config.A1);
    await until(() => totalCopies(copiesInA(cw, TAG)) >= MESSAGES, 300_000, `all ${MESSAGES} messages in A`, 200);
    await until(() => bPf.queue().length === 0 && aPf.queue().length === 0, 120_000, 'both Postfix queues empty', 200);

    const n = copiesInA(cw, TAG);
    const missing = Array.from({ length: MESSAGES }, (_, i) => i).filter((i) => !n.has(i));
    const duplicated = [...n].filter(([, c]) => c > 1).map(([i]) => i);
    assert.deepEqual(missing, [], 'every message arrived');
    // What the gates' traces say of each copy they handed to Postfix (its duplicate check).
    const copies = [...deliveredIn(cw.stateDir.A1, TAG), ...deliveredIn(cw.stateDir.A2, TAG)];
    const unchecked = copies.filter((c) => c.duplicateCheck === 'unchecked');
    const why = {
      tookOver: copies.filter((c) => c.duplicateCheck === 'took-over').length,
      unchecked: unchecked.length,
      uncommitted: (`${a1.output()}${a2.output()}`.match(/could not commit a digest/g) ?? []).length,
    };
    const context = JSON.stringify({ duplicated, ...why, newMasterMs, a1KilledAt, masterKilledAt });
    // RFC 1047: a message A1 had handed to Postfix (its final dot sent) without having
    // committed its digest when it died may be in Postfix: its retry, whose claim A2 (or A1
    // back) takes over, is delivered again — never lost, journaled once (below). A retry that
    // came while the store was down for longer than gates.in.duplicateCheckWaitMs went through
    // unchecked. Any other second copy is a defect: each one must have a copy whose trace
    // says which of the two it was (docs/gates.md, "Retries and duplicates").
    const unexplained = duplicated.filter((i) => !copies.some((c) => c.i === i && c.duplicateCheck !== undefined));
    assert.deepEqual(unexplained, [], `second copies only of messages taken over from the dead node or let through unchecked: ${context}`);
    assert.ok(
      [...n.values()].every((c) => c <= 2),
      `no message more than twice: ${context}`,
    );
    // The store fails only while its master is down: before that, every copy was checked.
    const early = unchecked.filter((c) => c.at < killed);
    assert.deepEqual(early, [], `no copy went through unchecked before the Redis master was killed: ${context}`);
    // The message A1 died answering was retried — on A2, or on A1 once back — and found its
    // digest committed.
    const alreadyReceived = inTraces(cw.stateDir.A2, /already received/g) + inTraces(cw.stateDir.A1, /already received/g);
    assert.ok(alreadyReceived >= 1, 'a retry of a message A1 had queued was answered 250 without a second delivery');

    // Read through a store opened after the failover (the sentinels name the new master).
    const fresh = openStore(aState);
    try {
      // The journal: one `received` event per message, whichever node wrote it, retried or replayed.
      const events: ReceivedEvent[] = [];
      await until(
        async () => {
          events.length = 0;
          try {
            for await (const e of new Journal(fresh).read({ from: new Date(started - 60_000), to: new Date(Date.now() + 60_000), types: ['received'] }))
              if ((e as ReceivedEvent).sender === BRUNO) events.push(e as ReceivedEvent);
          } catch {
            return false; // the store still finding the new master
          }
          return events.length >= MESSAGES;
        },
        60_000,
        'every received event in the shared journal (spools replayed)',
        500,
      );
      assert.equal(events.length, MESSAGES, 'one received event per message');
      assert.equal(new Set(events.map((e) => e.mailId)).size, MESSAGES, 'one mailId per message');

      // Submission rate limit and UserInfo cache through the failover.
      assert.equal(await fresh.get(`rate:m:${ALICE}`), '3', 'the rate-limit counter survived the failover');
      await new RateLimiter(limits, fresh, log).count(ALICE, 1);
      assert.equal(await fresh.get(`rate:m:${ALICE}`), '4', 'and goes on counting on the new master');
      assert.equal(await new StoreTtlCache(fresh).get('userinfo:e2e-token'), '{"sub":"810000000201"}', 'the UserInfo cache entry survived the failover');
    } finally {
      await fresh.close();
    }

    const spooled = replayedIn(a2.output()) + replayedIn(a1.output());
    const retries = (bPf.maillog().match(/status=deferred/g) ?? []).length;
    const spread = { A1: inTraces(cw.stateDir.A1, /Ok: queued as [0-9A-Z]+"/g), A2: inTraces(cw.stateDir.A2, /Ok: queued as [0-9A-Z]+"/g) };
    assert.ok(spread.A1 > 0 && spread.A2 > 0, `both nodes received: ${JSON.stringify(spread)}`);
    process.stdout.write(
      `# cluster e2e: ${MESSAGES} messages in ${((Date.now() - started) / 1000).toFixed(1)} s, accepted by A1 ${spread.A1}, A2 ${spread.A2}; A1 SIGKILLed after ${a1KilledAt} accepted, ` +
        `the Redis master after ${masterKilledAt}; new master after ${newMasterMs} ms; B's deferrals (retries) ${retries}; ` +
        `answered "already received" ${alreadyReceived}; claims taken over ${why.tookOver}; delivered unchecked (store unreachable) ${why.unchecked}; commits failed ${why.uncommitted}; second copies (RFC 1047 window) ${duplicated.length}; journal events replayed from spools ${spooled}; ` +
        `load ${fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}\n`,
    );
  } finally {
    await store.close();
    await Promise.all([a1.stop(), a2.stop(), b.stop()]);
  }
});
