import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ANNUAIRE_ENDPOINTS, annuaireSection, endpointsOf } from '../../src/annuaire/config.js';
import { decidePublish, inBatchWindow, nextLocal, reportDueAt } from '../../src/annuaire/schedule.js';
import type { LastPublication } from '../../src/annuaire/state.js';

const TZ = 'Europe/Paris';
const S = annuaireSection.parse({}).schedule;
const t = (iso: string): number => Date.parse(iso);
const last = (at: string, sha256 = 'aaa'): LastPublication => ({ at: new Date(at).toISOString(), sha256, ticket: 'T1', domains: ['x.mssante.fr'] });
const decide = (now: string, sha256: string, l?: LastPublication) => decidePublish({ now: t(now), sha256, last: l, schedule: S, timeZone: TZ });

test("§6.4.2.5: feeds are never sent while the Annuaire's batch runs (02:00–04:00 local time)", () => {
  assert.equal(decide('2025-06-02T02:30:00+02:00', 'aaa').reason, 'batch-window');
  assert.equal(decide('2025-12-02T03:59:00+01:00', 'aaa').reason, 'batch-window');
  assert.equal(decide('2025-06-02T01:59:00+02:00', 'aaa').reason, 'first');
  assert.equal(decide('2025-06-02T04:00:00+02:00', 'aaa').reason, 'first');
  assert.equal(inBatchWindow(t('2025-06-02T00:30:00Z'), S, TZ), true, '00:30 UTC is 02:30 in Paris in summer');
});

test('RE_1.1.1_5020: at most once a day, and never twice into the same batch', () => {
  const l = last('2025-06-02T01:00:00+02:00');
  assert.equal(decide('2025-06-02T23:00:00+02:00', 'bbb', l).reason, 'already-today');
  const evening = last('2025-06-02T23:30:00+02:00');
  assert.equal(decide('2025-06-03T00:30:00+02:00', 'bbb', evening).reason, 'already-today', '23:30 and 00:30 go to the same 02:00 batch');
  assert.deepEqual(decide('2025-06-03T01:00:00+02:00', 'bbb', l), { send: true, reason: 'changed', why: 'the feed changed since the last publication' });
});

test('RE_1.1.1_5020: sent when the feed changed, skipped when unchanged, sent anyway after 7 days', () => {
  const l = last('2025-06-02T01:00:00+02:00', 'same');
  const skip = decide('2025-06-08T01:00:00+02:00', 'same', l);
  assert.equal(skip.reason, 'unchanged');
  assert.match(skip.why, /within 1 day/);
  assert.equal(decide('2025-06-09T01:00:00+02:00', 'same', l).reason, 'weekly');
  assert.equal(decide('2025-06-09T00:05:00+02:00', 'same', l).reason, 'weekly', 'days are counted on local dates, not to the minute');
  assert.equal(
    decidePublish({ now: t('2025-06-05T01:00:00+02:00'), sha256: 'same', last: l, schedule: { ...S, maxIntervalDays: 3 }, timeZone: TZ }).reason,
    'weekly',
  );
});

test('§6.4.2.5: a report is asked for only after the batch that follows its feed (04:00), across DST changes', () => {
  assert.equal(new Date(reportDueAt(t('2025-06-02T01:00:00+02:00'), S, TZ)).toISOString(), '2025-06-02T02:00:00.000Z');
  assert.equal(new Date(reportDueAt(t('2025-06-02T15:00:00+02:00'), S, TZ)).toISOString(), '2025-06-03T02:00:00.000Z');
  assert.equal(new Date(reportDueAt(t('2025-01-15T01:00:00+01:00'), S, TZ)).toISOString(), '2025-01-15T03:00:00.000Z');
  // The night of 30 March 2025 skips 02:00–03:00 in Paris; 04:00 CEST is 02:00 UTC.
  assert.equal(new Date(reportDueAt(t('2025-03-30T01:00:00+01:00'), S, TZ)).toISOString(), '2025-03-30T02:00:00.000Z');
  assert.equal(new Date(nextLocal(t('2025-10-26T00:30:00+02:00'), '04:00', TZ)).toISOString(), '2025-10-26T03:00:00.000Z');
});

test('§9.1: production and test ("partenaires") endpoints in the configuration, explicit URLs for the sandbox', () => {
  assert.deepEqual(endpointsOf(annuaireSection.parse({})), { feed: ANNUAIRE_ENDPOINTS.production.feed, report: ANNUAIRE_ENDPOINTS.production.report });
  assert.equal(ANNUAIRE_ENDPOINTS.production.feed, 'https://ws.annuaire.mssante.fr/webservices/V1011/Alimentation/WSALIMENTATIONMSS');
  assert.equal(
    endpointsOf(annuaireSection.parse({ environment: 'test' })).report,
    'https://ws.partenaires.annuaire.sante.fr/web/services/V1011/CR/WSCRALIMENTATIONMSS?wsdl',
  );
  assert.equal(endpointsOf(annuaireSection.parse({ feedUrl: 'https://127.0.0.1:9/f' })).feed, 'https://127.0.0.1:9/f');
  assert.throws(() => annuaireSection.parse({ feedUrl: 'http://example.org/' }));
  assert.throws(() => annuaireSection.parse({ schedule: { maxIntervalDays: 8 } }), 'at least weekly');
});
