// The local spool of writes a shared store did not take (store/spool.ts): durable, in order,
// replayed segment by segment, bounded in size.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { isMssError } from '../../src/errors.js';
import { Journal } from '../../src/journal/journal.js';
import { readStats, Spool } from '../../src/store/spool.js';
import { SpoolDeferral, SpoolReplayer } from '../../src/store/spooled-writes.js';
import { EmbeddedStore } from '../../src/store/embedded.js';
import { MssError } from '../../src/errors.js';
import type { JournalRecord, StateStore } from '../../src/store/store.js';
import { silentLogger } from '../../src/log.js';
import { tmpDir } from '../helpers/tmp.js';

interface Op {
  kind: 'n';
  n: number;
}
const ops = (from: number, count: number): Op[] => Array.from({ length: count }, (_, i) => ({ kind: 'n', n: from + i }));

test('EX_PSU_5830: spooled writes are replayed in order, across segments, and new ones written during a replay go behind them', async () => {
  const dir = tmpDir();
  const spool = new Spool<Op>(path.join(dir, 'spool'), { maxBytes: 1 << 20, segmentBytes: 200 });
  for (const op of ops(0, 50)) spool.append([op]);
  assert.equal(spool.pending, 50);
  assert.ok(fs.readdirSync(path.join(dir, 'spool')).length > 3, 'rotated into several segments');
  assert.deepEqual(readStats(path.join(dir, 'spool')).operations, 50, 'another process reads the same count from disk');
  const seen: number[] = [];
  let injected = false;
  const applied = await spool.drain(async (batch) => {
    seen.push(...batch.map((o) => o.n));
    // A writer spools more while the replay runs: it must come after, not be lost.
    if (!injected) {
      injected = true;
      spool.append(ops(50, 3));
    }
  }, 7);
  assert.equal(applied, 50);
  assert.deepEqual(
    seen,
    ops(0, 50).map((o) => o.n),
  );
  assert.equal(spool.pending, 3);
  await spool.drain(async (batch) => void seen.push(...batch.map((o) => o.n)));
  assert.deepEqual(
    seen,
    ops(0, 53).map((o) => o.n),
  );
  assert.equal(spool.pending, 0);
  assert.deepEqual(
    fs.readdirSync(path.join(dir, 'spool')).filter((f) => f.endsWith('.jsonl') && fs.statSync(path.join(dir, 'spool', f)).size > 0),
    [],
  );
});

test('a replay that fails keeps what it did not apply (the segment is replayed again: operations are idempotent); a new process finds the spool', async () => {
  const dir = path.join(tmpDir(), 'spool');
  const spool = new Spool<Op>(dir, { maxBytes: 1 << 20 });
  spool.append(ops(0, 10));
  let calls = 0;
  await assert.rejects(
    spool.drain(async () => {
      if (++calls === 2) throw new MssError('TEMPORARY_STORE_UNAVAILABLE', 'gone again');
    }, 4),
    /gone again/,
  );
  assert.equal(spool.pending, 10, 'the segment stays until all of it is applied');
  const reopened = new Spool<Op>(dir, { maxBytes: 1 << 20 });
  assert.equal(reopened.pending, 10);
  assert.ok(reopened.snapshot().oldest);
  const seen: number[] = [];
  assert.equal(await reopened.drain(async (b) => void seen.push(...b.map((o) => o.n))), 10);
  assert.deepEqual(
    seen,
    ops(0, 10).map((o) => o.n),
  );
});

test('the spool refuses to grow beyond state.redis.spoolMaxBytes (SPOOL_FULL) rather than fill the disk', () => {
  const spool = new Spool<Op>(path.join(tmpDir(), 'spool'), { maxBytes: 300 });
  spool.append(ops(0, 3));
  assert.throws(
    () => spool.append(ops(3, 10)),
    (e: unknown) => isMssError(e, 'SPOOL_FULL') && /state\.redis\.spoolMaxBytes/.test(e.message),
  );
  assert.equal(spool.pending, 3);
});

/**
 * A store whose journal writes fail while `down`, like Redis unreachable. `sync`: its append
 * is synchronous (journalAppendSync, as the embedded store's: the path the milter's end of
 * message takes, issue 20); otherwise it has only the asynchronous one, as Redis.
 */
function flakyStore(inner: EmbeddedStore, sync: boolean): StateStore & { down: boolean; appended: JournalRecord[] } {
  const s = Object.create(inner) as StateStore & { down: boolean; appended: JournalRecord[] };
  s.down = false;
  s.appended = [];
  const append = (records: readonly JournalRecord[]): void => {
    if (s.down) throw new MssError('TEMPORARY_STORE_UNAVAILABLE', 'Redis: connection refused');
    s.appended.push(...records);
    inner.journalAppendSync(records);
  };
  s.journalAppend = async (records) => append(records);
  Object.defineProperty(s, 'journalAppendSync', { value: sync ? append : undefined });
  return s;
}

