import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { RuntimeFields } from '../../src/registry/runtime.js';
import { buildMonth } from '../../src/stats/build.js';
import { GOLDEN_MONTH, STATS_DOMAINS, statsWorld } from '../helpers/stats.js';

const D = STATS_DOMAINS[0] as string;
const TZ = 'Europe/Paris';

async function connexions(
  extra: Record<string, unknown>,
  logins: Array<[string, string]>,
  now: string,
  before?: (rt: RuntimeFields) => Promise<void>,
): Promise<Map<string, string>> {
  const w = await statsWorld(GOLDEN_MONTH, extra);
  try {
    const rt = new RuntimeFields(w.store);
    await before?.(rt);
    for (const [local, at] of logins) await rt.setLastLogin(`${local}@${D}`, new Date(at), '810000000001', TZ);
    const b = await buildMonth({ config: w.config, registry: w.registry, store: w.store, month: GOLDEN_MONTH, now: new Date(now) });
    const text = fs.readFileSync(path.join(b.dir, `202503_ConnexionsMSSante_${D}.csv`), 'utf8');
    return new Map(
      text
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => l.split(';') as [string, string]),
    );
  } finally {
    await w.store.close();
  }
}

test('EX_PSU_5840: Connexions of March shows the last login of March whatever day it is built (a login on 2 or 6 April never replaces it)', async () => {
  const logins: Array<[string, string]> = [
    ['marie.martin', '2025-03-25T16:00:00Z'],
    ['marie.martin', '2025-04-02T07:00:00Z'],
    ['marie.martin', '2025-04-06T07:00:00Z'],
  ];
  for (const now of ['2025-04-01T00:30:00+02:00', '2025-04-06T13:00:00+02:00', '2025-05-20T13:00:00+02:00']) {
    const c = await connexions(
      {},
      logins.filter(([, at]) => Date.parse(at) < Date.parse(now)),
      now,
    );
    assert.equal(c.get(`marie.martin@${D}`), '2025-03-25 17:00:00', `built ${now}`);
  }
  // Created in March, first login in April: never connected in March (empty), not April's date.
  const late = await connexions({}, [['marie.martin', '2025-04-02T07:00:00Z']], '2025-04-06T13:00:00+02:00');
  assert.equal(late.get(`marie.martin@${D}`), '');
});

test('EX_SSU_5800: without stats.loginsRecordedSince, a mailbox created before logins were first recorded here (migrated) is unknown (1900-01-01 00:00:00), one created after is never connected (empty)', async () => {
  const c = await connexions({ loginsRecordedSince: undefined }, [], '2025-04-02T10:00:00+02:00', (rt) => rt.markLoginsRecordedSince('2025-03-05'));
  assert.equal(c.get(`ancien.compte@${D}`), '1900-01-01 00:00:00', 'created 2018: migrated');
  assert.equal(c.get(`marie.martin@${D}`), '', 'created on 10 March, after recording began');
  // No service ever recorded a login here: nothing is known.
  const none = await connexions({ loginsRecordedSince: undefined }, [], '2025-04-02T10:00:00+02:00');
  assert.equal(none.get(`marie.martin@${D}`), '1900-01-01 00:00:00');
  // The first marker stays.
  const again = await connexions({ loginsRecordedSince: undefined }, [], '2025-04-02T10:00:00+02:00', async (rt) => {
    await rt.markLoginsRecordedSince('2025-03-05');
    await rt.markLoginsRecordedSince('2025-03-20');
    assert.equal(await rt.loginsRecordedSince(), '2025-03-05');
  });
  assert.equal(again.get(`marie.martin@${D}`), '');
});
