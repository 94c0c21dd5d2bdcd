// From when are logins known? A registry imported on installation day has no login
// history: counting inactivity from each mailbox's creation would plan depublication and
// deletion notices for every mailbox on the first night. Inactivity therefore counts from
// the latest of the last login and this day (EX_GBM_4440, EX_GBM_6010 are about
// *observed* inactivity). It is the same fact as the Connexions statistics' (EX_SSU_5800):
//   - lifecycle.activityKnownSince in the configuration (the installation sets it), else
//   - stats.loginsRecordedSince, else
//   - the day `serve` first recorded logins on this installation (RuntimeFields), else
//   - nothing is known yet (no service has recorded a login): today, so nothing is due.
import type { Config } from '../config/schema.js';
import { RuntimeFields } from '../registry/runtime.js';
import type { StateStore } from '../store/store.js';

export interface ActivityKnownSince {
  /** Milliseconds since the epoch (UTC midnight of the day). */
  at: number;
  source: 'lifecycle.activityKnownSince' | 'stats.loginsRecordedSince' | 'recorded' | 'none';
}

const dayStart = (day: string): number => Date.parse(`${day.slice(0, 10)}T00:00:00Z`);

export async function activityKnownSince(
  config: { lifecycle: Pick<Config['lifecycle'], 'activityKnownSince'>; stats: Pick<Config['stats'], 'loginsRecordedSince'> },
  store: StateStore | undefined,
  now: Date,
): Promise<ActivityKnownSince> {
  if (config.lifecycle.activityKnownSince) return { at: dayStart(config.lifecycle.activityKnownSince), source: 'lifecycle.activityKnownSince' };
  if (config.stats.loginsRecordedSince) return { at: dayStart(config.stats.loginsRecordedSince), source: 'stats.loginsRecordedSince' };
  // No store yet (nothing ran on this node): nothing recorded.
  const recorded = store ? await new RuntimeFields(store).loginsRecordedSince() : undefined;
  if (recorded && !Number.isNaN(dayStart(recorded))) return { at: dayStart(recorded), source: 'recorded' };
  return { at: dayStart(now.toISOString()), source: 'none' };
}

export function describeKnownSince(k: ActivityKnownSince): string {
  const day = new Date(k.at).toISOString().slice(0, 10);
  if (k.source === 'recorded') return `${day} (the day serve first recorded logins; lifecycle.activityKnownSince sets another)`;
  if (k.source === 'none')
    return `${day} (no login recorded on this installation yet: nothing is due before serve records logins; lifecycle.activityKnownSince sets a day)`;
  return `${day} (${k.source})`;
}
