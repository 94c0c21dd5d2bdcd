// The inbound gate's digests on a node with the embedded store (src/gate/inbound/digest-log.ts):
// one append per claim and per commit (issue 20), the records seen by the other processes of
// the node and by a process started later, and never two processes delivering one message.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { InboundDedupe } from '../../src/gate/inbound/dedupe.js';
import { DigestLog } from '../../src/gate/inbound/digest-log.js';
import { EmbeddedStore } from '../../src/store/embedded.js';
import { tmpDir } from '../helpers/tmp.js';

const WINDOW = 86_400_000;

function setup(): { store: EmbeddedStore; logDir: string; dedupe: (node: string, now?: () => number) => InboundDedupe } {
  const dir = tmpDir('mss-digest-log-');
  const store = new EmbeddedStore(path.join(dir, 'store'));
  const logDir = path.join(dir, 'store', 'gate-in');
  return {
    store,
    logDir,
    dedupe: (node, now) => new InboundDedupe(store, { node, windowMs: WINDOW, dataDoneTimeoutMs: 10_000, logDir, ...(now ? { now } : {}) }),
  };
}

/** Files under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name));
}

test('issue 20: on the embedded store a claim and a commit are one append each — no file created, renamed or removed per message', async () => {
  const { store, logDir, dedupe } = setup();
  const d = dedupe('A1');
  const warm = await d.claim('warm'); // the day's file is created once
  assert.equal(warm.kind, 'new');
  const counts = { writeSync: 0, openSync: 0, renameSync: 0, unlinkSync: 0 };
  const f = fs as unknown as Record<keyof typeof counts, (...a: unknown[]) => unknown>;
  const saved = { ...counts } as unknown as Record<keyof typeof counts, (...a: unknown[]) => unknown>;
  for (const k of Object.keys(counts) as Array<keyof typeof counts>) {
    saved[k] = f[k];
    f[k] = (...a: unknown[]) => {
      counts[k]++;
      return saved[k](...a);
    };
  }
  try {
    for (let i = 0; i < 50; i++) {
      const c = await d.claim(`m${i}`);
      assert.equal(c.kind, 'new');
      if (c.kind === 'new') await c.commit(`Q${i}`);
    }
  } finally {
    for (const k of Object.keys(counts) as Array<keyof typeof counts>) f[k] = saved[k];
  }
  assert.deepEqual(counts, { writeSync: 100, openSync: 0, renameSync: 0, unlinkSync: 0 });
  assert.equal(filesUnder(logDir).length, 1, 'one log file for this process and day');
  d.close();
  await store.close();
});

/** Runs `f` with fs.statSync counted, by path. */
async function countingStats<T>(f: () => Promise<T> | T): Promise<{ result: T; stats: string[] }> {
  const stats: string[] = [];
  const mod = fs as unknown as { statSync: (...a: unknown[]) => unknown };
  const saved = mod.statSync;
  mod.statSync = (...a: unknown[]) => {
    stats.push(String(a[0]));
    return saved(...a);
  };
  try {
    return { result: await f(), stats };
  } finally {
    mod.statSync = saved;
  }
}

test('issue 20: a claim stats one directory, today s, whatever the duplicate window (7 days: was 16 stats per claim)', async () => {
  const { store, logDir } = setup();
  const d = new InboundDedupe(store, { node: 'A1', windowMs: 7 * WINDOW, dataDoneTimeoutMs: 10_000, logDir });
  assert.equal((await d.claim('warm')).kind, 'new');
  const { stats } = await countingStats(async () => {
    for (let i = 0; i < 50; i++) {
      const c = await d.claim(`s${i}`);
      assert.equal(c.kind, 'new');
      if (c.kind === 'new') await c.commit(`Q${i}`);
    }
  });
  assert.equal(stats.length, 50, 'one stat per claim, none per commit');
  assert.deepEqual([...new Set(stats.map((p) => path.relative(logDir, p)))], [new Date().toISOString().slice(0, 10)]);
  d.close();
  await store.close();
});

