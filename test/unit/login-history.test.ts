import assert from 'node:assert/strict';
import { test } from 'node:test';
import { historyOf, historyUpdate, lastLoginOfMonth, LOGIN_HISTORY_MONTHS, type LoginHistory } from '../../src/registry/login-history.js';

const TZ = 'Europe/Paris';

/** Applies successive logins to a hash the way RuntimeFields does. */
function apply(logins: string[], start: Record<string, string> = {}): Record<string, string> {
  const h = { ...start };
  for (const at of logins) {
    const u = historyUpdate(h, new Date(at), TZ);
    Object.assign(h, u.set);
    for (const f of u.del) delete h[f];
    if (!h.lastLogin || Date.parse(h.lastLogin) < Date.parse(at)) h.lastLogin = new Date(at).toISOString();
  }
  return h;
}

const end = (year: number, month: number): number => Date.parse(`${year}-${String(month).padStart(2, '0')}-01T00:00:00+01:00`);
const at = (h: Record<string, string>, month: string, endMs: number) =>
  lastLoginOfMonth(h.lastLogin ? new Date(h.lastLogin) : undefined, historyOf(h), month, endMs);

test("EX_PSU_5840: the month of a login is the operator's (Europe/Paris): 30 November 23:30 local is November, 1 December 00:30 local is December", () => {
  const h = apply(['2025-11-30T22:30:00Z', '2025-11-30T23:30:00Z']);
  assert.deepEqual(
    Object.keys(h)
      .filter((k) => k.startsWith('login:'))
      .sort(),
    ['login:2025-11', 'login:2025-12'],
  );
  const nov = at(h, '2025-11', end(2025, 12));
  assert.deepEqual(nov, { kind: 'date', at: new Date('2025-11-30T22:30:00Z') });
});

test("EX_PSU_5840: the last login up to a month's end ignores later logins; a month without one takes the latest earlier month; none before → none", () => {
  const h = apply(['2025-09-10T08:00:00Z', '2025-11-20T08:00:00Z', '2025-11-05T08:00:00Z', '2025-12-02T08:00:00Z', '2025-12-06T08:00:00Z']);
  assert.equal(h['login:2025-11'], '2025-11-20T08:00:00.000Z', 'an older login of the same month does not replace the later one');
  assert.deepEqual(at(h, '2025-11', end(2025, 12)), { kind: 'date', at: new Date('2025-11-20T08:00:00Z') });
  assert.deepEqual(at(h, '2025-10', end(2025, 11)), { kind: 'date', at: new Date('2025-09-10T08:00:00Z') });
  assert.deepEqual(at(h, '2025-08', end(2025, 9)), { kind: 'none' });
  assert.deepEqual(at(h, '2025-12', end(2026, 1)), { kind: 'date', at: new Date('2025-12-06T08:00:00Z') });
});

test('EX_PSU_5840: the first login recorded with a history seeds it with the last login recorded before (an upgrade keeps the past)', () => {
  const h = apply(['2025-12-03T08:00:00Z'], { lastLogin: '2025-10-15T08:00:00.000Z' });
  assert.deepEqual(at(h, '2025-11', end(2025, 12)), { kind: 'date', at: new Date('2025-10-15T08:00:00Z') });
  // Without any history and a latest login after the month: the month's last login is unknown.
  const legacy: LoginHistory = { months: new Map() };
  assert.deepEqual(lastLoginOfMonth(new Date('2025-12-03T08:00:00Z'), legacy, '2025-11', end(2025, 12)), { kind: 'unknown' });
});

test('EX_PSU_5840: the history is bounded to the last months with a login; older months are then unknown, never "none"', () => {
  const logins = Array.from({ length: LOGIN_HISTORY_MONTHS + 5 }, (_, i) => new Date(Date.UTC(2024, i, 10, 8)).toISOString());
  const h = apply(logins);
  const fields = Object.keys(h).filter((k) => k.startsWith('login:'));
  assert.equal(fields.length, LOGIN_HISTORY_MONTHS);
  const oldest = fields.sort()[0] as string;
  assert.equal(h.loginHistoryFrom, oldest.slice('login:'.length));
  assert.deepEqual(at(h, '2024-02', end(2024, 3)), { kind: 'unknown' });
  const kept = oldest.slice('login:'.length);
  assert.equal(at(h, kept, end(Number(kept.slice(0, 4)), Number(kept.slice(5)) + 1)).kind, 'date');
});
