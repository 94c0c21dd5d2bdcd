// Months and dates in the operator's time zone (operator.timeZone, default Europe/Paris):
// EX_PSU_5810 counts "du 1er au dernier jour du mois", and every DATE written for the ANS
// is wall-clock time there as AAAA-MM-JJ HH:mm:ss. Formatting runs once per CSV line, so
// the zone offset is cached per quarter hour (offsets only change on such boundaries)
// instead of calling Intl for every line.
import { MssError } from '../errors.js';

export interface Month {
  year: number;
  /** 1..12 */
  month: number;
}

export interface MonthRange extends Month {
  /** First instant of the month in the zone (inclusive), ms since epoch. */
  startMs: number;
  /** First instant of the next month (exclusive). */
  endMs: number;
  /** AAAAMM, as in the file names. */
  id: string;
}

export function parseMonth(text: string): Month {
  const m = /^(\d{4})-?(\d{2})$/.exec(text);
  const month = Number(m?.[2]);
  if (!m || month < 1 || month > 12) throw new MssError('USAGE_MONTH', `month "${text}": expected YYYY-MM such as 2025-03`, { month: text });
  return { year: Number(m[1]), month };
}

export const monthId = (m: Month): string => `${m.year}${String(m.month).padStart(2, '0')}`;
export const monthText = (m: Month): string => `${m.year}-${String(m.month).padStart(2, '0')}`;
export const monthIndex = (m: Month): number => m.year * 12 + (m.month - 1);
export const addMonths = (m: Month, n: number): Month => {
  const i = monthIndex(m) + n;
  return { year: Math.floor(i / 12), month: (i % 12) + 1 };
};

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-GB', {
        timeZone,
        hourCycle: 'h23',
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
      });
    } catch {
      throw new MssError('CONFIG_TIME_ZONE', `operator.timeZone "${timeZone}" is not a known IANA time zone (e.g. Europe/Paris)`, { timeZone });
    }
    formatters.set(timeZone, f);
  }
  return f;
}

/** Wall-clock fields of an instant in a zone. */
export function zonedParts(ms: number, timeZone: string): { year: number; month: number; day: number; hour: number; minute: number; second: number } {
  const p: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(ms)) if (part.type !== 'literal') p[part.type] = Number(part.value);
  return { year: p.year ?? 0, month: p.month ?? 0, day: p.day ?? 0, hour: p.hour ?? 0, minute: p.minute ?? 0, second: p.second ?? 0 };
}

/** Zone offset (local - UTC) in ms at an instant. */
function offsetAt(ms: number, timeZone: string): number {
  const p = zonedParts(ms, timeZone);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return asUtc - Math.floor(ms / 1000) * 1000;
}

/** The instant of a wall-clock time in a zone (for a time skipped by DST, the instant after the gap). */
export function zonedToUtc(year: number, month: number, day: number, timeZone: string, hour = 0, minute = 0, second = 0): number {
  const wall = Date.UTC(year, month - 1, day, hour, minute, second);
  let guess = wall - offsetAt(wall, timeZone);
  // Two refinements settle any offset change between the guess and the answer.
  guess = wall - offsetAt(guess, timeZone);
  const again = wall - offsetAt(guess, timeZone);
  return Math.min(guess, again);
}

export function monthRange(m: Month, timeZone: string): MonthRange {
  const next = addMonths(m, 1);
  return { ...m, id: monthId(m), startMs: zonedToUtc(m.year, m.month, 1, timeZone), endMs: zonedToUtc(next.year, next.month, 1, timeZone) };
}

/** The month an instant falls in, in the zone. */
export function monthOf(ms: number, timeZone: string): Month {
  const p = zonedParts(ms, timeZone);
  return { year: p.year, month: p.month };
}

/** EX_PSU_5810: the month a run on `now` reports (the previous one). */
export function reportedMonth(now: Date, timeZone: string): Month {
  return addMonths(monthOf(now.getTime(), timeZone), -1);
}

/**
 * A registry date in the zone: a bare day (2025-03-01) means that local day's midnight,
 * a date-time keeps its own offset (UTC when none).
 */
export function registryDateMs(text: string, timeZone: string): number {
  const d = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (d) return zonedToUtc(Number(d[1]), Number(d[2]), Number(d[3]), timeZone);
  const norm = text.replace(' ', 'T');
  return Date.parse(/(?:Z|[+-]\d{2}:?\d{2})$/.test(norm) ? norm : `${norm}Z`);
}

const QUARTER_HOUR = 900_000;
const two = (n: number): string => (n < 10 ? `0${n}` : String(n));

/** AAAA-MM-JJ HH:mm:ss in a zone, for many instants (cached offset per quarter hour). */
export class ZonedFormatter {
  private readonly offsets = new Map<number, number>();
  constructor(readonly timeZone: string) {
    formatter(timeZone);
  }

  format(ms: number): string {
    const q = Math.floor(ms / QUARTER_HOUR);
    let off = this.offsets.get(q);
    if (off === undefined) {
      off = offsetAt(q * QUARTER_HOUR, this.timeZone);
      if (this.offsets.size > 100_000) this.offsets.clear();
      this.offsets.set(q, off);
    }
    const d = new Date(Math.floor(ms / 1000) * 1000 + off);
    return `${d.getUTCFullYear()}-${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
  }
}
