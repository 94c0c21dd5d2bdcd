// From when are logins known? A registry imported on installation day has no login
// history: counting inactivity from each mailbox's creation would plan depublication and
// deletion notices for every mailbox on the first night. Inactivity therefore counts from
// the latest of the last login and this day (EX_GBM_4440, EX_GBM_6010 are about
// *observed* inactivity).
//   - lifecycle.activityKnownSince in the configuration (the installation sets it), or
//   - the day of the first real `lifecycle run`, which records it in the store, so that a
//     forgotten setting errs on the side of doing nothing.
import type { StateStore } from '../store/store.js';
import type { LifecycleConfig } from './config.js';

export const KNOWN_SINCE_KEY = 'lifecycle:activity-known-since';

export interface ActivityKnownSince {
  /** Milliseconds since the epoch (UTC midnight of the day). */
  at: number;
  source: 'config' | 'first-run' | 'this-run';
}

const dayStart = (iso: string): number => Date.parse(`${iso.slice(0, 10)}T00:00:00Z`);

/** The date in force, without changing anything; `this-run` when nothing is recorded yet. */
export async function activityKnownSince(config: Pick<LifecycleConfig, 'activityKnownSince'>, store: StateStore | undefined, now: Date): Promise<ActivityKnownSince> {
  if (config.activityKnownSince) return { at: dayStart(config.activityKnownSince), source: 'config' };
  // No store yet (nothing ran on this node): nothing recorded.
  const recorded = await store?.get(KNOWN_SINCE_KEY);
  if (recorded && !Number.isNaN(dayStart(recorded))) return { at: dayStart(recorded), source: 'first-run' };
  return { at: dayStart(now.toISOString()), source: 'this-run' };
}

/** Record the day of this run as the start of known activity, unless one is already there. */
export async function recordFirstRun(store: StateStore, known: ActivityKnownSince): Promise<void> {
  if (known.source !== 'this-run') return;
  await store.set(KNOWN_SINCE_KEY, new Date(known.at).toISOString().slice(0, 10), { ifAbsent: true });
}

export function describeKnownSince(k: ActivityKnownSince): string {
  const day = new Date(k.at).toISOString().slice(0, 10);
  if (k.source === 'config') return `${day} (lifecycle.activityKnownSince)`;
  if (k.source === 'first-run') return `${day} (recorded by the first lifecycle run; set lifecycle.activityKnownSince to change it)`;
  return `${day} (not recorded yet: the first lifecycle run will record its day; lifecycle.activityKnownSince sets it)`;
}
