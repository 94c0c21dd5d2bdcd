// The state store: one interface, two backends (embedded files under state.dir, or Redis).
// It holds what changes at run time and is not the IT team's to version: registry runtime
// fields (last login, last exchange, notices sent, depublication), counters for rate
// limits, caches with a time to live, and the message journal read by the statistics.
// Both backends pass the same contract suite (test/unit/store-contract.ts).
//
// Keys are `namespace:rest`, namespace in [a-z0-9_-] (the embedded backend makes it a
// directory). Values are strings; callers serialise.

export interface SetOptions {
  /** Expire the key after this many milliseconds (caches, claims). */
  ttlMs?: number;
  /** Only set when the key does not exist (or has expired); `set` then returns false. */
  ifAbsent?: boolean;
}

export interface IncrOptions {
  by?: number;
  /**
   * Fixed window: the first increment starts a window of this length; when it ends the
   * counter starts again from zero. Without it the counter never expires.
   */
  windowMs?: number;
}

/** One journal record: the event time (ms since epoch, UTC) and an opaque JSON text. */
export interface JournalRecord {
  at: number;
  data: string;
  /**
   * The event's identity: a store shared by several writers adds a record with an id it
   * already holds only once (a write retried after a lost answer, a spool replayed twice,
   * two nodes). Not returned by journalRead.
   */
  id?: string;
}

export interface JournalScanOptions {
  contains?: string;
}

/** A cluster lease as the store holds it (store/leases.ts explains them). */
export interface LeaseState {
  name: string;
  /** Fencing token: grows by one at every acquisition of this lease, never reused. */
  token: number;
  /** Who holds it: `<node>/<pid>`. */
  holder: string;
  /** Milliseconds left before it expires unless renewed. */
  ttlMs: number;
}

export type LeaseAttempt = { acquired: true; token: number } | { acquired: false; current: LeaseState | undefined };

/** A write that happens only while a lease is held with a given token (fencing). */
export type FencedWrite =
  | { op: 'set'; key: string; value: string; ttlMs?: number; ifAbsent?: boolean }
  | { op: 'del'; key: string }
  | { op: 'hset'; key: string; fields: Readonly<Record<string, string>> }
  | { op: 'hdel'; key: string; fields: readonly string[] }
  | { op: 'incr'; key: string; by?: number; windowMs?: number };

export interface StateStore {
  readonly backend: 'embedded' | 'redis';

  get(key: string): Promise<string | undefined>;
  /** Returns false only when `ifAbsent` was asked and the key exists. */
  set(key: string, value: string, opts?: SetOptions): Promise<boolean>;
  /** Returns true when a key was removed. */
  del(key: string): Promise<boolean>;
  /** Atomic across processes and nodes; returns the value after the increment. */
  incr(key: string, opts?: IncrOptions): Promise<number>;

  hget(key: string, field: string): Promise<string | undefined>;
  hgetall(key: string): Promise<Record<string, string>>;
  /** Several hashes at once (one round trip in Redis); `{}` for a missing one. */
  hgetallMany(keys: readonly string[]): Promise<Array<Record<string, string>>>;
  hset(key: string, fields: Readonly<Record<string, string>>): Promise<void>;
  hdel(key: string, fields: readonly string[]): Promise<void>;

  /** Every live key that starts with `prefix` (order unspecified). */
  scan(prefix: string): AsyncIterable<string>;

  /** Append journal records; resolves once they are written (durable shortly after). */
  journalAppend(records: readonly JournalRecord[]): Promise<void>;
  /**
   * The same append, done before it returns (throws where journalAppend rejects), for a
   * backend whose writes are synchronous anyway (the embedded store: fs.writeSync); absent
   * where they are not (Redis). Issue 20: the milter's end of message then decides in the
   * turn that received it, without a promise, a deadline and a resumed pass per message
   * (Journal.recordNow). A store that wraps another must wrap both, or leave this one out.
   * Such a backend is local and keeps no record ids (the embedded store: one writer per
   * day file, nothing shared to add twice), so the Journal gives it none of its own.
   */
  journalAppendSync?(records: readonly JournalRecord[]): void;
  /**
   * Records with `fromMs <= at < toMs`, streamed (bounded memory), UTC day by day in
   * ascending order; within a day, each writer's records come in the order they were
   * appended, and no other order is promised.
   */
  journalRead(fromMs: number, toMs: number): AsyncIterable<JournalRecord>;
  /**
   * The same records in batches (a block of a day file, a page of a stream): what the
   * statistics read a month with, without one await per record. `contains`: only records
   * whose data contains that text (a pre-filter; an embedded store searches the bytes
   * before decoding them).
   */
  journalScan(fromMs: number, toMs: number, opts?: JournalScanOptions): AsyncIterable<JournalRecord[]>;
  /** Remove journal days that end before `beforeMs`; returns how many days were removed. */
  journalPrune(beforeMs: number): Promise<number>;

  /**
   * Leases (store/leases.ts): acquired only when nobody holds `name`, with a new fencing
   * token; renewed and released only with the token they were acquired with, so that a
   * holder whose lease expired (paused, partitioned) cannot extend or drop its successor's.
   */
  leaseAcquire(name: string, holder: string, ttlMs: number): Promise<LeaseAttempt>;
  leaseRenew(name: string, token: number, ttlMs: number): Promise<boolean>;
  leaseRelease(name: string, token: number): Promise<boolean>;
  /** The leases held now (status). */
  leases(): Promise<LeaseState[]>;
  /**
   * Apply `write` only if lease `lease.name` is held with `lease.token`, atomically with that
   * check; otherwise throw LEASE_LOST. Returns what set/del (boolean) or incr (number) return.
   */
  fencedWrite(lease: { name: string; token: number }, write: FencedWrite): Promise<boolean | number>;

  /** Housekeeping (the embedded backend removes expired keys); safe to call any time. */
  maintenance(): Promise<void>;
  close(): Promise<void>;
}

export const KEY_PATTERN = /^[a-z0-9_-]{1,40}:.{1,1000}$/s;
/** Lease names become keys `lease:<name>`. */
export const LEASE_NAME = /^[a-z0-9_-]{1,64}$/;
