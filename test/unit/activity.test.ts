import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { MssError } from '../../src/errors.js';
import { instruments } from '../../src/health/instruments.js';
import type { Logger } from '../../src/log.js';
import { Activity } from '../../src/registry/activity.js';
import { loadRegistryText } from '../../src/registry/load.js';
import { RuntimeFields } from '../../src/registry/runtime.js';
import { EmbeddedStore } from '../../src/store/embedded.js';
import { TraceLog } from '../../src/traces/trace-log.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { DOMAIN, LOAD, org, per, registryYaml } from '../helpers/registry.js';
import { tmpDir } from '../helpers/tmp.js';
import { traceLines } from '../helpers/traces.js';

function setup() {
  const dir = tmpDir();
  const reg = loadRegistryText(
    '/r.yaml',
    registryYaml([
      per('jean.dupont', 'Jean', 'Dupont', '810000000101'),
      per('marie.curie', 'Marie', 'Curie', '810000000102', { listeRouge: true }),
      org('dpi', { type: 'APP' }),
    ]),
    LOAD,
  ).registry;
  const store = new EmbeddedStore(path.join(dir, 'store'));
  const traces = new TraceLog(path.join(dir, 'traces'), { syncDelayMs: 0 });
  const runtime = new RuntimeFields(store);
  const activity = new Activity({ registry: () => reg, runtime, traces, timeZone: 'Europe/Paris' });
  const lines = () => traceLines(path.join(dir, 'traces'));
  return { store, traces, runtime, activity, lines };
}

test('EX_GDT_5060: a login records the last login and a trace with authentication type, author, delegate-of, means and address', async () => {
  const { store, traces, runtime, activity, lines } = setup();
  await activity.recordLogin(`Jean.Dupont@${DOMAIN}`, new Date('2025-03-01T10:00:00Z'), {
    authType: 'PSC/XOAUTH2',
    identity: '810000000555',
    delegateOf: '810000000101',
    service: 'imap',
    client: 'Thunderbird 128',
    address: '10.1.2.3',
  });
  await activity.recordLogin(`jean.dupont@${DOMAIN}`, new Date('2025-02-01T10:00:00Z'), { authType: 'PSC/XOAUTH2', identity: '810000000101', service: 'imap' });
  const rt = await runtime.get(`jean.dupont@${DOMAIN}`);
  assert.equal(rt.lastLogin?.toISOString(), '2025-03-01T10:00:00.000Z', 'an older login does not move the date back');
  assert.equal(rt.lastLoginBy, '810000000555');
  // EX_PSU_5840: each month's latest login is kept for the Connexions of that month.
  assert.deepEqual([...(rt.logins?.months.keys() ?? [])].sort(), ['2025-02', '2025-03']);
  const [t] = lines();
  assert.equal(t?.action, 'login');
  assert.deepEqual(t?.actor, { id: '810000000555', kind: 'user', onBehalfOf: '810000000101' });
  assert.deepEqual(t?.means, { service: 'imap', authType: 'PSC/XOAUTH2', client: 'Thunderbird 128' });
  assert.equal(t?.address, '10.1.2.3');
  assert.match(t?.at ?? '', /Z$/);
  traces.close();
  await store.close();
});

test('EX_GBM_4440: a login re-publishes a BAL depublished for inactivity, but not one the user put in liste rouge', async () => {
  const { store, traces, runtime, activity, lines } = setup();
  await runtime.setDepublished(`jean.dupont@${DOMAIN}`, new Date('2025-05-01T03:00:00Z'));
  await runtime.setDepublished(`marie.curie@${DOMAIN}`, new Date('2025-05-01T03:00:00Z'));
  assert.deepEqual(
    await activity.recordLogin(`jean.dupont@${DOMAIN}`, new Date('2025-05-02T08:00:00Z'), {
      authType: 'PSC/XOAUTH2',
      identity: '810000000101',
      service: 'submission',
    }),
    { republished: true },
  );
  assert.equal((await runtime.get(`jean.dupont@${DOMAIN}`)).depublishedAt, undefined);
  assert.deepEqual(
    await activity.recordLogin(`marie.curie@${DOMAIN}`, new Date('2025-05-02T08:00:00Z'), {
      authType: 'PSC/XOAUTH2',
      identity: '810000000102',
      service: 'imap',
    }),
    { republished: false },
  );
  const t = lines().filter((l) => l.action === 'bal.republish');
  assert.deepEqual(
    t.map((l) => [l.bal, l.response.listeRouge]),
    [
      [`jean.dupont@${DOMAIN}`, 'removed'],
      [`marie.curie@${DOMAIN}`, 'kept: chosen by the user'],
    ],
  );
  traces.close();
  await store.close();
});

