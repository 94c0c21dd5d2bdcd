// Holding a lease (store/leases.ts) while a job runs: renewed every third of its time to
// live; trusted locally only until `ttl` after the last renewal was *sent* (less a margin
// for clock rates), on this process's monotonic clock. So a process that was paused (SIGSTOP,
// a frozen VM) or could not reach the store for longer than that stops counting on it by
// itself, before the store lets the lease go to another node — and if it acts anyway, the
// store refuses its token (fencing). A renewal never revives an expired lease.
import { performance } from 'node:perf_hooks';
import { MssError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { leaseLost } from '../store/leases.js';
import type { LeaseState, StateStore } from '../store/store.js';
import { clusterIdentity } from './identity.js';
import { leaseInContext, runUnderLease, type ContextLease } from './lease-context.js';

export class HeldLease implements ContextLease {
  private deadline: number;
  private lost: string | undefined;
  private readonly timer: NodeJS.Timeout;
  private readonly margin: number;

  constructor(
    private readonly store: StateStore,
    readonly name: string,
    readonly token: number,
    readonly holder: string,
    private readonly ttlMs: number,
    sentAt: number,
    private readonly log: Logger = silentLogger,
  ) {
    this.margin = Math.min(1000, ttlMs / 10);
    this.deadline = sentAt + ttlMs - this.margin;
    this.timer = setInterval(() => void this.renew(), Math.max(100, Math.floor(ttlMs / 3)));
    this.timer.unref();
  }

  /** Whether this process may still act under the lease (no store round trip). */
  get held(): boolean {
    return this.lost === undefined && performance.now() < this.deadline;
  }

  assertHeld(): void {
    if (!this.held) throw leaseLost(this.name, this.token);
  }

  async confirm(): Promise<void> {
    this.assertHeld();
    await this.renew();
    this.assertHeld();
  }

  private async renew(): Promise<void> {
    if (this.lost !== undefined) return;
    // A timer that fires late (the process was paused) finds the lease gone locally: it does
    // not try to extend what may already be someone else's.
    if (performance.now() >= this.deadline)
      return this.lose(
        'it expired before it could be renewed (this process was paused, or the state store did not answer, for longer than cluster.leaseTtlMs)',
      );
    const sentAt = performance.now();
    let kept: boolean;
    try {
      kept = await this.store.leaseRenew(this.name, this.token, this.ttlMs);
    } catch (err) {
      // Not answered: keep the current deadline; the next attempt may succeed in time.
      this.log.warn({ lease: this.name, err: (err as Error).message }, 'cluster lease not renewed this time: the state store did not answer');
      return;
    }
    if (kept) this.deadline = Math.max(this.deadline, sentAt + this.ttlMs - this.margin);
    else this.lose('the state store no longer holds it with this token (expired, and perhaps taken by another node)');
  }

  private lose(why: string): void {
    if (this.lost !== undefined) return;
    this.lost = why;
    clearInterval(this.timer);
    this.log.error({ lease: this.name, leaseToken: this.token }, `cluster lease "${this.name}" lost: ${why}; this process does nothing more under it`);
  }

  /** Stop renewing and give the lease back (if it is still ours). */
  async release(): Promise<void> {
    clearInterval(this.timer);
    if (this.lost !== undefined) return;
    this.lost = 'released';
    await this.store.leaseRelease(this.name, this.token).catch(() => false);
  }
}

export interface LeaseOptions {
  /** Default: this node and PID (cluster/config.ts). */
  holder?: string;
  ttlMs?: number;
  log?: Logger;
}

/** Take `name` now, or report who holds it. */
export async function tryLease(
  store: StateStore,
  name: string,
  opts: LeaseOptions = {},
): Promise<HeldLease | { held: false; current: LeaseState | undefined }> {
  const id = clusterIdentity();
  const holder = opts.holder ?? id.holder;
  const ttlMs = opts.ttlMs ?? id.leaseTtlMs;
  const sentAt = performance.now();
  const got = await store.leaseAcquire(name, holder, ttlMs);
  if (!got.acquired) return { held: false, current: got.current };
  return new HeldLease(store, name, got.token, holder, ttlMs, sentAt, opts.log);
}

export interface WithLeaseOptions extends LeaseOptions {
  /** The error when someone else holds it (a command run by hand while the timer's job runs). */
  busy: (current: LeaseState | undefined) => MssError;
}

/**
 * Run `fn` holding lease `name` (re-entrant: within a context that holds it already, `fn`
 * just runs). Store writes made by `fn` through a lease-aware store are fenced by it.
 */
export async function withLease<T>(store: StateStore, name: string, opts: WithLeaseOptions, fn: () => Promise<T>): Promise<T> {
  if (leaseInContext(name)) return fn();
  const lease = await tryLease(store, name, opts);
  if (!(lease instanceof HeldLease)) throw opts.busy(lease.current);
  try {
    return await runUnderLease(lease, fn);
  } finally {
    await lease.release();
  }
}

/** "held by NODE/PID for N s more", for messages. */
export function describeHolder(current: LeaseState | undefined): string {
  return current ? `held by ${current.holder} (token ${current.token}, ${Math.ceil(current.ttlMs / 1000)} s left unless renewed)` : 'held by another process';
}
