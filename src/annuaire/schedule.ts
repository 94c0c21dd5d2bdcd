// When to publish and when to fetch a report (RE_1.1.1_5020, §6.4.2.5), in the operator's
// time zone. The Annuaire's batch runs between 02:00 and 04:00:
//   - a feed is sent only before the batch, never while it runs ("toutes les tentatives
//     d'alimentations doivent être réalisées avant 2 h");
//   - at most once a day, and once per batch: when the feed changed (its digest);
//   - at least once a week even without change (identifiers can become invalid);
//   - its report is asked for only once the batch that follows it has ended ("il est
//     inutile de tenter la récupération du compte-rendu avant 4 h").
import type { AnnuaireConfig } from './config.js';
import type { LastPublication } from './state.js';

export type Schedule = AnnuaireConfig['schedule'];

interface LocalParts {
  y: number;
  m: number;
  d: number;
  minutes: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function localParts(t: number, timeZone: string): LocalParts {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formatters.set(timeZone, f);
  }
  const p: Record<string, number> = {};
  for (const part of f.formatToParts(new Date(t))) if (part.type !== 'literal') p[part.type] = Number(part.value);
  return { y: p.year as number, m: p.month as number, d: p.day as number, minutes: (p.hour as number) * 60 + (p.minute as number) };
}

const minutesOf = (hhmm: string): number => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** The instant of a local wall-clock time (the first one, if DST makes it ambiguous). */
function zoned(y: number, m: number, d: number, minutes: number, timeZone: string): number {
  const guess = Date.UTC(y, m - 1, d, Math.floor(minutes / 60), minutes % 60);
  let t = guess;
  for (let k = 0; k < 2; k++) {
    const p = localParts(t, timeZone);
    const asUtc = Date.UTC(p.y, p.m - 1, p.d, Math.floor(p.minutes / 60), p.minutes % 60);
    t -= asUtc - guess;
  }
  return t;
}

/** The first instant strictly after `t` at local time `hhmm`. */
export function nextLocal(t: number, hhmm: string, timeZone: string): number {
  const p = localParts(t, timeZone);
  const at = minutesOf(hhmm);
  let candidate = zoned(p.y, p.m, p.d, at, timeZone);
  if (candidate <= t) {
    const next = new Date(Date.UTC(p.y, p.m - 1, p.d + 1));
    candidate = zoned(next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate(), at, timeZone);
  }
  return candidate;
}

/** Local calendar date, YYYY-MM-DD. */
export function localDate(t: number, timeZone: string): string {
  const p = localParts(t, timeZone);
  return `${p.y}-${String(p.m).padStart(2, '0')}-${String(p.d).padStart(2, '0')}`;
}

const dayNumber = (date: string): number => Date.parse(`${date}T00:00:00Z`) / 86_400_000;

export function inBatchWindow(t: number, s: Schedule, timeZone: string): boolean {
  const m = localParts(t, timeZone).minutes;
  const start = minutesOf(s.batchStart);
  const end = minutesOf(s.batchEnd);
  return start <= end ? m >= start && m < end : m >= start || m < end;
}

/** When the report of a feed acknowledged at `sentAt` can be asked for: the end of the next batch. */
export function reportDueAt(sentAt: number, s: Schedule, timeZone: string): number {
  return nextLocal(nextLocal(sentAt, s.batchStart, timeZone), s.batchEnd, timeZone);
}

export type PublishReason = 'first' | 'changed' | 'weekly';
export type SkipReason = 'batch-window' | 'already-today' | 'unchanged';

export type PublishDecision = { send: true; reason: PublishReason; why: string } | { send: false; reason: SkipReason; why: string };

export function decidePublish(opts: { now: number; sha256: string; last: LastPublication | undefined; schedule: Schedule; timeZone: string }): PublishDecision {
  const { now, last, schedule: s, timeZone: tz } = opts;
  // §6.4.2.5: never while the Annuaire's batch runs.
  if (inBatchWindow(now, s, tz)) {
    return {
      send: false,
      reason: 'batch-window',
      why: `the Annuaire's batch runs between ${s.batchStart} and ${s.batchEnd} (${tz}); feeds are sent before ${s.batchStart}`,
    };
  }
  if (!last) return { send: true, reason: 'first', why: 'no publication recorded yet' };
  const lastAt = Date.parse(last.at);
  // RE_1.1.1_5020: not more than once a day — nor twice into the same batch.
  if (localDate(lastAt, tz) === localDate(now, tz) || nextLocal(lastAt, s.batchStart, tz) === nextLocal(now, s.batchStart, tz)) {
    return { send: false, reason: 'already-today', why: `already published at ${last.at} (ticket ${last.ticket}); at most once a day (RE_1.1.1_5020)` };
  }
  // RE_1.1.1_5020: when at least one mailbox changed.
  if (last.sha256 !== opts.sha256) return { send: true, reason: 'changed', why: 'the feed changed since the last publication' };
  // RE_1.1.1_5020: at least once a week even without change.
  const days = dayNumber(localDate(now, tz)) - dayNumber(localDate(lastAt, tz));
  if (days >= s.maxIntervalDays)
    return { send: true, reason: 'weekly', why: `unchanged, but last published ${days} days ago (at least every ${s.maxIntervalDays} days)` };
  return {
    send: false,
    reason: 'unchanged',
    why: `unchanged since ${last.at} (ticket ${last.ticket}); next publication within ${s.maxIntervalDays - days} day(s) at the latest`,
  };
}
