// Per-month login history of a mailbox, so that the Connexions file of month M gives the
// last connection "du 1er au dernier jour du mois" (§6.9.3.1, EX_PSU_5840) whatever day it
// is built: a November file built on 6 December must not show a 2 December login. The
// latest login of each month (in operator.timeZone, the zone the statistics are cut in) is
// one field `login:YYYY-MM` of the BAL's run-time hash (`bal:<address>`, runtime.ts), next to
// `lastLogin`; the hash keeps at most LOGIN_HISTORY_MONTHS such fields (the months with a
// login, newest first), and `loginHistoryFrom` says from which month on the history is
// complete once older months were dropped. Works on any StateStore backend: plain hash
// fields, written with the lastLogin update.
//
// Concurrency: two logins of the same mailbox at the same instant on two nodes may both
// read the month's value and the older one may win the write; both are logins of that
// month, so the month's date can be off by the time between them (milliseconds), never
// move to another month.
import { monthOf, monthText, zonedParts } from '../stats/month.js';

/** Months with a login kept per mailbox: a year and a month, enough for the ANS's 3-month catch-up (§9.7.4.4 control n°9). */
export const LOGIN_HISTORY_MONTHS = 13;

const PREFIX = 'login:';
const FROM = 'loginHistoryFrom';
const MONTH = /^\d{4}-\d{2}$/;

export const monthField = (month: string): string => `${PREFIX}${month}`;

/** The month (YYYY-MM, in the zone) of an instant. */
export function loginMonth(at: Date, timeZone: string): string {
  return monthText(monthOf(at.getTime(), timeZone));
}

/** The day (YYYY-MM-DD, in the zone) of an instant. */
export function localDay(at: Date, timeZone: string): string {
  const p = zonedParts(at.getTime(), timeZone);
  return `${p.year}-${String(p.month).padStart(2, '0')}-${String(p.day).padStart(2, '0')}`;
}

export interface LoginHistory {
  /** YYYY-MM → latest login of that month. */
  months: Map<string, Date>;
  /** Months before this one were dropped: their logins are unknown. */
  completeFrom?: string;
}

/** The history held in a run-time hash. */
export function historyOf(h: Readonly<Record<string, string>>): LoginHistory {
  const months = new Map<string, Date>();
  for (const [k, v] of Object.entries(h)) {
    if (!k.startsWith(PREFIX)) continue;
    const month = k.slice(PREFIX.length);
    const t = Date.parse(v);
    if (MONTH.test(month) && Number.isFinite(t)) months.set(month, new Date(t));
  }
  const from = h[FROM];
  return { months, ...(from && MONTH.test(from) ? { completeFrom: from } : {}) };
}

/**
 * The fields to write (and to delete) for a login at `at`, given the hash as read. Nothing
 * when the month already holds a later login. The first login recorded with a history
 * seeds it with the `lastLogin` recorded before (the latest login of an earlier month),
 * so that a month without logins still finds the last connection before it.
 */
export function historyUpdate(h: Readonly<Record<string, string>>, at: Date, timeZone: string): { set: Record<string, string>; del: string[] } {
  const history = historyOf(h);
  const months = new Map(history.months);
  const set: Record<string, string> = {};
  const put = (when: Date): void => {
    const m = loginMonth(when, timeZone);
    const current = months.get(m);
    if (current && current.getTime() >= when.getTime()) return;
    months.set(m, when);
    set[monthField(m)] = when.toISOString();
  };
  const previous = h.lastLogin ? new Date(h.lastLogin) : undefined;
  if (history.months.size === 0 && previous && Number.isFinite(previous.getTime())) put(previous);
  put(at);
  if (!(monthField(loginMonth(at, timeZone)) in set)) return { set: {}, del: [] };
  const newestFirst = [...months.keys()].sort().reverse();
  const dropped = newestFirst.slice(LOGIN_HISTORY_MONTHS);
  for (const m of dropped) delete set[monthField(m)];
  if (dropped.length > 0) set[FROM] = newestFirst[LOGIN_HISTORY_MONTHS - 1] as string;
  return { set, del: dropped.map(monthField).filter((f) => f in h) };
}

export type LastLoginOfMonth = { kind: 'date'; at: Date } | { kind: 'none' } | { kind: 'unknown' };

/**
 * The last login up to the end of `month` (YYYY-MM; `endMs` its first instant after),
 * from the latest login ever recorded and the per-month history:
 * - the latest login is before the month's end → it is the answer;
 * - otherwise the latest month of the history not after `month`;
 * - none there: no login up to then (`none`), unless the history does not reach back that
 *   far (older months dropped, or logins recorded after the month by a version without
 *   history) → `unknown`.
 */
export function lastLoginOfMonth(lastLogin: Date | undefined, history: LoginHistory, month: string, endMs: number): LastLoginOfMonth {
  if (!lastLogin) return { kind: 'none' };
  if (lastLogin.getTime() < endMs) return { kind: 'date', at: lastLogin };
  let best: string | undefined;
  for (const m of history.months.keys()) if (m <= month && (best === undefined || m > best)) best = m;
  if (best !== undefined) return { kind: 'date', at: history.months.get(best) as Date };
  if (history.months.size === 0) return { kind: 'unknown' };
  if (history.completeFrom !== undefined && month < history.completeFrom) return { kind: 'unknown' };
  return { kind: 'none' };
}
