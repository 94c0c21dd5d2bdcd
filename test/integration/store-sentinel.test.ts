// The Redis store behind Redis Sentinel (1 master, 1 replica, 3 sentinels, real processes):
// the same contract as every backend, configured as an administrator writes it
// (state.redis.sentinels + masterName); a journal event counts as written only once the
// replica has it (WAIT), so killing the master loses none of them; the store follows the
// failover by itself.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { stateSection } from '../../src/config/core-sections.js';
import { openStore } from '../../src/store/open.js';
import { RedisStore } from '../../src/store/redis.js';
import type { StateStore } from '../../src/store/store.js';
import { startSentinelSet, until } from '../helpers/sentinel.js';
import { tmpDir } from '../helpers/tmp.js';
import { storeContract } from '../unit/store-contract.js';

const set = await startSentinelSet();
after(() => set.stop());

function sentinelState(keyPrefix: string, extra: Record<string, unknown> = {}) {
  return stateSection.parse({
    dir: tmpDir('mss-sentinel-state-'),
    redis: { sentinels: set.sentinelAddresses.map((a) => `${a.host}:${a.port}`), masterName: set.masterName, keyPrefix, ...extra },
  });
}

storeContract('redis store via sentinel', () => ({
  kind: 'redis-sentinel',
  sentinels: set.sentinelAddresses,
  masterName: set.masterName,
  keyPrefix: 'contract:',
}));

test('state.redis: sentinels and masterName, or url, never both; waitReplicas defaults to 1 with sentinels', () => {
  const parsed = sentinelState('p:');
  assert.equal(parsed.redis?.waitReplicas, 1);
  assert.deepEqual(parsed.redis?.sentinels?.[0], set.sentinelAddresses[0]);
  assert.equal(stateSection.parse({ redis: { url: 'redis://127.0.0.1:6379' } }).redis?.waitReplicas, 0);
  const both = stateSection.safeParse({ redis: { url: 'redis://127.0.0.1:6379', sentinels: ['127.0.0.1:26379'], masterName: 'mss' } });
  assert.equal(both.success, false);
  assert.match(JSON.stringify(both.error?.issues), /either url .* or sentinels/);
  const noName = stateSection.safeParse({ redis: { sentinels: ['127.0.0.1:26379'] } });
  assert.match(JSON.stringify(noName.error?.issues), /masterName|name of the master/);
});

test('through the sentinels the store writes to the master, and a journal event is on the replica when journalAppend resolves (WAIT)', async () => {
  const store = openStore(sentinelState('wait:')) as RedisStore;
  try {
    const r = await store.replication();
    assert.equal(r.role, 'master');
    assert.equal(r.address, await set.master());
    assert.equal(r.connectedReplicas, 1);
    assert.equal(r.waitReplicas, 1);
    await store.journalAppend([{ at: Date.UTC(2025, 4, 1), data: '{"n":1}', id: 'e1' }]);
  } finally {
    await store.close();
  }
});

test('EX_PSU_5830: a journal event that no replica confirmed is refused as temporary (the daemon spools it), and written once when replayed', async () => {
  const replica = set.servers[1];
  assert.ok(replica);
  // The replica stops answering (SIGSTOP): the master still takes writes, WAIT times out.
  process.kill(replica.process.child.pid as number, 'SIGSTOP');
  const store = openStore(sentinelState('unconfirmed:', { waitTimeoutMs: 200 })) as StateStore;
  try {
    const rec = { at: Date.UTC(2025, 4, 2), data: '{"n":2}', id: 'e2' };
    await assert.rejects(
      store.journalAppend([rec]),
      (e: unknown) => (e as { code?: string }).code === 'TEMPORARY_STORE_UNAVAILABLE' && /confirmed by 0 of 1 replica/.test((e as Error).message),
    );
    process.kill(replica.process.child.pid as number, 'SIGCONT');
    await until(
      async () =>
        await store.journalAppend([rec]).then(
          () => true,
          () => false,
        ),
      10_000,
      'the replica to confirm again',
    );
    const got = [];
    for await (const r of store.journalRead(rec.at, rec.at + 1)) got.push(r.data);
    assert.deepEqual(got, ['{"n":2}'], 'once, though written twice');
  } finally {
    process.kill(replica.process.child.pid as number, 'SIGCONT');
    await store.close();
  }
});

// Last: it changes which server is the master.
test('the master SIGKILLed: every journal event confirmed before is on the new master, and the store writes again by itself after the failover', async () => {
  const store = openStore(sentinelState('failover:')) as RedisStore;
  const day = Date.UTC(2025, 4, 3);
  try {
    const confirmed: string[] = [];
    for (let i = 0; i < 200; i++) {
      await store.journalAppend([{ at: day + i, data: JSON.stringify({ i }), id: `f${i}` }]);
      confirmed.push(JSON.stringify({ i }));
    }
    const old = await set.master();
    const killedAt = Date.now();
    (await set.masterProcess()).process.child.kill('SIGKILL');
    let failures = 0;
    let i = 200;
    await until(
      async () => {
        try {
          await store.journalAppend([{ at: day + i, data: JSON.stringify({ i }), id: `f${i}` }]);
          confirmed.push(JSON.stringify({ i }));
          i++;
          return (await store.replication()).address !== old;
        } catch (err) {
          assert.equal((err as { code?: string }).code, 'TEMPORARY_STORE_UNAVAILABLE');
          failures++;
          return false;
        }
      },
      60_000,
      'the store to write on the new master',
      100,
    );
    const seen = Date.now() - killedAt;
    assert.notEqual(await set.master(), old);
    const got: string[] = [];
    for await (const r of store.journalRead(day, day + 86_400_000)) got.push(r.data);
    assert.deepEqual(got, confirmed, 'no confirmed event lost, none twice');
    assert.ok(failures > 0, 'writes were refused during the failover (the daemon spools them)');
    process.stdout.write(`# failover seen by the store: ${seen} ms, ${failures} refused writes\n`);
  } finally {
    await store.close();
  }
});
