import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Journal } from '../../src/journal/journal.js';
import type { JournalEvent } from '../../src/journal/events.js';
import { EmbeddedStore } from '../../src/store/embedded.js';
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
