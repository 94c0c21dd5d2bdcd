// The journal's typed constructor for the events mss-sidecar builds itself (src/journal/own-events.ts):
// it skips the zod schema on the milter's path (issue 20), so it must refuse exactly what the
// schema refuses — the bounds of values a client chose (envelope addresses, queue id, X-MSS-*
// headers) — and only what it built and froze may skip the schema.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { isMssError } from '../../src/errors.js';
import { submittedEvent as submittedSchema, type JournalEvent } from '../../src/journal/events.js';
import { Journal } from '../../src/journal/journal.js';
import { isCheckedEvent, submittedEvent, type SubmittedFields } from '../../src/journal/own-events.js';
import { silentLogger } from '../../src/log.js';
import { EmbeddedStore } from '../../src/store/embedded.js';
import { MessageRecorder } from '../../src/submission/record.js';
import { TraceLog } from '../../src/traces/trace-log.js';
import { tmpDir } from '../helpers/tmp.js';

const BASE: SubmittedFields = { at: '2025-03-01T10:00:00.000Z', mailId: 'Q1', sender: 'a@ch.mssante.fr', recipients: ['b@x.mssante.fr'], size: 10 };
const s = (n: number): string => 'x'.repeat(n);

/** Inputs on both sides of every bound of the `submitted` schema, and a few of the wrong shape. */
function cases(): Array<[string, SubmittedFields]> {
  const out: Array<[string, SubmittedFields]> = [['plain', BASE]];
  const lengths: Array<[keyof SubmittedFields, number, number]> = [
    ['mailId', 1, 255],
    ['sender', 0, 256],
    ['ins', 0, 255],
    ['codeCda', 0, 255],
    ['nil', 0, 255],
    ['identity', 0, 256],
    ['delegateOf', 0, 256],
    ['login', 0, 256],
    ['authType', 0, 64],
    ['client', 0, 128],
  ];
  for (const [key, min, max] of lengths) {
    for (const n of [min, max, max + 1, ...(min > 0 ? [min - 1] : [])]) out.push([`${key} of ${n}`, { ...BASE, [key]: s(n) }]);
    out.push([`${key} with non-ASCII at the bound`, { ...BASE, [key]: 'é'.repeat(max) }]);
  }
  for (const n of [256, 257, 0]) out.push([`recipient of ${n}`, { ...BASE, recipients: ['b@x.fr', s(n)] }]);
  out.push(['no recipient', { ...BASE, recipients: [] }]);
  out.push([
    'every optional field',
    { ...BASE, ins: 'O', codeCda: 'c', nil: 'n', identity: 'i', delegateOf: 'd', login: 'l', authType: 'PLAIN', client: '127.0.0.1' },
  ]);
  // Every field the schema knows, read from the schema itself: a field added there and not to
  // the constructor would be dropped from the journal; here its JSON differs and this fails.
  const every: Record<string, unknown> = {};
  for (const key of Object.keys(submittedSchema.shape)) if (key !== 'type') every[key] = key in BASE ? BASE[key as keyof SubmittedFields] : 'v';
  out.push(['every field of the schema', every as SubmittedFields]);
  for (const at of ['2025-03-01 10:00', '2025-03-01T10:00:00Z', '2025-03-01T10:00:00.1234Z', '2025-03-01T10:00:00.000+01:00', ''])
    out.push([`at ${JSON.stringify(at)}`, { ...BASE, at }]);
  for (const size of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60]) out.push([`size ${size}`, { ...BASE, size }]);
  out.push(['a sender that is not a string', { ...BASE, sender: 42 as unknown as string }]);
  return out;
}

test('journal: the typed constructor of `submitted` events refuses what the schema refuses, bounds included, and builds the same JSON', () => {
  let refused = 0;
  for (const [name, fields] of cases()) {
    const byZod = submittedSchema.safeParse({ type: 'submitted', ...fields });
    let built: Readonly<JournalEvent> | undefined;
    let error: unknown;
    try {
      built = submittedEvent(fields);
    } catch (err) {
      error = err;
    }
    if (byZod.success) {
      assert.ok(built, `${name}: the schema accepts it, the constructor refused it: ${String(error)}`);
      assert.equal(JSON.stringify(built), JSON.stringify(byZod.data), name);
    } else {
      assert.equal(built, undefined, `${name}: the schema refuses it (${byZod.error.issues[0]?.message}), the constructor accepted it`);
      assert.ok(isMssError(error, 'JOURNAL_BAD_EVENT'), `${name}: ${String(error)}`);
      refused++;
    }
  }
  assert.ok(refused >= 20, `${refused} refusals among the cases`);
});

test('journal: only an event the constructor built skips the schema; a copy or any other object is validated, and a built event cannot be changed', async () => {
  const store = new EmbeddedStore(tmpDir('mss-own-events-'));
  const j = new Journal(store);
  const built = submittedEvent(BASE);
  assert.ok(isCheckedEvent(built));
  assert.throws(() => {
    (built as { sender: string }).sender = s(300);
  }, TypeError);
  assert.throws(() => {
    (built.recipients as string[]).push(s(300));
  }, TypeError);
  assert.equal(await j.record(built), 'written');
  // A copy with an over-long sender (what a caller could make of a built event) is not trusted.
  const copy = { ...built, sender: s(257) };
  assert.equal(isCheckedEvent(copy), false);
  await assert.rejects(j.record(copy), (e: unknown) => isMssError(e, 'JOURNAL_BAD_EVENT') && /sender/.test(e.message));
  const read: JournalEvent[] = [];
  for await (const e of j.read({ from: new Date('2025-03-01T00:00:00Z'), to: new Date('2025-03-02T00:00:00Z') })) read.push(e);
  assert.deepEqual(read, [{ type: 'submitted', ...BASE }]);
  await store.close();
});

test('EX_PSU_5830: an accepted submission whose envelope holds an over-long value is not recorded: the recorder throws (the milter temp-fails it) and writes nothing', async () => {
  const dir = tmpDir('mss-own-events-rec-');
  const store = new EmbeddedStore(path.join(dir, 'store'));
  const traces = new TraceLog(path.join(dir, 'traces'));
  const recorder = new MessageRecorder(new Journal(store), traces, silentLogger);
  const facts = { sender: 'a@ch.mssante.fr', recipients: ['b@x.mssante.fr', `${s(260)}@x.fr`], refusedRecipients: [], wouldRefuse: [], mailId: 'Q9', size: 5 };
  await assert.rejects(
    recorder.accepted(facts, new Date('2025-03-01T10:00:00Z')),
    (e: unknown) => isMssError(e, 'JOURNAL_BAD_EVENT') && /recipients\.1/.test(e.message),
  );
  await recorder.accepted({ ...facts, recipients: ['b@x.mssante.fr'] }, new Date('2025-03-01T10:00:00Z'));
  traces.close();
  const lines = fs
    .readdirSync(path.join(dir, 'store', 'journal'), { recursive: true })
    .filter((f) => String(f).endsWith('.jsonl'))
    .flatMap((f) =>
      fs
        .readFileSync(path.join(dir, 'store', 'journal', String(f)), 'utf8')
        .split('\n')
        .filter(Boolean),
    );
  assert.equal(lines.length, 1, lines.join('\n'));
  assert.match(lines[0] as string, /"mailId":"Q9"/);
  await store.close();
});
