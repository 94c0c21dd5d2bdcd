import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Journal } from '../../src/journal/journal.js';
import type { JournalEvent } from '../../src/journal/events.js';
import { EmbeddedStore } from '../../src/store/embedded.js';
import type { JournalRecord, StateStore } from '../../src/store/store.js';
import { isMssError } from '../../src/errors.js';
import { tmpDir } from '../helpers/tmp.js';

test('journal: submitted, delivery and received events round-trip and are filtered by time and type', async () => {
  const store = new EmbeddedStore(tmpDir());
  const j = new Journal(store);
  const events: JournalEvent[] = [
    { type: 'submitted', at: '2025-02-28T23:59:59.999Z', mailId: 'A1', sender: 'a@ch.mssante.fr', recipients: ['x@y.mssante.fr'], size: 10 },
    {
      type: 'submitted',
      at: '2025-03-01T00:00:00.000Z',
      mailId: 'B2',
      sender: 'a@ch.mssante.fr',
      recipients: ['x@y.mssante.fr', 'z@y.mssante.fr'],
      size: 2048,
      ins: 'O',
      codeCda: '34112-3',
      nil: 'ed/lps/1',
      identity: '810000000001',
      client: '10.0.0.1',
    },
    {
      type: 'delivery',
      at: '2025-03-01T00:00:05.000Z',
      mailId: 'B2',
      sender: 'a@ch.mssante.fr',
      recipient: 'x@y.mssante.fr',
      outcome: 'deferred',
      reply: '451 4.3.0 try later',
    },
    { type: 'delivery', at: '2025-03-01T00:10:05.000Z', mailId: 'B2', sender: 'a@ch.mssante.fr', recipient: 'x@y.mssante.fr', outcome: 'delivered' },
    {
      type: 'delivery',
      at: '2025-03-01T00:00:05.000Z',
      mailId: 'B2',
      sender: 'a@ch.mssante.fr',
      recipient: 'z@y.mssante.fr',
      outcome: 'bounced',
      reply: '550 5.1.1 no such user',
      remote: 'mx.y.mssante.fr',
    },
    {
      type: 'received',
      at: '2025-03-02T08:00:00.000Z',
      mailId: 'C3',
      sender: '',
      recipients: ['a@ch.mssante.fr'],
      size: 500,
      peer: 'CN=mx.y.mssante.fr,OU=...',
    },
  ];
  await j.record(events);
  const march: JournalEvent[] = [];
  for await (const e of j.read({ from: new Date('2025-03-01T00:00:00Z'), to: new Date('2025-04-01T00:00:00Z') })) march.push(e);
  assert.deepEqual(march, events.slice(1));
  const subs: string[] = [];
  for await (const e of j.read({ from: new Date('2025-02-01T00:00:00Z'), to: new Date('2025-04-01T00:00:00Z'), types: ['submitted'] })) subs.push(e.mailId);
  assert.deepEqual(subs, ['A1', 'B2']);
  await store.close();
});

test('journal: an invalid event is refused with the field at fault and nothing is written', async () => {
  const store = new EmbeddedStore(tmpDir());
  const j = new Journal(store);
  await assert.rejects(
    j.record([
      { type: 'submitted', at: '2025-03-01T00:00:00.000Z', mailId: 'ok', sender: 's@d.fr', recipients: ['r@d.fr'], size: 1 },
      { type: 'submitted', at: '2025-03-01 00:00', mailId: 'bad', sender: 's@d.fr', recipients: ['r@d.fr'], size: 1 } as unknown as JournalEvent,
    ]),
    (e: unknown) => isMssError(e, 'JOURNAL_BAD_EVENT') && /event 1 is invalid: at/.test(e.message),
  );
  const got = [];
  for await (const e of j.read({ from: new Date('2025-01-01T00:00:00Z'), to: new Date('2026-01-01T00:00:00Z') })) got.push(e);
  assert.deepEqual(got, []);
  await store.close();
});

test('issue 20: a store that appends synchronously (it keeps no ids) gets no random id per event, a caller id is passed on; an asynchronous store, or any store behind a deferral, gets one per event', async () => {
  const seen: Array<{ path: string; ids: Array<string | undefined> }> = [];
  const watched = (sync: boolean): StateStore => {
    const real = new EmbeddedStore(tmpDir());
    const s = Object.create(real) as StateStore;
    s.journalAppend = async (records) => void seen.push({ path: 'async', ids: records.map((r) => r.id) });
    Object.defineProperty(s, 'journalAppendSync', {
      value: sync ? (records: readonly JournalRecord[]) => void seen.push({ path: 'sync', ids: records.map((r) => r.id) }) : undefined,
    });
    return s;
  };
  const e = { type: 'submitted' as const, at: '2025-03-01T00:00:00.000Z', mailId: 'A1', sender: 's@d.fr', recipients: ['r@d.fr'], size: 1 };
  assert.equal(new Journal(watched(true)).recordNow([e, e]), 'written');
  assert.equal(new Journal(watched(true)).recordNow([e], { ids: ['digest-1'] }), 'written');
  assert.equal(await new Journal(watched(false)).recordNow([e, e]), 'written');
  const keep = { deferring: false, defer: () => undefined };
  assert.equal(new Journal(watched(true), keep).recordNow([e]), 'written');
  const uuid = /^[0-9a-f-]{36}$/;
  assert.deepEqual(seen.slice(0, 2), [
    { path: 'sync', ids: [undefined, undefined] },
    { path: 'sync', ids: ['digest-1'] },
  ]);
  assert.equal(seen[2]?.path, 'async');
  assert.ok(seen[2]?.ids.every((id) => uuid.test(id ?? '')) && seen[2].ids[0] !== seen[2].ids[1], 'a random id per event');
  assert.equal(seen[3]?.path, 'sync');
  assert.match(seen[3]?.ids[0] ?? '', uuid, 'a deferral may hand the events to a shared store later');
});