test('RE_SSU_5800: exchanges of an APP BAL are recorded as its last exchange', async () => {
  const { store, traces, runtime, activity } = setup();
  await activity.recordExchange(`dpi@${DOMAIN}`, new Date('2025-04-01T12:00:00Z'));
  await activity.recordExchange(`dpi@${DOMAIN}`, new Date('2025-03-01T12:00:00Z'));
  assert.equal((await runtime.get(`dpi@${DOMAIN}`)).lastExchange?.toISOString(), '2025-04-01T12:00:00.000Z');
  const many = await runtime.getMany([`dpi@${DOMAIN}`, `jean.dupont@${DOMAIN}`]);
  assert.equal(many[0]?.lastExchange?.toISOString(), '2025-04-01T12:00:00.000Z');
  assert.deepEqual(many[1], {});
  traces.close();
  await store.close();
});

test('RE_SSU_5800: a last exchange the store does not take, once the message went on, is logged with its code and counted, and the message is not failed', async () => {
  const { traces } = setup();
  const failing = {
    setLastExchange: async () => Promise.reject(new MssError('TEMPORARY_STORE_UNAVAILABLE', 'redis at 127.0.0.1:6379 does not answer')),
  } as unknown as RuntimeFields;
  const reg = loadRegistryText('/r.yaml', registryYaml([org('dpi', { type: 'APP' })]), LOAD).registry;
  const activity = new Activity({ registry: () => reg, runtime: failing, traces, timeZone: 'Europe/Paris' });
  const logged: Array<Record<string, unknown>> = [];
  const log = { error: (obj: Record<string, unknown>) => logged.push(obj) } as unknown as Logger;
  const counted: string[] = [];
  const stop = instruments.listen({ exchangeNotRecorded: (service) => counted.push(service) });
  try {
    await activity.recordExchangeOrReport(`dpi@${DOMAIN}`, new Date('2025-03-01T10:00:00Z'), 'gate-out', log);
  } finally {
    stop();
    traces.close();
  }
  assert.deepEqual(
    logged.map((l) => [l.code, l.cause, l.bal, l.service]),
    [['ACTIVITY_EXCHANGE_NOT_RECORDED', 'TEMPORARY_STORE_UNAVAILABLE', `dpi@${DOMAIN}`, 'gate-out']],
  );
  assert.deepEqual(counted, ['gate-out']);
  await assert.rejects(activity.recordExchange(`dpi@${DOMAIN}`, new Date()), /does not answer/, 'recordExchange itself still says it failed');
});

// The gates and the submission side hand a message over before they record its exchange: a
// failure there must go through recordExchangeOrReport (logged with its code, counted), never
// abort the recording of the other recipients or vanish in a generic log line.
test('RE_SSU_5800: outside the activity module, last exchanges are recorded only through recordExchangeOrReport', () => {
  const src = path.join(REPO_ROOT, 'src');
  const callers = (fs.readdirSync(src, { recursive: true, encoding: 'utf8' }) as string[])
    .filter((f) => f.endsWith('.ts') && f !== path.join('registry', 'activity.ts'))
    .filter((f) => /\.recordExchange\(/.test(fs.readFileSync(path.join(src, f), 'utf8')));
  assert.deepEqual(callers, []);
});
