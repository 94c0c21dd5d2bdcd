// The store a job opens: writes made while the asynchronous context holds a lease
// (lease-context.ts) go through the backend's fencedWrite with the outermost lease's token,
// so that a job whose node was paused or cut off past its lease cannot change the shared
// state once another node has taken over — without the job's code (annuaire, statistics,
// lifecycle) passing tokens around. Outside a lease it is the plain store.
import type { FencedWrite, IncrOptions, JournalRecord, JournalScanOptions, LeaseAttempt, LeaseState, SetOptions, StateStore } from '../store/store.js';
import { heldLeases } from './lease-context.js';

export class LeaseAwareStore implements StateStore {
  constructor(readonly inner: StateStore) {}

  get backend(): StateStore['backend'] {
    return this.inner.backend;
  }

  private async write<T>(op: FencedWrite, direct: () => Promise<T>, fenced: (r: boolean | number) => T): Promise<T> {
    const leases = heldLeases();
    const outer = leases[0];
    if (!outer) return direct();
    for (const l of leases) l.assertHeld();
    return fenced(await this.inner.fencedWrite({ name: outer.name, token: outer.token }, op));
  }

  get(key: string): Promise<string | undefined> {
    return this.inner.get(key);
  }

  set(key: string, value: string, opts: SetOptions = {}): Promise<boolean> {
    return this.write(
      { op: 'set', key, value, ...(opts.ttlMs ? { ttlMs: opts.ttlMs } : {}), ...(opts.ifAbsent ? { ifAbsent: true } : {}) },
      () => this.inner.set(key, value, opts),
      Boolean,
    );
  }

  del(key: string): Promise<boolean> {
    return this.write({ op: 'del', key }, () => this.inner.del(key), Boolean);
  }

  incr(key: string, opts: IncrOptions = {}): Promise<number> {
    return this.write(
      { op: 'incr', key, ...(opts.by !== undefined ? { by: opts.by } : {}), ...(opts.windowMs ? { windowMs: opts.windowMs } : {}) },
      () => this.inner.incr(key, opts),
      Number,
    );
  }

  hget(key: string, field: string): Promise<string | undefined> {
    return this.inner.hget(key, field);
  }

  hgetall(key: string): Promise<Record<string, string>> {
    return this.inner.hgetall(key);
  }

  hgetallMany(keys: readonly string[]): Promise<Array<Record<string, string>>> {
    return this.inner.hgetallMany(keys);
  }

  hset(key: string, fields: Readonly<Record<string, string>>): Promise<void> {
    return this.write(
      { op: 'hset', key, fields },
      () => this.inner.hset(key, fields),
      () => undefined,
    );
  }

  hdel(key: string, fields: readonly string[]): Promise<void> {
    return this.write(
      { op: 'hdel', key, fields },
      () => this.inner.hdel(key, fields),
      () => undefined,
    );
  }

  scan(prefix: string): AsyncIterable<string> {
    return this.inner.scan(prefix);
  }

  async journalAppend(records: readonly JournalRecord[]): Promise<void> {
    // Journal records carry ids: written twice they count once; only the local check applies.
    for (const l of heldLeases()) l.assertHeld();
    return this.inner.journalAppend(records);
  }

  journalRead(fromMs: number, toMs: number): AsyncIterable<JournalRecord> {
    return this.inner.journalRead(fromMs, toMs);
  }

  journalScan(fromMs: number, toMs: number, opts?: JournalScanOptions): AsyncIterable<JournalRecord[]> {
    return this.inner.journalScan(fromMs, toMs, opts);
  }

  journalPrune(beforeMs: number): Promise<number> {
    return this.inner.journalPrune(beforeMs);
  }

  leaseAcquire(name: string, holder: string, ttlMs: number): Promise<LeaseAttempt> {
    return this.inner.leaseAcquire(name, holder, ttlMs);
  }

  leaseRenew(name: string, token: number, ttlMs: number): Promise<boolean> {
    return this.inner.leaseRenew(name, token, ttlMs);
  }

  leaseRelease(name: string, token: number): Promise<boolean> {
    return this.inner.leaseRelease(name, token);
  }

  leases(): Promise<LeaseState[]> {
    return this.inner.leases();
  }

  fencedWrite(lease: { name: string; token: number }, write: FencedWrite): Promise<boolean | number> {
    return this.inner.fencedWrite(lease, write);
  }

  maintenance(): Promise<void> {
    return this.inner.maintenance();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
