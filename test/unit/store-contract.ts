// The contract every StateStore backend passes (embedded: test/unit/store-embedded.test.ts,
// Redis: test/integration/store-redis.test.ts). Written once so both backends are held to
// exactly the same behaviour.
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { LOGIN_HISTORY_MONTHS } from '../../src/registry/login-history.js';
import { RuntimeFields } from '../../src/registry/runtime.js';
import type { JournalRecord, StateStore } from '../../src/store/store.js';
import { openSpec, type StoreSpec } from '../helpers/store-worker.js';
import { spawnTracked } from '../helpers/processes.js';

const WORKER = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'helpers', 'store-worker.js');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// Expiry windows are wide enough that a loaded CI machine (the suite runs files in
// parallel on 2 cores) cannot pass them between two consecutive store calls.
const TTL = 1500;
const T0 = Date.UTC(2025, 2, 31, 23, 59, 59, 900); // spans a month and a day boundary

export function storeContract(name: string, spec: () => StoreSpec): void {
  const open = (): StateStore => openSpec(spec());

  test(`${name}: get/set/del round-trip strings, including unicode and long keys`, async () => {
    const s = open();
    try {
      assert.equal(await s.get('kv:missing'), undefined);
      assert.equal(await s.set('kv:a', 'é;\n"x"'), true);
      assert.equal(await s.get('kv:a'), 'é;\n"x"');
      const long = `kv:${'x'.repeat(400)}/ü`;
      await s.set(long, 'v');
      assert.equal(await s.get(long), 'v');
      assert.equal(await s.del('kv:a'), true);
      assert.equal(await s.del('kv:a'), false);
      assert.equal(await s.get('kv:a'), undefined);
    } finally {
      await s.close();
    }
  });

  test(`${name}: a value with a TTL disappears after it, ifAbsent refuses a live key only`, async () => {
    const s = open();
    try {
      assert.equal(await s.set('cache:t', 'v', { ttlMs: TTL }), true);
      assert.equal(await s.get('cache:t'), 'v');
      assert.equal(await s.set('cache:t', 'w', { ifAbsent: true, ttlMs: TTL }), false);
      assert.equal(await s.get('cache:t'), 'v');
      await sleep(TTL + 300);
      assert.equal(await s.get('cache:t'), undefined);
      assert.equal(await s.set('cache:t', 'w', { ifAbsent: true }), true, 'an expired key counts as absent');
      assert.equal(await s.get('cache:t'), 'w');
    } finally {
      await s.close();
    }
  });

  test(`${name}: counters with a fixed window restart after it`, async () => {
    const s = open();
    try {
      assert.equal(await s.incr('rate:a', { windowMs: TTL }), 1);
      assert.equal(await s.incr('rate:a', { windowMs: TTL }), 2);
      assert.equal(await s.incr('rate:a', { windowMs: TTL, by: 5 }), 7);
      assert.equal(await s.get('rate:a'), '7');
      await sleep(TTL + 300);
      assert.equal(await s.incr('rate:a', { windowMs: TTL }), 1, 'a new window starts from zero');
      assert.equal(await s.incr('count:forever'), 1);
      assert.equal(await s.incr('count:forever'), 2);
    } finally {
      await s.close();
    }
  });

  test(`${name}: concurrent increments from one process are all counted`, async () => {
    const s = open();
    try {
      await Promise.all(Array.from({ length: 100 }, () => s.incr('count:par')));
      assert.equal(await s.get('count:par'), '100');
    } finally {
      await s.close();
    }
  });

  test(`${name}: increments from four processes at once are all counted`, async () => {
    const sp = JSON.stringify(spec());
    const children = Array.from({ length: 4 }, () => runWorker(sp, 60, 'count:multi'));
    const results = await Promise.all(children);
    for (const r of results) assert.equal(r.status, 0, r.stderr);
    const s = open();
    try {
      assert.equal(await s.get('count:multi'), '240');
    } finally {
      await s.close();
    }
  });

  test(`${name}: hashes merge fields, delete fields, read many at once`, async () => {
    const s = open();
    try {
      assert.deepEqual(await s.hgetall('bal:x@d.fr'), {});
      await s.hset('bal:x@d.fr', { lastLogin: '1', lastExchange: '2' });
      await s.hset('bal:x@d.fr', { lastLogin: '3' });
      assert.deepEqual(await s.hgetall('bal:x@d.fr'), { lastLogin: '3', lastExchange: '2' });
      assert.equal(await s.hget('bal:x@d.fr', 'lastExchange'), '2');
      assert.equal(await s.hget('bal:x@d.fr', 'nope'), undefined);
      await s.hdel('bal:x@d.fr', ['lastExchange']);
      assert.deepEqual(await s.hgetall('bal:x@d.fr'), { lastLogin: '3' });
      await s.hset('bal:y@d.fr', { a: 'b' });
      assert.deepEqual(await s.hgetallMany(['bal:x@d.fr', 'bal:none@d.fr', 'bal:y@d.fr']), [{ lastLogin: '3' }, {}, { a: 'b' }]);
      await Promise.all(Array.from({ length: 30 }, (_, i) => s.hset('bal:z@d.fr', { [`f${i}`]: String(i) })));
      assert.equal(Object.keys(await s.hgetall('bal:z@d.fr')).length, 30, 'concurrent hset of different fields loses none');
      await assert.rejects(s.incr('bal:y@d.fr'), (e: unknown) => (e as { code?: string }).code === 'STORE_WRONG_TYPE');
    } finally {
      await s.close();
    }
  });

  test(`${name}: scan lists the live keys under a prefix only`, async () => {
    const s = open();
    try {
      await s.hset('scan:one@a.fr', { f: '1' });
      await s.hset('scan:two@a.fr', { f: '2' });
      await s.set('scan:gone', 'x', { ttlMs: 50 });
      await s.set('other:one@a.fr', 'x');
      await sleep(120);
      const keys: string[] = [];
      for await (const k of s.scan('scan:')) keys.push(k);
      assert.deepEqual(keys.sort(), ['scan:one@a.fr', 'scan:two@a.fr']);
      const some: string[] = [];
      for await (const k of s.scan('scan:one')) some.push(k);
      assert.deepEqual(some, ['scan:one@a.fr']);
    } finally {
      await s.close();
    }
  });

  test(`${name}: the journal returns exactly the records of a time range, day by day, in append order`, async () => {
    const s = open();
    try {
      const recs = Array.from({ length: 10 }, (_, i) => ({ at: T0 + i * 20, data: JSON.stringify({ i, s: 'a;b' }) }));
      await s.journalAppend(recs.slice(0, 5));
      await s.journalAppend(recs.slice(5));
      const all = [];
      for await (const r of s.journalRead(T0, T0 + 1000)) all.push(r);
      assert.deepEqual(all, recs);
      const part = [];
      for await (const r of s.journalRead(T0 + 100, T0 + 160)) part.push(JSON.parse(r.data).i);
      assert.deepEqual(part, [5, 6, 7], 'from inclusive, to exclusive, across midnight');
      const none = [];
      for await (const r of s.journalRead(T0 + 1000, T0 + 5000)) none.push(r);
      assert.deepEqual(none, []);
    } finally {
      await s.close();
    }
  });

  test(`${name}: journalScan gives the records of journalRead in batches, and only those containing a text when asked`, async () => {
    const s = open();
    // A time of its own (the store is shared by the tests of a backend), across midnight.
    const T1 = Date.UTC(2025, 5, 15, 23, 59, 50);
    try {
      const recs = Array.from({ length: 3000 }, (_, i) => ({
        at: T1 + i * 10,
        data: JSON.stringify({ i, kind: i % 100 === 7 ? 'rare' : 'common', pad: 'é'.repeat(i % 40) }),
      }));
      await s.journalAppend(recs);
      const read = [];
      for await (const r of s.journalRead(T1 + 5, T1 + 29_995)) read.push(r);
      const batches: JournalRecord[][] = [];
      for await (const b of s.journalScan(T1 + 5, T1 + 29_995)) batches.push(b);
      assert.ok(batches.every((b) => b.length > 0));
      assert.deepEqual(batches.flat(), read);
      assert.deepEqual(read, recs.slice(1));
      const rare = [];
      for await (const b of s.journalScan(T1, T1 + 30_000, { contains: '"rare"' })) rare.push(...b.map((r) => JSON.parse(r.data).i));
      assert.deepEqual(
        rare,
        recs.filter((_, i) => i % 100 === 7).map((_, k) => k * 100 + 7),
      );
    } finally {
      await s.close();
    }
  });

  test(`${name}: journal records from several processes are all kept`, async () => {
    const sp = JSON.stringify(spec());
    const results = await Promise.all(Array.from({ length: 3 }, () => runWorker(sp, 50, 'x', 'journal')));
    for (const r of results) assert.equal(r.status, 0, r.stderr);
    const s = open();
    try {
      const byPid = new Map<number, number[]>();
      for await (const r of s.journalRead(Date.UTC(2025, 0, 1), Date.UTC(2025, 0, 2))) {
        const { pid, i } = JSON.parse(r.data) as { pid: number; i: number };
        byPid.set(pid, [...(byPid.get(pid) ?? []), i]);
      }
      assert.equal(byPid.size, 3);
      for (const list of byPid.values())
        assert.deepEqual(
          list,
          Array.from({ length: 50 }, (_, i) => i),
          'each writer in its own order',
        );
    } finally {
      await s.close();
    }
  });

  test(`${name}: journal pruning drops whole days before the limit`, async () => {
    const s = open();
    try {
      const d1 = Date.UTC(2024, 0, 10, 12);
      const d2 = Date.UTC(2024, 0, 11, 12);
      await s.journalAppend([
        { at: d1, data: '{"d":1}' },
        { at: d2, data: '{"d":2}' },
      ]);
      assert.equal(await s.journalPrune(Date.UTC(2024, 0, 11, 6)), 1);
      const left = [];
      for await (const r of s.journalRead(Date.UTC(2024, 0, 1), Date.UTC(2024, 1, 1))) left.push(r.data);
      assert.deepEqual(left, ['{"d":2}']);
    } finally {
      await s.close();
    }
  });

  test(`${name}: EX_PSU_5840 per-month login history — the latest login of each month (operator zone), bounded, older months dropped as a whole`, async () => {
    const s = open();
    try {
      const rt = new RuntimeFields(s);
      const bal = 'jean.dupont@ch-test.mssante.fr';
      await rt.setLastLogin(bal, new Date('2025-11-30T22:30:00Z'), '810000000001', 'Europe/Paris'); // 23:30 in Paris: November
      await rt.setLastLogin(bal, new Date('2025-11-10T08:00:00Z'), '810000000001', 'Europe/Paris'); // older: ignored
      await rt.setLastLogin(bal, new Date('2025-11-30T23:30:00Z'), '810000000001', 'Europe/Paris'); // 00:30 in Paris: December
      const r = await rt.get(bal);
      assert.equal(r.lastLogin?.toISOString(), '2025-11-30T23:30:00.000Z');
      assert.deepEqual([...(r.logins?.months ?? new Map()).entries()].map(([m, d]) => [m, d.toISOString()]).sort(), [
        ['2025-11', '2025-11-30T22:30:00.000Z'],
        ['2025-12', '2025-11-30T23:30:00.000Z'],
      ]);
      for (let i = 0; i < LOGIN_HISTORY_MONTHS + 2; i++) await rt.setLastLogin(bal, new Date(Date.UTC(2026, i, 15, 8)), '810000000001', 'Europe/Paris');
      const [bounded] = await rt.getMany([bal]);
      assert.equal(bounded?.logins?.months.size, LOGIN_HISTORY_MONTHS);
      assert.equal(bounded?.logins?.completeFrom, '2026-03');
      assert.equal(Object.keys(await s.hgetall(`bal:${bal}`)).filter((k) => k.startsWith('login:')).length, LOGIN_HISTORY_MONTHS);
    } finally {
      await s.close();
    }
  });

  test(`${name}: a lease is held by one holder at a time, with a fencing token that grows at each acquisition`, async () => {
    const s = open();
    try {
      const first = await s.leaseAcquire('job-a', 'node1/1', 60_000);
      assert.ok(first.acquired);
      const second = await s.leaseAcquire('job-a', 'node2/2', 60_000);
      assert.equal(second.acquired, false);
      assert.equal(!second.acquired && second.current?.holder, 'node1/1');
      assert.equal(!second.acquired && second.current?.token, first.token);
      assert.ok(!second.acquired && (second.current?.ttlMs ?? 0) > 50_000);
      assert.deepEqual(
        (await s.leases()).filter((l) => l.name === 'job-a').map((l) => [l.holder, l.token]),
        [['node1/1', first.token]],
      );
      assert.equal(await s.leaseRenew('job-a', first.token + 1, 60_000), false, 'another token cannot renew');
      assert.equal(await s.leaseRelease('job-a', first.token + 1), false, 'another token cannot release');
      assert.equal(await s.leaseRenew('job-a', first.token, 60_000), true);
      assert.equal(await s.leaseRelease('job-a', first.token), true);
      assert.equal(await s.leaseRelease('job-a', first.token), false, 'released once');
      const third = await s.leaseAcquire('job-a', 'node2/2', 60_000);
      assert.ok(third.acquired);
      assert.equal(third.token, first.token + 1, 'never the same token twice');
      await assert.rejects(s.leaseAcquire('Bad Name', 'x', 1000), (e: unknown) => (e as { code?: string }).code === 'STORE_BAD_KEY');
    } finally {
      await s.close();
    }
  });

  test(`${name}: an expired lease goes to the next holder; the old token can neither renew nor write (fencing)`, async () => {
    const s = open();
    try {
      const old = await s.leaseAcquire('job-b', 'paused/1', TTL);
      assert.ok(old.acquired);
      assert.equal(await s.fencedWrite({ name: 'job-b', token: old.token }, { op: 'set', key: 'fenced:v', value: 'by-old' }), true);
      await sleep(TTL + 300);
      const next = await s.leaseAcquire('job-b', 'other/2', 60_000);
      assert.ok(next.acquired, 'an expired lease is free');
      assert.ok(next.token > old.token);
      assert.equal(await s.leaseRenew('job-b', old.token, 60_000), false, 'the paused holder cannot take it back');
      for (const w of [
        { op: 'set', key: 'fenced:v', value: 'late' },
        { op: 'del', key: 'fenced:v' },
        { op: 'hset', key: 'fenced:h', fields: { a: '1' } },
        { op: 'incr', key: 'fenced:n' },
      ] as const) {
        await assert.rejects(s.fencedWrite({ name: 'job-b', token: old.token }, w), (e: unknown) => (e as { code?: string }).code === 'LEASE_LOST', w.op);
      }
      assert.equal(await s.get('fenced:v'), 'by-old', 'nothing written with the old token');
      assert.deepEqual(await s.hgetall('fenced:h'), {});
      const lease = { name: 'job-b', token: next.token };
      assert.equal(await s.fencedWrite(lease, { op: 'set', key: 'fenced:v', value: 'by-next' }), true);
      assert.equal(await s.fencedWrite(lease, { op: 'set', key: 'fenced:v', value: 'again', ifAbsent: true }), false);
      assert.equal(await s.fencedWrite(lease, { op: 'hset', key: 'fenced:h', fields: { a: '1', b: '2' } }), true);
      assert.equal(await s.fencedWrite(lease, { op: 'hdel', key: 'fenced:h', fields: ['a'] }), true);
      assert.equal(await s.fencedWrite(lease, { op: 'incr', key: 'fenced:n', by: 3 }), 3);
      assert.equal(await s.fencedWrite(lease, { op: 'set', key: 'fenced:t', value: 'x', ttlMs: 60_000 }), true);
      assert.equal(await s.get('fenced:v'), 'by-next');
      assert.deepEqual(await s.hgetall('fenced:h'), { b: '2' });
      assert.equal(await s.fencedWrite(lease, { op: 'del', key: 'fenced:v' }), true);
      assert.equal(await s.get('fenced:v'), undefined);
      assert.equal(await s.leaseRelease('job-b', next.token), true);
      await assert.rejects(
        s.fencedWrite(lease, { op: 'set', key: 'fenced:v', value: 'after release' }),
        (e: unknown) => (e as { code?: string }).code === 'LEASE_LOST',
      );
    } finally {
      await s.close();
    }
  });

  test(`${name}: four processes racing for one lease: exactly one gets it`, async () => {
    const sp = JSON.stringify(spec());
    const results = await Promise.all(Array.from({ length: 4 }, () => runWorker(sp, 1, 'race', 'lease')));
    for (const r of results) assert.equal(r.status, 0, r.stderr);
    const s = open();
    try {
      assert.equal(await s.get('count:lease-race'), '1', 'one winner, which alone could write with its token');
    } finally {
      await s.close();
    }
  });

  test(`${name}: keys without a namespace are refused`, async () => {
    const s = open();
    try {
      await assert.rejects(s.set('nonamespace', 'x'), (e: unknown) => (e as { code?: string }).code === 'STORE_BAD_KEY');
    } finally {
      await s.close();
    }
  });
}

function runWorker(spec: string, n: number, key: string, mode = 'incr'): Promise<{ status: number | null; stderr: string }> {
  const p = spawnTracked(process.execPath, [WORKER, spec, String(n), key, mode]);
  return new Promise((resolve) => {
    const t = setTimeout(() => void p.stop('SIGKILL'), 60_000);
    p.child.once('exit', (status) => {
      clearTimeout(t);
      resolve({ status, stderr: p.output() });
    });
  });
}
