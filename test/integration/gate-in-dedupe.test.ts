// The inbound gate's duplicate window (RFC 1047; src/gate/inbound/dedupe.ts), with real
// Postfix, with Redis and with the embedded store (the digests in its log, digest-log.ts):
// operator B's `serve` SIGKILLed at an exact point after Postfix answered
// 250 for a message from A (test/helpers/kill-on-write.ts), so that A saw no 250, then
// started again and A's retry of the same bytes sent to it:
//  - killed after its commit, before its 250 reached A: the retry is answered 250 and not
//    delivered again; the journal has the message once (before dedupe.ts: two copies, two
//    `received` events);
//  - killed between Postfix's 250 and its commit (the window that remains): the retry is
//    delivered (never lose mail) and the journal still counts the message once.
// The embedded journal does not deduplicate event ids (docs/gates.md): killed after its
// journal write, the retry's `received` event is a second one there.
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { openStore } from '../../src/store/open.js';
import type { ReceivedEvent } from '../../src/journal/events.js';
import { Journal } from '../../src/journal/journal.js';
import { connectTls, send } from '../helpers/gate-client.js';
import { gateWorld, deliveredMatching, type TestWorld } from '../helpers/gates.js';
import { CLI, cliEnv } from '../helpers/cli.js';
import { spawnTracked, waitForOutput, type Spawned } from '../helpers/processes.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { message } from '../helpers/smtp-client.js';
import { traceLines, type TraceLine } from '../helpers/traces.js';

const HOOK = pathToFileURL(path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'helpers', 'kill-on-write.js')).href;
const ALICE = 'alice.martin@ch-sandbox-a.mssante.fr';
const STORE_WAIT_MS = 1500;
const BRUNO = 'bruno.petit@clinique-sandbox-b.mssante.fr';