test('issue 20: the digest log stops looking at a past day s directory once it was found complete after that day ended; a writer that appeared there before is still seen', async () => {
  const { logDir } = setup();
  const midnight = Date.parse('2026-12-07T00:00:00Z');
  let clock = midnight - 1_000;
  const other = new DigestLog(logDir, WINDOW, () => clock);
  const w = new DigestLog(logDir, WINDOW, () => clock);
  assert.equal(w.create('before', { state: 'pending' }), true);
  clock = midnight - 500;
  other.put('late', { state: 'committed' }); // a new writer's file in the day that ends
  // The directory's mtime follows the injected clock, as it follows the one clock in
  // production: with the real mtime the test depended on the day it ran (it failed once
  // the real date passed this fixed midnight).
  const pastDay = path.join(logDir, '2026-12-06');
  fs.utimesSync(pastDay, new Date(clock), new Date(clock));
  clock = midnight + 5_000;
  const first = await countingStats(() => w.create('after', { state: 'pending' }));
  assert.equal(first.result, true);
  assert.ok(
    first.stats.some((p) => p.endsWith('2026-12-06')),
    'the past day is looked at once more after it ended',
  );
  assert.deepEqual(w.get('late'), { state: 'committed' }, 'and the writer that appeared in it before midnight is read');
  clock = midnight + 6_000;
  const next = await countingStats(() => w.create('next', { state: 'pending' }));
  assert.deepEqual(
    next.stats.map((p) => path.basename(p)),
    ['2026-12-07'],
    'then only today s directory',
  );
  clock = midnight - 10_000; // a clock stepped back: the day is today again, looked at
  const stepped = await countingStats(() => w.get('late'));
  assert.ok(stepped.stats.some((p) => p.endsWith('2026-12-06')));
  for (const x of [w, other]) x.close();
});

test('the digest log: a commit is seen by another process of the node and by a process started later; released, the next copy is new; pending on a live process: in flight', async () => {
  const { store, dedupe } = setup();
  const w1 = dedupe('A1');
  const w2 = dedupe('A1');
  const first = await w1.claim('d1');
  assert.equal(first.kind, 'new');
  if (first.kind !== 'new') return;
  assert.deepEqual(await w2.claim('d1'), { kind: 'in-flight', digest: 'd1', holder: `A1/${process.pid}` });
  await first.commit('4XyZ1');
  assert.deepEqual(await w2.claim('d1'), { kind: 'committed', digest: 'd1', at: first.at, mailId: '4XyZ1' });
  const later = dedupe('A1'); // a serve started afterwards reads the files of the window
  assert.deepEqual(await later.claim('d1'), { kind: 'committed', digest: 'd1', at: first.at, mailId: '4XyZ1' });
  const second = await w1.claim('d2');
  assert.equal(second.kind, 'new');
  if (second.kind === 'new') await second.release();
  assert.equal((await w2.claim('d2')).kind, 'new');
  for (const d of [w1, w2, later]) d.close();
  await store.close();
});

test('the digest log: a claim of a process that is gone is taken over with the first copy s event time; past the window a digest is new again', async () => {
  const { store, logDir, dedupe } = setup();
  const dead = new DigestLog(logDir, WINDOW);
  const claimedAt = Date.now();
  dead.put('d3', { state: 'pending', at: '2026-01-01T00:00:00.000Z', node: 'A1', pid: 1 << 30, claimedAt, until: claimedAt + 60_000 });
  dead.close();
  const d = dedupe('A1');
  const taken = await d.claim('d3');
  assert.equal(taken.kind, 'new');
  if (taken.kind !== 'new') return;
  assert.equal(taken.at, '2026-01-01T00:00:00.000Z', 'the first copy s event time: one journal event for both');
  assert.equal(taken.tookOverFrom, `A1/${1 << 30}`);
  await taken.commit('Q3');
  const tomorrow = dedupe('A1', () => Date.now() + WINDOW + 1000);
  assert.equal((await tomorrow.claim('d3')).kind, 'new', 'the window has passed');
  for (const x of [d, tomorrow]) x.close();
  await store.close();
});

