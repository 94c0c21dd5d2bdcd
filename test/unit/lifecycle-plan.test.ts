import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { loadRegistryText } from '../../src/registry/load.js';
import type { Bal } from '../../src/registry/registry.js';
import type { BalRuntime } from '../../src/registry/runtime.js';
import { addMonths } from '../../src/lifecycle/clock.js';
import { plan, type NoticeRecord } from '../../src/lifecycle/plan.js';
import { runLifecycle } from '../../src/lifecycle/run.js';
import { lifecycleSection } from '../../src/lifecycle/config.js';
import { EmbeddedStore } from '../../src/store/embedded.js';
import { TraceLog } from '../../src/traces/trace-log.js';
import { isMssError } from '../../src/errors.js';
import { DOMAIN, LOAD, org, per, writeRegistry, registryYaml } from '../helpers/registry.js';
import { tmpDir } from '../helpers/tmp.js';

const reg = loadRegistryText(
  '/r.yaml',
  registryYaml([
    per('jean.dupont', 'Jean', 'Dupont', '810000000101', { created: '2023-01-01', contact: { email: 'j@example.org' } }),
    per('marie.curie', 'Marie', 'Curie', '810000000102', { created: '2023-01-01', listeRouge: true, contact: { email: 'm@example.org' } }),
    org('dpi', { type: 'APP', created: '2023-01-01', contact: { email: 'dsi@example.org' } }),
    org('secretariat', { created: '2023-01-01', status: 'suspended', suspension: { at: '2024-01-01', reason: 'x' }, contact: { email: 's@example.org' } }),
    per('paul.neuf', 'Paul', 'Neuf', '810000000103', { created: '2025-05-01', contact: { email: 'p@example.org' } }),
  ]),
  LOAD,
).registry;

function planAt(now: string, runtime: Record<string, BalRuntime> = {}, notices: Record<string, NoticeRecord> = {}) {
  return plan({
    bals: reg.all(),
    runtime: new Map(Object.entries(runtime).map(([k, v]) => [`${k}@${DOMAIN}`, v])),
    notices: new Map(Object.entries(notices)),
    purgedOn: new Map([[`reponse.automatique-test@${DOMAIN}`, now.slice(0, 10)]]),
    now: Date.parse(now),
    canNotify: (b: Bal) => (b.contact?.email ? undefined : 'no contact'),
  }).map((a) => `${a.kind}${'notice' in a ? `:${a.notice}` : ''} ${a.bal.localPart}`);
}

test('EX_GBM_4440 EX_GBM_6010: only PER/ORG are depublished, never a user liste rouge, a suspended BAL or a BAL created less than a year ago; the auto-reply BAL is never deleted', () => {
  const all = planAt('2025-06-01T03:00:00Z');
  assert.deepEqual(all.sort(), ['notice:delete dpi', 'notice:delete jean.dupont', 'notice:delete marie.curie', 'notice:depublish jean.dupont'].sort());
  // Created a year ago only in 2026: inactivity alone is not enough for depublication.
  assert.deepEqual(
    planAt('2025-07-20T03:00:00Z', {
      'jean.dupont': { lastLogin: new Date('2025-07-19T00:00:00Z') },
      dpi: { lastLogin: new Date('2025-07-19T00:00:00Z') },
      'marie.curie': { lastLogin: new Date('2025-07-19T00:00:00Z') },
    }),
    [],
  );
  assert.deepEqual(
    planAt('2026-04-20T03:00:00Z', {
      'jean.dupont': { lastLogin: new Date('2026-04-01T00:00:00Z') },
      dpi: { lastLogin: new Date('2026-04-01T00:00:00Z') },
      'marie.curie': { lastLogin: new Date('2026-04-01T00:00:00Z') },
    }),
    ['notice:delete paul.neuf', 'notice:depublish paul.neuf'],
    'a BAL never logged in counts from its creation',
  );
});

test('RE_SSU_5800: an APP BAL that still exchanges messages is active, whatever its logins', () => {
  const recent = { lastExchange: new Date('2025-05-30T00:00:00Z') };
  assert.ok(!planAt('2025-06-01T03:00:00Z', { dpi: recent }).some((a) => a.endsWith(' dpi')));
});