for (const backend of ['redis', 'embedded'] as const)
  describe(`the duplicate window, ${backend} store`, () => {
    let world: TestWorld;
    let redis: RedisServer | undefined;

    before(async () => {
      if (backend === 'redis') redis = await startRedis();
      const url = redis?.url;
      world = await gateWorld({
        mta: 'real',
        operators: ['B'],
        daemons: false,
        configure: (_op, c) => {
          if (url) c.state = { ...c.state, redis: { url, keyPrefix: 'dedupe:' } };
          // The last test's store outage is waited for this long before a copy goes unchecked.
          c.gates = { ...c.gates, in: { ...c.gates?.in, duplicateCheckWaitMs: STORE_WAIT_MS } };
        },
      });
    });
    after(async () => {
      await world?.stop();
      await redis?.stop();
    });

    /** B's serve, ready (every service announced); `killOn`: SIGKILLed at its first socket write matching it. */
    async function serve(killOn?: { socket: string } | { file: string }): Promise<Spawned> {
      const args = [...(killOn ? ['--import', HOOK] : []), CLI, '--config', world.node('B').configFile, 'serve'];
      const env: Record<string, string> = killOn
        ? 'socket' in killOn
          ? { MSS_TEST_KILL_ON_WRITE: killOn.socket }
          : { MSS_TEST_KILL_ON_FILE_WRITE: killOn.file }
        : {};
      const gate = spawnTracked(process.execPath, args, { env: cliEnv(env) });
      await waitForOutput(gate, (out) => /"msg":"ready"/.test(out), 60_000);
      return gate;
    }

    async function sendFromA(body: string): Promise<{ code: number; text: string }> {
      const A = world.pki.operators.find((o) => o.id === 'A');
      assert.ok(A);
      const { c, afterTls } = await connectTls(world.node('B').config.gates.in.listen.host, world.port, { cert: A.cert, key: A.key });
      assert.equal(afterTls.code, 250, afterTls.text);
      try {
        const r = await send(c, ALICE, [BRUNO], body);
        assert.equal(r.mail.code, 250);
        return r.data ?? { code: -1, text: 'no DATA reply' };
      } finally {
        await c.quit();
      }
    }

    /** `received` events of B's journal for messages of this size (each test's body has its own). */
    async function receivedOfSize(size: number): Promise<ReceivedEvent[]> {
      const store = openStore(world.node('B').config.state);
      try {
        const got: ReceivedEvent[] = [];
        const now = Date.now();
        for await (const e of new Journal(store).read({ from: new Date(now - 86_400_000), to: new Date(now + 60_000), types: ['received'] }))
          if ((e as ReceivedEvent).size === size) got.push(e as ReceivedEvent);
        return got;
      } finally {
        await store.close();
      }
    }

    /** A message after the others, delivered: Postfix has delivered what it held before it. */
    async function barrier(tag: string): Promise<void> {
      const r = await sendFromA(message({ from: ALICE, to: [BRUNO], subject: `barrier ${tag}` }));
      assert.equal(r.code, 250, r.text);
      const pf = world.node('B').postfix;
      assert.ok(pf);
      await pf.waitFor(
        () => deliveredMatching(world, 'B', new RegExp(`Subject: barrier ${tag}`)).length === 1 && pf.queue().length === 0,
        60_000,
        `the ${tag} barrier`,
      );
    }

    /** A message sent to B's serve killed at `killOn`: A saw no 250, Postfix delivered the copy it had. */
    async function killedWhileSending(subject: string, fill: string, killOn: { socket: string } | { file: string }): Promise<string> {
      const body = message({ from: ALICE, to: [BRUNO], subject, body: fill });
      const gate = await serve(killOn);
      const first = await sendFromA(body);
      assert.equal(first.code, 0, `A sees the connection drop, no 250: ${JSON.stringify(first)}`);
      await gate.stop().catch(() => {});
      const pf = world.node('B').postfix;
      assert.ok(pf);
      await pf.waitFor(() => deliveredMatching(world, 'B', new RegExp(`Subject: ${subject}`)).length === 1, 60_000, 'the first copy to be delivered');
      return body;
    }

    test(`EX_PSU_5830 (${backend} store): the gate killed after Postfix queued a message and after its commit, before its 250: the retry gets 250, is not delivered again and is journaled once (twice in the embedded journal, which keeps event ids apart)`, async () => {
      const body = await killedWhileSending('killed before its 250', 'a'.repeat(3001), { socket: '250 2\\.0\\.0 Ok: queued as' });
      const gate = await serve();
      try {
        const retry = await sendFromA(body);
        assert.equal(retry.code, 250, retry.text);
        assert.match(retry.text, /already received/);
        await barrier('one');
        assert.equal(deliveredMatching(world, 'B', /Subject: killed before its 250/).length, 1, 'delivered once');
        const events = await receivedOfSize(Buffer.byteLength(body));
        // Killed after its journal write: Redis keeps the retry's event once, the embedded journal twice.
        assert.equal(events.length, backend === 'redis' ? 1 : 2, `journaled ${backend === 'redis' ? 'once' : 'twice'}: ${JSON.stringify(events)}`);
        assert.equal(new Set(events.map((e) => e.mailId)).size, 1, 'under the first copy s queue id');
      } finally {
        await gate.stop();
      }
    });

    test(`EX_PSU_5830 (${backend} store): the gate killed between Postfix s 250 and its commit (RFC 1047 window): the retry is delivered, never lost, and journaled once`, async () => {
      // The commit: a command to Redis, a line of the embedded store's digest log.
      const commit = '"state":"committed"';
      const body = await killedWhileSending('killed before its commit', 'b'.repeat(4002), backend === 'redis' ? { socket: commit } : { file: commit });
      const gate = await serve();
      try {
        // The claim's holder is dead (this node restarted): the copy is taken over and delivered.
        const retry = await sendFromA(body);
        assert.equal(retry.code, 250, retry.text);
        assert.doesNotMatch(retry.text, /already received/);
        await barrier('two');
        assert.equal(deliveredMatching(world, 'B', /Subject: killed before its commit/).length, 2, 'the window: delivered twice, never lost');
        const events = await receivedOfSize(Buffer.byteLength(body));
        assert.equal(events.length, 1, `journaled once: ${JSON.stringify(events)}`);
        // Its trace says why it was delivered again, under the message's digest.
        const copies = gateInCopies(/^killed before its commit$/);
        assert.deepEqual(
          copies.map((r) => r.request.duplicateCheck),
          ['took-over'],
          JSON.stringify(copies),
        );
        assert.match(String(copies[0]?.request.digest), /^[0-9a-f]{64}$/, 'under the message digest');
        assert.match(String(copies[0]?.request.tookOverFrom), /^[^/]+\/\d+$/, 'names the dead holder (node/pid)');
        // A third copy now finds the commit.
        const third = await sendFromA(body);
        assert.match(third.text, /already received/);
      } finally {
        await gate.stop();
      }
    });

    /** B's gate's trace records of the copies it handed to Postfix, by subject. */
    function gateInCopies(subject: RegExp): TraceLine[] {
      return traceLines(path.join(world.node('B').config.state.dir, 'traces')).filter(
        (r) => r.request?.step === 'DATA' && r.response?.ok === true && subject.test(String(r.message?.subject ?? '')) && !r.request.duplicateOf,
      );
    }

    if (backend === 'redis')
      test('EX_PSU_5830 (redis store): a store that does not answer for longer than gates.in.duplicateCheckWaitMs lets the copy through, delivered once, its trace saying it went unchecked', async () => {
        const gate = await serve();
        try {
          await redis?.stop(); // the last test of the file: the store stays down
          const started = Date.now();
          const r = await sendFromA(message({ from: ALICE, to: [BRUNO], subject: 'store down', body: 'c'.repeat(5003) }));
          const waited = Date.now() - started;
          assert.equal(r.code, 250, r.text);
          assert.ok(waited >= STORE_WAIT_MS, `the final dot waited for the store (${waited} ms)`);
          await barrier('three');
          assert.equal(deliveredMatching(world, 'B', /Subject: store down/).length, 1, 'delivered, once');
          const copies = gateInCopies(/^store down$/);
          assert.deepEqual(
            copies.map((c) => c.request.duplicateCheck),
            ['unchecked'],
            JSON.stringify(copies),
          );
          assert.match(String(copies[0]?.request.digest), /^[0-9a-f]{64}$/, 'under the message digest');
          assert.match(gate.output(), /could not check the message digest/);
        } finally {
          await gate.stop();
        }
      });
  });
