// The facts of each accepted message (EX_PSU_5830 statistics, EX_GDT_5050 traces): one
// `submitted` event in the state store's journal and one `message.submit` trace per message,
// with the Postfix queue id, the X-MSS-* headers (absent when absent), the login and the
// client; and when the event cannot be written the message is temp-failed, not accepted.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { StateStore } from '../../src/store/store.js';
import { BAL, queuedId, startRig, type Rig } from '../helpers/submission-rig.js';
import { message, type RawReply } from '../helpers/smtp-client.js';

let rig: Rig;
let journalFails = false;

function failingJournal(real: StateStore): StateStore {
  return new Proxy(real, {
    get(target, prop) {
      // Both appends fail: the embedded store's synchronous one, which the end of message
      // uses (issue 20), and the asynchronous one.
      if (prop === 'journalAppend' && journalFails) return async () => Promise.reject(new Error('ENOSPC: no space left on device'));
      if (prop === 'journalAppendSync' && journalFails)
        return () => {
          throw new Error('ENOSPC: no space left on device');
        };
      const v = Reflect.get(target, prop) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

before(async () => {
  rig = await startRig({ store: failingJournal });
});

after(async () => {
  await rig?.stop();
});

async function send(from: string, to: string[], subject: string, headers: Record<string, string> = {}): Promise<RawReply> {
  const c = await rig.session(from);
  assert.equal((await c.command(`MAIL FROM:<${from}>`)).code, 250);
  for (const r of to) assert.equal((await c.command(`RCPT TO:<${r}>`)).code, 250, r);
  const [, final] = await c.data(message({ from, to, subject, headers }));
  await c.quit();
  return final;
}

test('EX_PSU_5830 EX_GDT_5050: one journal event and one trace per accepted message, with the queue id, the three X-MSS headers when present and nothing for them when absent', async () => {
  const withHeaders = await send(BAL.alice, [BAL.bob, 'medecin@autre.mssante.fr'], 'compte rendu', {
    'X-MSS-INS': 'O',
    'X-MSS-CODECDA': '34112-3',
    'X-MSS-NIL': '<editeur/logiciel/1.2>',
    'User-Agent': 'DPI Exemple 4.2',
  });
  const without = await send(BAL.app, [BAL.bob], 'sans entetes');
  const empty = await send(BAL.alice, [BAL.bob], 'entete vide', { 'X-MSS-INS': '' });
  for (const r of [withHeaders, without, empty]) assert.equal(r.code, 250, r.text);
  const [id1, id2, id3] = [withHeaders, without, empty].map((r) => queuedId(r.text));

  const events = await rig.events();
  assert.deepEqual(events.map((e) => e.mailId).sort(), [id1, id2, id3].sort(), 'exactly one event per message');
  const e1 = events.find((e) => e.mailId === id1);
  assert.ok(e1?.type === 'submitted');
  assert.deepEqual(
    {
      sender: e1.sender,
      recipients: e1.recipients,
      ins: e1.ins,
      codeCda: e1.codeCda,
      nil: e1.nil,
      login: e1.login,
      authType: e1.authType,
      identity: e1.identity,
      client: e1.client,
    },
    {
      sender: BAL.alice,
      recipients: [BAL.bob, 'medecin@autre.mssante.fr'],
      ins: 'O',
      codeCda: '34112-3',
      nil: '<editeur/logiciel/1.2>',
      login: BAL.alice,
      authType: 'PLAIN',
      identity: '810000000001',
      client: '127.0.0.1',
    },
  );
  assert.match(e1.at, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  assert.ok(e1.size > 100);
  const e2 = events.find((e) => e.mailId === id2);
  assert.ok(e2?.type === 'submitted');
  assert.ok(!('ins' in e2) && !('codeCda' in e2) && !('nil' in e2), JSON.stringify(e2));
  // An APP mailbox: the identity is its structure (any certificate of the structure opens it).
  assert.equal(e2.identity, '1130000001');
  const e3 = events.find((e) => e.mailId === id3);
  assert.ok(e3?.type === 'submitted' && e3.ins === '' && e3.codeCda === undefined);

  const t1 = rig.traces().find((t) => t.message?.id === id1);
  assert.deepEqual(t1?.message, { id: id1, from: BAL.alice, to: [BAL.bob, 'medecin@autre.mssante.fr'], subject: 'compte rendu', size: e1.size });
  assert.deepEqual(t1?.actor, { id: '810000000001', kind: 'user', source: 'registry:sole-user' });
  assert.deepEqual(t1?.means, { service: 'submission', authType: 'PLAIN', nil: '<editeur/logiciel/1.2>', client: 'DPI Exemple 4.2' });
  assert.equal(t1?.address, '127.0.0.1');
  assert.equal(t1?.bal, BAL.alice);
  assert.ok(!JSON.stringify(t1).includes('hello'), 'no content in the trace');
});

test('EX_GDT_5040: a mailbox several people may use is traced under its login (the IdNat is in the login trace), never under a guessed person', async () => {
  const r = await send(BAL.bob, [BAL.alice], 'delegue');
  assert.equal(r.code, 250, r.text);
  const t = rig.traces().find((x) => x.message?.id === queuedId(r.text));
  assert.deepEqual(t?.actor, { id: BAL.bob, kind: 'user', source: 'sasl-login' });
  const e = (await rig.events()).find((x) => x.mailId === queuedId(r.text));
  assert.ok(e?.type === 'submitted' && e.identity === undefined && e.login === BAL.bob);
});

test('EX_PSU_5830: when the journal event cannot be written, the message is temp-failed (451 4.3.0), nothing is queued, and the next message goes through', async () => {
  const queued = rig.postfix.queue().length + rig.postfix.delivered().length;
  journalFails = true;
  let r: RawReply;
  try {
    r = await send(BAL.alice, [BAL.bob], 'non enregistrable');
  } finally {
    journalFails = false;
  }
  assert.equal(r.code, 451);
  assert.equal(r.text, '4.3.0 The message could not be recorded (traces, statistics): not accepted, try again later');
  assert.ok(rig.logs.some((l) => l.level === 50 && /journal event or trace could not be written/.test(String(l.msg))));
  assert.equal(rig.postfix.queue().length + rig.postfix.delivered().length, queued, 'nothing accepted unrecorded');
  const again = await send(BAL.alice, [BAL.bob], 'enregistrable');
  assert.equal(again.code, 250, again.text);
});
