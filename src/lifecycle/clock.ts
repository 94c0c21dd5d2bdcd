// Calendar arithmetic in UTC for the lifecycle deadlines ("plus d'un an", "deux mois
// avant"): adding months keeps the day of the month, clamped to the month's last day.

export const DAY_MS = 86_400_000;

export function addMonths(ms: number, months: number): number {
  const d = new Date(ms);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth() + months;
  const target = new Date(Date.UTC(y, m, 1, d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds()));
  const last = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(d.getUTCDate(), last));
  return target.getTime();
}

export function addYears(ms: number, years: number): number {
  return addMonths(ms, 12 * years);
}

export function addDays(ms: number, days: number): number {
  return ms + days * DAY_MS;
}