test('the digest log: a writer s lines count in the order it wrote them, even when the clock steps back between them', () => {
  const { logDir } = setup();
  let clock = Date.now();
  const w = new DigestLog(logDir, WINDOW, () => clock);
  assert.equal(w.create('c1', { state: 'pending' }), true);
  clock -= 5_000; // an NTP step back
  w.remove('c1');
  assert.equal(w.get('c1'), undefined, 'the release counts for its writer');
  const reader = new DigestLog(logDir, WINDOW, () => clock);
  assert.equal(reader.get('c1'), undefined, 'and for the node s other processes');
  for (const x of [w, reader]) x.close();
});

test('the digest log: four processes claiming the same 150 digests at once — never two deliver one', async () => {
  const { store, logDir } = setup();
  const dedupeUrl = new URL('../../src/gate/inbound/dedupe.js', import.meta.url).href;
  const storeUrl = new URL('../../src/store/embedded.js', import.meta.url).href;
  const sync = path.join(logDir, '..', 'sync');
  fs.mkdirSync(sync);
  const at = (name: string): string => JSON.stringify(path.join(sync, name));
  // Each child claims every digest, then stays alive until all have finished: a claim whose
  // process has exited is rightly taken over (its holder is gone).
  const child = (n: number): string => `
    import fs from 'node:fs';
    const { InboundDedupe } = await import(${JSON.stringify(dedupeUrl)});
    const { EmbeddedStore } = await import(${JSON.stringify(storeUrl)});
    const d = new InboundDedupe(new EmbeddedStore(${JSON.stringify(path.join(logDir, '..'))}), { node: 'A1', windowMs: ${WINDOW}, dataDoneTimeoutMs: 10000, logDir: ${JSON.stringify(logDir)} });
    const until = async (f) => { while (!fs.existsSync(f)) await new Promise((r) => setTimeout(r, 2)); };
    fs.writeFileSync(${at(`ready${n}`)}, '');
    await until(${at('go')});
    const kinds = [];
    for (let i = 0; i < 150; i++) kinds.push((await d.claim('race' + i)).kind);
    fs.writeFileSync(${at(`result${n}.tmp`)}, JSON.stringify(kinds));
    fs.renameSync(${at(`result${n}.tmp`)}, ${at(`result${n}`)});
    await until(${at('end')});
    d.close();
  `;
  const children = [0, 1, 2, 3].map((n) => spawn(process.execPath, ['--input-type=module', '-e', child(n)], { stdio: ['ignore', 'ignore', 'inherit'] }));
  const exited = children.map((p) => new Promise((resolve) => p.on('exit', resolve)));
  try {
    const waitFor = async (names: string[]): Promise<void> => {
      const deadline = Date.now() + 60_000;
      while (!names.every((n) => fs.existsSync(path.join(sync, n)))) {
        if (Date.now() > deadline) throw new Error(`children did not write ${names.join(', ')} in time`);
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    await waitFor(['ready0', 'ready1', 'ready2', 'ready3']);
    fs.writeFileSync(path.join(sync, 'go'), '');
    await waitFor(['result0', 'result1', 'result2', 'result3']);
    const results = [0, 1, 2, 3].map((n) => JSON.parse(fs.readFileSync(path.join(sync, `result${n}`), 'utf8')) as string[]);
    for (let i = 0; i < 150; i++) {
      const kinds = results.map((r) => r[i]);
      assert.ok(kinds.filter((k) => k === 'new').length <= 1, `digest ${i}: ${kinds.join(', ')}`);
      assert.ok(
        kinds.every((k) => k === 'new' || k === 'in-flight'),
        `digest ${i}: ${kinds.join(', ')}`,
      );
    }
  } finally {
    fs.writeFileSync(path.join(sync, 'end'), '');
    for (const p of children) setTimeout(() => p.kill('SIGKILL'), 10_000).unref();
    await Promise.all(exited);
  }
  await store.close();
});
