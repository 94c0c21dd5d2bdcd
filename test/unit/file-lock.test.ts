// The lock between processes of one node (src/util/file-lock.ts) as one process uses it:
// many callers at once, as a counter under a burst of sessions.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { isMssError } from '../../src/errors.js';
import { processStart, withFileLock, withFileLockSync } from '../../src/util/file-lock.js';
import { tmpDir } from '../helpers/tmp.js';

test('200 concurrent callers of one process take the lock one at a time, in arrival order, without polling each other into the timeout', async () => {
  const lock = path.join(tmpDir('mss-lock-'), '.k.lock');
  const order: number[] = [];
  let inside = 0;
  const t0 = Date.now();
  await Promise.all(
    Array.from({ length: 200 }, (_, i) =>
      withFileLock(
        lock,
        async () => {
          inside++;
          assert.equal(inside, 1, 'two callers inside at once');
          assert.ok(fs.existsSync(lock), 'the lock file is held');
          await new Promise((r) => setImmediate(r));
          order.push(i);
          inside--;
        },
        // Short: the wait for the callers ahead in this process must not count against it.
        { timeoutMs: 1000 },
      ),
    ),
  );
  assert.deepEqual(
    order,
    Array.from({ length: 200 }, (_, i) => i),
  );
  assert.equal(fs.existsSync(lock), false, 'released');
  console.log(`200 turns in ${Date.now() - t0} ms`);
});

test('a caller that throws releases the lock and its turn; the next one gets it', async () => {
  const lock = path.join(tmpDir('mss-lock-'), '.k.lock');
  const failing = withFileLock(lock, () => {
    throw new Error('boom');
  });
  const next = withFileLock(lock, () => 'next');
  await assert.rejects(failing, /boom/);
  assert.equal(await next, 'next');
  assert.equal(fs.existsSync(lock), false);
});

/** A lock file as another holder left it, its mtime `ageMs` in the past (negative: the future). */
function heldBy(holder: object, ageMs: number): string {
  const lock = path.join(tmpDir('mss-lock-'), '.k.lock');
  fs.writeFileSync(lock, JSON.stringify({ nonce: 'theirs', ...holder }));
  const t = new Date(Date.now() - ageMs);
  fs.utimesSync(lock, t, t);
  return lock;
}

const HOUR = 3_600_000;
const timedOut = (err: unknown) => isMssError(err) && err.code === 'TEMPORARY_LOCK_TIMEOUT';

test('a lock held by a live process of this host is waited for however old its file looks (a wall clock stepped forward, a holder stalled under load): never taken from it', async () => {
  const live = { pid: process.pid, host: os.hostname(), start: processStart(process.pid) };
  assert.ok(live.start, 'this process s start time is readable');
  const lock = heldBy(live, HOUR);
  const before = fs.readFileSync(lock, 'utf8');
  await assert.rejects(
    withFileLock(lock, () => 'taken', { staleMs: 50, timeoutMs: 300 }),
    timedOut,
  );
  assert.throws(() => withFileLockSync(lock, () => 'taken', { staleMs: 50, timeoutMs: 300 }), timedOut);
  assert.equal(fs.readFileSync(lock, 'utf8'), before, 'the holder s lock file is untouched');
});

test('a lock whose pid now belongs to another process (another start time), or to no process, is taken at once, however young', async () => {
  const reused = heldBy({ pid: process.pid, host: os.hostname(), start: '1' }, -HOUR);
  assert.equal(await withFileLock(reused, () => 'taken', { staleMs: HOUR, timeoutMs: 300 }), 'taken');
  const gone = spawnSync('true').pid;
  const dead = heldBy({ pid: gone, host: os.hostname(), start: '1' }, -HOUR);
  assert.equal(await withFileLock(dead, () => 'taken', { staleMs: HOUR, timeoutMs: 300 }), 'taken');
});

test('a lock the waiter cannot check (another host s, or written by an older version without a start time) is judged by its file s age', async () => {
  for (const holder of [
    { pid: process.pid, host: 'elsewhere.example' },
    { pid: process.pid, host: os.hostname() },
  ]) {
    await assert.rejects(
      withFileLock(heldBy(holder, 0), () => 'taken', { staleMs: HOUR, timeoutMs: 200 }),
      timedOut,
    );
    assert.equal(await withFileLock(heldBy(holder, 2 * HOUR), () => 'taken', { staleMs: HOUR, timeoutMs: 200 }), 'taken');
  }
});

test('a lock file found empty (its holder is filling it in) is not broken in that instant, even with an old mtime; one that stays empty is a crash leftover, broken', async () => {
  const live = { pid: process.pid, host: os.hostname(), nonce: 'theirs', start: processStart(process.pid) };
  const filling = heldBy({}, 2 * HOUR);
  fs.writeFileSync(filling, '');
  fs.utimesSync(filling, new Date(Date.now() - 2 * HOUR), new Date(Date.now() - 2 * HOUR));
  const filled = new Promise<void>((resolve) =>
    setTimeout(() => {
      fs.writeFileSync(filling, JSON.stringify(live)); // the creator's write lands
      resolve();
    }, 30),
  );
  await assert.rejects(
    withFileLock(filling, () => 'taken', { staleMs: 50, timeoutMs: 300 }),
    timedOut,
  );
  await filled;
  assert.deepEqual(JSON.parse(fs.readFileSync(filling, 'utf8')), live, 'the holder keeps its lock');

  const leftover = heldBy({}, 2 * HOUR);
  fs.writeFileSync(leftover, '');
  fs.utimesSync(leftover, new Date(Date.now() - 2 * HOUR), new Date(Date.now() - 2 * HOUR));
  const t0 = performance.now();
  assert.equal(await withFileLock(leftover, () => 'taken', { staleMs: 50, timeoutMs: 2000 }), 'taken');
  assert.ok(performance.now() - t0 >= 90, 'after being seen empty for a while');
});
