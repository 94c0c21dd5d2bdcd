import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { EmbeddedStore } from '../../src/store/embedded.js';
import { tmpDir } from '../helpers/tmp.js';
import { storeContract } from './store-contract.js';

const dir = tmpDir('mss-store-');
storeContract('embedded store', () => ({ kind: 'embedded', dir }));

test('embedded store: files are private (0600) and a torn journal line is skipped', async () => {
  const d = tmpDir('mss-store-');
  const s = new EmbeddedStore(d);
  await s.hset('bal:a@b.fr', { lastLogin: '1' });
  await s.journalAppend([{ at: Date.UTC(2025, 0, 1), data: '{"ok":1}' }]);
  await s.close();
  const kv = path.join(d, 'kv', 'bal', 'a@b.fr');
  assert.equal(fs.statSync(kv).mode & 0o777, 0o600);
  const dayDir = path.join(d, 'journal', '2025-01-01');
  const [file] = fs.readdirSync(dayDir);
  assert.ok(file);
  assert.equal(fs.statSync(path.join(dayDir, file)).mode & 0o777, 0o600);
  fs.appendFileSync(path.join(dayDir, file), '1735689600001');
  const s2 = new EmbeddedStore(d);
  const got = [];
  for await (const r of s2.journalRead(Date.UTC(2025, 0, 1), Date.UTC(2025, 0, 2))) got.push(r.data);
  assert.deepEqual(got, ['{"ok":1}']);
  await s2.close();
});

test('embedded store: maintenance removes expired keys and a lock left by a dead process is taken over', async () => {
  const d = tmpDir('mss-store-');
  const s = new EmbeddedStore(d);
  await s.set('cache:x', 'v', { ttlMs: 10 });
  await new Promise((r) => setTimeout(r, 30));
  await s.maintenance();
  assert.deepEqual(fs.readdirSync(path.join(d, 'kv', 'cache')), []);
  // A lock file whose holder PID does not exist must not block the counter.
  fs.mkdirSync(path.join(d, 'kv', 'count'), { recursive: true });
  fs.writeFileSync(path.join(d, 'kv', 'count', '.k.lock'), JSON.stringify({ pid: 2 ** 22 + 12345, host: (await import('node:os')).hostname(), nonce: 'x' }));
  assert.equal(await s.incr('count:k'), 1);
  await s.close();
});

test('embedded store: the journal records of one append go to each day file in one write (issue 20), all read back', async () => {
  const s = new EmbeddedStore(tmpDir());
  const day1 = Date.UTC(2025, 2, 1, 10);
  const day2 = Date.UTC(2025, 2, 2, 10);
  await s.journalAppend([{ at: day1, data: '{"n":0}' }]); // the day file exists
  const writes: string[] = [];
  const writeSync = fs.writeSync;
  (fs as { writeSync: unknown }).writeSync = (fd: number, data: string, ...rest: unknown[]) => {
    writes.push(String(data));
    return (writeSync as (...a: unknown[]) => number)(fd, data, ...rest);
  };
  try {
    await s.journalAppend([1, 2, 3].map((n) => ({ at: day1 + n, data: `{"n":${n}}` })).concat([{ at: day2, data: '{"n":4}' }]));
  } finally {
    (fs as { writeSync: unknown }).writeSync = writeSync;
  }
  assert.equal(writes.length, 2, 'one write per day file');
  const got: string[] = [];
  for await (const r of s.journalRead(day1, day2 + 1)) got.push(r.data);
  assert.deepEqual(
    got,
    [0, 1, 2, 3, 4].map((n) => `{"n":${n}}`),
  );
  await s.close();
});

test('embedded store: soft state (TTL values, counters, set ifAbsent) is written without thread-pool round trips and without a mkdir per write (issue 20)', async () => {
  const s = new EmbeddedStore(tmpDir('mss-store-'));
  await s.set('gate-in:warm', 'x', { ttlMs: 60_000 }); // the namespace directory is made once
  const calls: string[] = [];
  const promises = fs.promises as unknown as Record<string, unknown>;
  const names = ['open', 'readFile', 'writeFile', 'rename', 'unlink', 'mkdir', 'rm'] as const;
  const saved = names.map((n) => promises[n]);
  const mkdirSync = fs.mkdirSync;
  for (const n of names) {
    const original = promises[n] as (...a: unknown[]) => unknown;
    promises[n] = (...a: unknown[]) => {
      calls.push(n);
      return original(...a);
    };
  }
  (fs as { mkdirSync: unknown }).mkdirSync = (...a: unknown[]) => {
    calls.push('mkdirSync');
    return (mkdirSync as (...x: unknown[]) => unknown)(...a);
  };
  try {
    for (let i = 0; i < 20; i++) {
      assert.equal(await s.set(`gate-in:d${i}`, 'pending', { ifAbsent: true, ttlMs: 60_000 }), true);
      assert.equal(await s.set(`gate-in:d${i}`, 'again', { ifAbsent: true, ttlMs: 60_000 }), false);
      await s.set(`gate-in:d${i}`, 'committed', { ttlMs: 60_000 });
      assert.equal(await s.get(`gate-in:d${i}`), 'committed');
      await s.incr('gate-in:count', { windowMs: 60_000 });
    }
  } finally {
    names.forEach((n, i) => (promises[n] = saved[i]));
    (fs as { mkdirSync: unknown }).mkdirSync = mkdirSync;
  }
  assert.deepEqual(calls, [], 'no asynchronous fs call and no mkdir for soft state');
  assert.equal(await s.get('gate-in:d19'), 'committed');
  assert.equal(await s.incr('gate-in:count'), 21);
  await s.close();
});
