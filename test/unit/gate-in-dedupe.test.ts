// The inbound gate's message digests (src/gate/inbound/dedupe.ts) on a real store: a copy of
// a message Postfix already holds is recognised; a copy claimed by a process that is gone is
// taken over with the first copy's event time; one claimed by a live process is in flight.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { beat } from '../../src/cluster/members.js';
import { InboundDedupe, MessageDigest } from '../../src/gate/inbound/dedupe.js';
import { EmbeddedStore } from '../../src/store/embedded.js';
import type { StateStore } from '../../src/store/store.js';
import { tmpDir } from '../helpers/tmp.js';

const PEER = 'CN=mx.peer.example';
const WINDOW = 86_400_000;

function digestOf(from: string, to: string[], ...chunks: string[]): string {
  const d = new MessageDigest(PEER, from, to);
  for (const c of chunks) d.push(Buffer.from(c));
  return d.hex();
}

function dedupe(store: StateStore, node: string, opts: { now?: () => number; pidAlive?: (pid: number) => boolean; storeWaitMs?: number } = {}): InboundDedupe {
  return new InboundDedupe(store, { node, windowMs: WINDOW, dataDoneTimeoutMs: 10_000, ...opts });
}

test('the digest covers peer, envelope and content, and not how the content was cut into chunks', () => {
  const base = digestOf('a@x.fr', ['b@y.fr'], 'Subject: s\r\n\r\nbody\r\n');
  assert.equal(digestOf('a@x.fr', ['b@y.fr'], 'Subject: s\r\n', '\r\nbody\r\n'), base);
  assert.notEqual(digestOf('a@x.fr', ['b@y.fr'], 'Subject: s\r\n\r\nbody2\r\n'), base);
  assert.notEqual(digestOf('a@x.fr', ['c@y.fr'], 'Subject: s\r\n\r\nbody\r\n'), base);
  assert.notEqual(digestOf('', ['b@y.fr'], 'Subject: s\r\n\r\nbody\r\n'), base);
  // Field boundaries are not ambiguous.
  assert.notEqual(digestOf('a@x.fr', ['b@y.fr', 'c@y.fr']), digestOf('a@x.fr', ['b@y.fr,c@y.fr']));
});

test('committed: a second copy is recognised with the first copy s queue id and event time', async () => {
  const store = new EmbeddedStore(path.join(tmpDir('mss-dedupe-'), 'store'));
  const a1 = dedupe(store, 'A1');
  const a2 = dedupe(store, 'A2');
  const first = await a1.claim('d1');
  assert.equal(first.kind, 'new');
  if (first.kind !== 'new') return;
  await first.commit('4XyZ1');
  const again = await a2.claim('d1');
  assert.deepEqual(again, { kind: 'committed', digest: 'd1', at: first.at, mailId: '4XyZ1' });
  await store.close();
});

test('released (Postfix refused the copy): the next copy is new', async () => {
  const store = new EmbeddedStore(path.join(tmpDir('mss-dedupe-'), 'store'));
  const a1 = dedupe(store, 'A1');
  const first = await a1.claim('d2');
  assert.equal(first.kind, 'new');
  if (first.kind === 'new') await first.release();
  assert.equal((await a1.claim('d2')).kind, 'new');
  await store.close();
});

test('pending on a live process of this node: in flight (451); on a dead process of this node: taken over with the first event time', async () => {
  const store = new EmbeddedStore(path.join(tmpDir('mss-dedupe-'), 'store'));
  const first = await dedupe(store, 'A1').claim('d3');
  assert.equal(first.kind, 'new');
  // The same process, another connection: the holder is alive.
  const inFlight = await dedupe(store, 'A1').claim('d3');
  assert.equal(inFlight.kind, 'in-flight');
  // The node restarted: the claim's pid is no longer alive.
  const restarted = dedupe(store, 'A1', { pidAlive: () => false });
  const stillOurs = await restarted.claim('d3');
  assert.equal(stillOurs.kind, 'in-flight', 'our own pid is alive whatever pidAlive says');
  await store.set(
    InboundDedupe.key('d4'),
    JSON.stringify({ state: 'pending', at: '2026-01-01T00:00:00.000Z', node: 'A1', pid: 1 << 30, claimedAt: Date.now(), until: Date.now() + 60_000 }),
  );
  const taken = await restarted.claim('d4');
  assert.equal(taken.kind, 'new');
  if (taken.kind !== 'new') return;
  assert.equal(taken.at, '2026-01-01T00:00:00.000Z', 'the first copy s event time: one journal event for both');
  assert.equal(taken.tookOverFrom, `A1/${1 << 30}`);
  await store.close();
});

