// The nightly jobs of a cluster, once per run: every node's timer starts the job (the timers'
// random delays differ, so "at once" is minutes apart at worst), and `--once-per day|hour`
// makes the cluster run it once for that day or hour of the operator's time zone:
//   - a node that finds the run done (store key job-run:<job>:<slot>) does nothing;
//   - a node that finds the job's lease held waits, polling, until the run is done (then it
//     does nothing) or the lease is free again without a run done — its holder died or failed
//     — and then takes it over and runs it (each job is idempotent: what the dead run did is
//     not done again, what it did not finish is);
//   - the run is marked done, fenced by the lease, when the job succeeded; a run that failed
//     or threw leaves the slot to a retry or to another node (each job is idempotent).
import { setTimeout as sleep } from 'node:timers/promises';
import { MssError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { zonedParts } from '../stats/month.js';
import type { StateStore } from '../store/store.js';
import { clusterIdentity } from './identity.js';
import { runUnderLease } from './lease-context.js';
import { describeHolder, HeldLease, tryLease } from './lease.js';

export type OncePer = 'day' | 'hour';
export const ONCE_PER: readonly OncePer[] = ['day', 'hour'];

/** The run a scheduled start belongs to: the local day (2025-03-01) or hour (2025-03-01T00). */
export function slotOf(now: Date, per: OncePer, timeZone: string): string {
  const p = zonedParts(now.getTime(), timeZone);
  const day = `${p.year}-${String(p.month).padStart(2, '0')}-${String(p.day).padStart(2, '0')}`;
  return per === 'day' ? day : `${day}T${String(p.hour).padStart(2, '0')}`;
}

export interface RunRecord {
  job: string;
  slot: string;
  /** Who ran it: node/pid, and its lease token. */
  holder: string;
  token: number;
  at: string;
}

/** `ran`: this process ran it (and recorded it if it completed); otherwise who did. */
export type OnceOutcome<T> = { ran: true; result: T; record: RunRecord } | { ran: false; by: RunRecord };

export interface OnceOptions {
  /** The job's lease name (the same the job takes itself, so that hand runs and scheduled runs exclude each other). */
  job: string;
  /** The name runs are recorded under (default: `job`; annuaire publish and report share one lease). */
  run?: string;
  slot: string;
  log?: Logger;
  /** Poll period while another node holds the lease (default: a third of the lease's time to live, at most 5 s). */
  pollMs?: number;
  /** Keep the run records this long (default 8 days). */
  keepMs?: number;
}

export interface OnceJob<T> {
  run: () => Promise<T>;
  /** Whether this result completes the run (default: any result). */
  completed?: (result: T) => boolean;
}

const runKey = (job: string, slot: string): string => `job-run:${job}:${slot}`;

export async function runOncePerSlot<T>(store: StateStore, o: OnceOptions, job: OnceJob<T>): Promise<OnceOutcome<T>> {
  const log = o.log ?? silentLogger;
  const id = clusterIdentity();
  const key = runKey(o.run ?? o.job, o.slot);
  const done = async (): Promise<RunRecord | undefined> => {
    const v = await store.get(key);
    return v ? (JSON.parse(v) as RunRecord) : undefined;
  };
  const deadline = Date.now() + id.jobWaitMs;
  let waitingFor: string | undefined;
  for (;;) {
    const by = await done();
    if (by) return { ran: false, by };
    const lease = await tryLease(store, o.job, { log });
    if (lease instanceof HeldLease) {
      try {
        return await runUnderLease(lease, async () => {
          // Done between our look and our lease (the holder finished and released).
          const by = await done();
          if (by) return { ran: false as const, by };
          const result = await job.run();
          const record: RunRecord = { job: o.run ?? o.job, slot: o.slot, holder: lease.holder, token: lease.token, at: new Date().toISOString() };
          if (job.completed?.(result) ?? true) {
            lease.assertHeld();
            await store.fencedWrite({ name: o.job, token: lease.token }, { op: 'set', key, value: JSON.stringify(record), ttlMs: o.keepMs ?? 8 * 86_400_000 });
          }
          return { ran: true as const, result, record };
        });
      } finally {
        await lease.release();
      }
    }
    if (Date.now() >= deadline) {
      throw new MssError(
        'TEMPORARY_CLUSTER_JOB_BUSY',
        `${o.job} (run ${o.slot}) is still ${describeHolder(lease.current)} after waiting cluster.jobWaitMs (${id.jobWaitMs} ms); nothing done`,
        { job: o.job, slot: o.slot },
      );
    }
    const holder = lease.current?.holder ?? 'another process';
    if (waitingFor !== holder) {
      waitingFor = holder;
      log.info(
        { job: o.job, slot: o.slot, holder, leaseToken: lease.current?.token },
        `${o.job} run ${o.slot} is ${describeHolder(lease.current)}: waiting until it is done, or taking it over if its node dies`,
      );
    }
    await sleep(o.pollMs ?? Math.min(5000, Math.max(100, Math.floor(id.leaseTtlMs / 3))));
  }
}