test('EX_GBM_6010: the deletion waits two full months after the notice actually sent, and a login starts a new inactivity period', () => {
  const activity = new Date('2023-01-01T00:00:00Z').toISOString();
  const sent = (at: string): Record<string, NoticeRecord> => ({ [`notice:delete:jean.dupont@${DOMAIN}`]: { state: 'sent', activity, sentAt: at } });
  assert.ok(planAt('2025-06-01T03:00:00Z', {}, sent('2025-05-01T03:00:00Z')).includes('notice:depublish jean.dupont'));
  assert.ok(!planAt('2025-06-30T03:00:00Z', {}, sent('2025-05-01T03:00:00Z')).includes('delete jean.dupont'));
  assert.ok(planAt('2025-07-01T03:00:00Z', {}, sent('2025-05-01T03:00:00Z')).includes('delete jean.dupont'));
  // A notice about an earlier inactivity period does not count after a new login.
  assert.ok(
    planAt('2026-06-01T03:00:00Z', { 'jean.dupont': { lastLogin: new Date('2025-01-01T00:00:00Z') } }, sent('2024-12-01T03:00:00Z')).includes(
      'notice:delete jean.dupont',
    ),
  );
  assert.equal(new Date(addMonths(Date.parse('2025-12-31T03:00:00Z'), 2)).toISOString(), '2026-02-28T03:00:00.000Z');
});

test('EX_GBM_4440: one lifecycle run at a time (cluster lease)', async () => {
  const dir = tmpDir();
  const store = new EmbeddedStore(path.join(dir, 'store'));
  const traces = new TraceLog(path.join(dir, 'traces'));
  assert.ok((await store.leaseAcquire('lifecycle', 'other-node/1', 60_000)).acquired);
  const deps = {
    file: writeRegistry(dir, []),
    load: LOAD,
    store,
    traces,
    notices: { blockedFor: () => undefined, send: async () => ({ to: 'x' }), close: () => undefined },
    config: lifecycleSection.parse({}),
    stats: {},
    actor: { id: 'system:lifecycle', kind: 'system' as const },
  };
  await assert.rejects(runLifecycle(deps, { now: new Date() }), (e: unknown) => isMssError(e, 'TEMPORARY_LIFECYCLE_RUNNING'));
  const dry = await runLifecycle(deps, { now: new Date('2025-06-01T03:00:00Z'), dryRun: true });
  assert.deepEqual(
    dry.actions.map((a) => a.action),
    ['purge'],
    'a dry run needs no lock and does nothing',
  );
  traces.close();
  await store.close();
});

test('EX_GBM_4440 EX_GBM_6010: inactivity never counts from before activityKnownSince; more notices and deletions than the cap need the exact --confirm', async () => {
  const known = Date.parse('2025-06-01T00:00:00Z');
  const at = (now: string) =>
    plan({
      bals: reg.all(),
      runtime: new Map(),
      notices: new Map(),
      purgedOn: new Map(),
      now: Date.parse(now),
      activityKnownSince: known,
      canNotify: () => undefined,
    });
  assert.deepEqual(
    at('2025-06-01T03:00:00Z').map((a) => a.kind),
    ['purge'],
    'nothing but the purge on the day logins start being recorded',
  );
  assert.deepEqual(at('2025-07-15T03:00:00Z').filter((a) => a.kind === 'notice').length, 0, 'day 44: not yet');
  const due = at('2025-07-16T03:00:00Z');
  assert.deepEqual(
    due
      .filter((a) => a.kind === 'notice')
      .map((a) => a.bal.localPart)
      .sort(),
    ['jean.dupont'],
    'day 45: the depublication notice (PER, not liste rouge, created over a year before)',
  );

  const { checkCap, summarize } = await import('../../src/lifecycle/guard.js');
  assert.equal(checkCap(due, 1, undefined).go, true, 'within the cap');
  const over = checkCap(due, 0, undefined);
  assert.equal(over.go, false);
  assert.match(over.go ? '' : over.reason, /plans 1 notice and 0 deletions, more than lifecycle\.maxActionsPerRun \(0\).*--confirm 1/);
  assert.equal(checkCap(due, 0, 1).go, true);
  assert.equal(checkCap(due, 0, 2).go, false, 'a confirmation of another number is refused');
  assert.equal(checkCap(due, 5, 3).go, false, 'even below the cap');
  assert.deepEqual(summarize(due, Date.parse('2025-07-16T03:00:00Z')), [
    { action: 'notice:depublish', date: '2025-07-31', count: 1 },
    { action: 'purge', date: '2025-07-16', count: 1 },
  ]);
});
