// DateDeGeneration (§6.6, Tableau 42: xsd:dateTime), the date the replay guard compares.
// A date that does not parse must never switch the guard off (Date.parse("20260-01-01…") is
// NaN, and every comparison with NaN is false), and a date far in the future must never be
// stored, or every later list would be refused as older. So: a strict xsd:dateTime with a
// 4-digit year, real calendar values, and at most whitelist.futureSkewHours ahead of now.
import { whitelistRefused } from './codes.js';

const XSD_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|([+-])(\d{2}):(\d{2}))?$/;

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/**
 * Milliseconds since the epoch of an xsd:dateTime with a 4-digit year, or undefined. Without
 * a time zone the value is taken as UTC (the published list writes `Z`).
 */
export function parseXsdDateTime(text: string): number | undefined {
  const m = XSD_DATE_TIME.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  // 24:00:00 is xsd's end of day; refused here, like leap seconds: the ANS writes neither.
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  let offsetMinutes = 0;
  if (m[9] !== undefined) {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 14 || om > 59 || (oh === 14 && om !== 0)) return undefined;
    offsetMinutes = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const fraction = m[7] ? Number(`0${m[7]}`) * 1000 : 0;
  const utc = Date.UTC(year, month - 1, day, hour, minute, second) + Math.floor(fraction) - offsetMinutes * 60_000;
  return Number.isFinite(utc) ? utc : undefined;
}

/** The date of a list, checked: a valid xsd:dateTime, not more than `futureSkewHours` ahead of `now`. */
export function checkGenerated(generated: string, now: Date, futureSkewHours: number, source: string): number {
  const at = parseXsdDateTime(generated);
  if (at === undefined) {
    throw whitelistRefused(
      'WL_DATE_INVALID',
      `${source}: DateDeGeneration "${generated}" is not an xsd:dateTime with a 4-digit year (e.g. 2025-03-13T14:54:10Z)`,
      {
        source,
        generated,
      },
    );
  }
  const latest = now.getTime() + futureSkewHours * 3_600_000;
  if (at > latest) {
    throw whitelistRefused(
      'WL_DATE_FUTURE',
      `${source}: DateDeGeneration ${generated} is more than ${futureSkewHours} h ahead of this machine's clock (${now.toISOString()}); refused so that it cannot block later lists (check the clock, or whitelist.futureSkewHours)`,
      {
        source,
        generated,
        now: now.toISOString(),
      },
    );
  }
  return at;
}