for (const sync of [false, true])
  test(`EX_PSU_5830: journal events the store cannot take wait in the spool (record() resolves "deferred"), later ones queue behind, and the replayer applies them in order once the store answers (${sync ? 'a store that appends synchronously, as the embedded one: recordNow answers at once' : 'an asynchronous store, as Redis'})`, async () => {
    const dir = tmpDir();
    const store = flakyStore(new EmbeddedStore(path.join(dir, 'store')), sync);
    const spool = new Spool<{ kind: 'journal'; records: JournalRecord[] }>(path.join(dir, 'spool'), { maxBytes: 1 << 20 });
    const journal = new Journal(store, new SpoolDeferral(spool, silentLogger));
    const event = (i: number) => ({
      type: 'received' as const,
      at: new Date(Date.UTC(2026, 0, 10, 10, 0, i)).toISOString(),
      mailId: `Q${i}`,
      sender: 'a@x.mssante.fr',
      recipients: ['b@y.mssante.fr'],
      size: 10,
    });
    // recordNow: a string at once from a synchronous store (issue 20), a promise otherwise.
    const record = (e: ReturnType<typeof event>): 'written' | 'deferred' | Promise<'written' | 'deferred'> => {
      const r = journal.recordNow(e);
      assert.equal(typeof r === 'string', sync, sync ? 'answered before returning' : 'a promise');
      return r;
    };
    assert.equal(await record(event(0)), 'written');
    store.down = true;
    assert.equal(await record(event(1)), 'deferred');
    store.down = false;
    assert.equal(await record(event(2)), 'deferred', 'the store answers again, but event 1 waits: event 2 goes behind it');
    let pings = 0;
    const replayer = new SpoolReplayer({
      spool,
      ping: async () => void pings++,
      apply: async (batch) => store.journalAppend(batch.flatMap((o) => o.records)),
      intervalMs: 60_000,
      log: silentLogger,
    });
    assert.equal(await replayer.replay(), 2);
    assert.equal(pings, 1);
    assert.deepEqual(
      store.appended.map((r) => JSON.parse(r.data).mailId),
      ['Q0', 'Q1', 'Q2'],
    );
    assert.ok(
      store.appended.every((r) => typeof r.id === 'string' && r.id.length === 36),
      'each event carries its id',
    );
    assert.equal(await record(event(3)), 'written', 'the spool is empty: writes go straight to the store again');
    const back: string[] = [];
    for await (const e of journal.read({ from: new Date('2026-01-10T00:00:00Z'), to: new Date('2026-01-11T00:00:00Z') })) back.push(e.mailId);
    assert.deepEqual(back, ['Q0', 'Q1', 'Q2', 'Q3']);
    await replayer.stop();
    await store.close();
  });

test('EX_PSU_5830: a process started again after a crash that tore the last line of its spool appends to a new segment: the new write is replayed, the torn line alone is skipped', async () => {
  const dir = path.join(tmpDir(), 'spool');
  const before = new Spool<Op>(dir, { maxBytes: 1 << 20 });
  before.append(ops(0, 1));
  // The crash: half a line written, no newline.
  fs.appendFileSync(path.join(dir, '0000000001.jsonl'), '{"t":"2026-12-06T10:00:00.000Z","op":{"kind":"n","n":');
  const after = new Spool<Op>(dir, { maxBytes: 1 << 20 });
  after.append(ops(1, 1));
  const seen: number[] = [];
  await after.drain(async (b) => void seen.push(...b.map((o) => o.n)));
  assert.deepEqual(seen, [0, 1]);
  assert.equal(after.pending, 0);
});

test('EX_PSU_5830: `status` and /health add up the spools of every serve worker (serve.workers > 1) and say WARN with the count', async () => {
  const { parseConfigText } = await import('../../src/config/load.js');
  const { spoolCheck, spoolOnDisk } = await import('../../src/health/checks.js');
  const { spoolRoot } = await import('../../src/store/spool.js');
  const dir = tmpDir();
  const config = parseConfigText(
    `operator: { name: A, domains: [a.mssante.fr], structureId: "1130000001", certificate: c.pem, key: k.pem }
trust: { dir: t }
state: { dir: ${dir}/state, redis: { url: "redis://127.0.0.1:1" } }
serve: { workers: 2 }
`,
    `${dir}/config.yaml`,
  );
  assert.equal(spoolCheck(spoolOnDisk(config)).severity, 'ok');
  new Spool<Op>(path.join(spoolRoot(config), '1'), { maxBytes: 1 << 20 }).append(ops(0, 1));
  new Spool<Op>(path.join(spoolRoot(config), '2'), { maxBytes: 1 << 20 }).append(ops(1, 2));
  const check = spoolCheck(spoolOnDisk(config));
  assert.equal(check.severity, 'warning');
  assert.equal(check.value, 3);
  assert.match(check.detail, /^3 journal event\(s\) and login\(s\) wait in the local spool since \S+ \(\d+ bytes\)/);
});
