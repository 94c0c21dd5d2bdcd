// The lock between processes of one node (src/util/file-lock.ts) as one process uses it:
// many callers at once, as a counter under a burst of sessions.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { withFileLock } from '../../src/util/file-lock.js';
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