test('pending on another node: in flight while its heartbeat is older than the claim; taken over without heartbeat, after a restart, or past the final dot s timeout', async () => {
  const store = new EmbeddedStore(path.join(tmpDir('mss-dedupe-'), 'store'));
  const claimedAt = Date.now();
  const pending = (digest: string, until = claimedAt + 60_000) =>
    store.set(InboundDedupe.key(digest), JSON.stringify({ state: 'pending', at: new Date(claimedAt).toISOString(), node: 'A1', pid: 4242, claimedAt, until }));
  const hb = (startedAt: number) =>
    beat(
      store,
      { node: 'A1', pid: 4242, version: 't', startedAt: new Date(startedAt).toISOString(), seenAt: new Date().toISOString(), spool: { operations: 0 } },
      5000,
    );
  const a2 = dedupe(store, 'A2');
  await pending('e1');
  assert.equal((await a2.claim('e1')).kind, 'new', 'A1 has no heartbeat: gone');
  await hb(claimedAt - 1000);
  await pending('e2');
  assert.deepEqual(await a2.claim('e2'), { kind: 'in-flight', digest: 'e2', holder: 'A1/4242' });
  await hb(claimedAt + 1000);
  assert.equal((await a2.claim('e2')).kind, 'new', 'A1 restarted since its claim');
  await hb(claimedAt - 1000);
  await pending('e3', claimedAt - 1);
  assert.equal((await a2.claim('e3')).kind, 'new', 'past the final dot s timeout the holder has answered or died');
  await store.close();
});

test('a store that does not answer: unchecked once it has failed for the wait (the message is delivered without the check), and at once for the next copies of the outage', async () => {
  const store = new EmbeddedStore(path.join(tmpDir('mss-dedupe-'), 'store'));
  const broken = Object.assign(Object.create(store) as StateStore, {
    set: () => Promise.reject(Object.assign(new Error('Redis down'), { code: 'TEMPORARY_STORE_UNAVAILABLE' })),
  });
  const d = dedupe(broken, 'A1', { storeWaitMs: 600 });
  let t = Date.now();
  assert.equal((await d.claim('f1')).kind, 'unchecked');
  const waited = Date.now() - t;
  assert.ok(waited >= 600 && waited < 5_000, `waited ${waited} ms for the store`);
  t = Date.now();
  assert.equal((await d.claim('f2')).kind, 'unchecked');
  assert.ok(Date.now() - t < 300, 'an outage longer than the wait is not waited for again by every copy');
  await store.close();
});

test('a store that fails for a moment (a Sentinel failover) is waited for: the copy is claimed, not delivered unchecked', async () => {
  const store = new EmbeddedStore(path.join(tmpDir('mss-dedupe-'), 'store'));
  let failures = 3;
  const failing = Object.assign(Object.create(store) as StateStore, {
    set: (...args: Parameters<StateStore['set']>) =>
      failures-- > 0 ? Promise.reject(Object.assign(new Error('Redis failover'), { code: 'TEMPORARY_STORE_UNAVAILABLE' })) : store.set(...args),
  });
  const c = await dedupe(failing, 'A1', { storeWaitMs: 5_000 }).claim('g1');
  assert.equal(c.kind, 'new');
  assert.equal(failures, -1, 'claimed at the fourth attempt');
  assert.equal((await dedupe(store, 'A1').claim('g1')).kind, 'in-flight', 'the claim is in the store, held by this live process');
  await store.close();
});
