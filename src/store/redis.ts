// Redis backend, for several nodes behind one MX sharing state. Every key is prefixed with
// state.redis.keyPrefix (done here rather than with ioredis' keyPrefix option, which does
// not apply to SCAN patterns). The journal is one Redis stream per UTC day of event time,
// so that a month is read day by day in chunks and retention drops whole days.
// ioredis 6 speaks RESP3 by default; the "legacy" reply mapping keeps RESP2 shapes, which
// is what this file expects (flat arrays for XRANGE fields, objects from HGETALL).
//
// With replicas (Redis Sentinel), a write the master acknowledged is lost if the master dies
// before sending it on: what must not be lost — journal events, logins (hset), leases and
// fenced writes — is followed by WAIT on a second connection (WAIT holds its connection
// until the replicas answer; rate limits, caches and sessions keep the first one), and counts
// as written only once `waitReplicas` replicas have it. Otherwise the caller gets
// TEMPORARY_STORE_UNAVAILABLE and the daemon spools the write; replaying it later is
// harmless (event ids, latest-login rule), so a write confirmed late is not counted twice.
import { createRequire } from 'node:module';
import type { Redis, RedisOptions } from 'ioredis';
import { MssError } from '../errors.js';
import { instruments } from '../health/instruments.js';
import { utcDay } from '../util/day-files.js';
import { leaseKey, leaseLost, leaseSeqKey, leaseStateOf } from './leases.js';
import {
  KEY_PATTERN,
  type FencedWrite,
  type IncrOptions,
  type JournalRecord,
  type JournalScanOptions,
  type LeaseAttempt,
  type LeaseState,
  type SetOptions,
  type StateStore,
} from './store.js';

const DAY_MS = 86_400_000;
const CHUNK = 2000;

// XADD once per event id: the ids of a day's events are a set beside the day's stream, so
// a record written twice (a retry after a lost answer, a spool replayed again, two nodes
// replaying) is counted once. Atomic: both or neither.
const JOURNAL_ADD = `
if redis.call('SADD', KEYS[2], ARGV[1]) == 1 then
  redis.call('XADD', KEYS[1], '*', 'a', ARGV[2], 'd', ARGV[3])
  return 1
end
return 0`;

// INCRBY that starts the window's expiry on the first increment only.
const INCR_WINDOW = `
local n = redis.call('INCRBY', KEYS[1], ARGV[1])
if tonumber(ARGV[2]) > 0 and redis.call('PTTL', KEYS[1]) == -1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return n`;

// ioredis is loaded when a Redis store is opened, not with this file: it costs every process
// ~25 MB of memory, and a single node (embedded store: every timer job, `serve`) never uses it.
let ioredis: typeof Redis | undefined;
export const loadIoredis = (): typeof Redis => (ioredis ??= (createRequire(import.meta.url)('ioredis') as { Redis: typeof Redis }).Redis);

// Leases (leases.ts). Acquire: only when absent, with the next token of the lease's counter.
const LEASE_ACQUIRE = `
local v = redis.call('GET', KEYS[1])
if v then return {0, v, redis.call('PTTL', KEYS[1])} end
local t = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], t .. '|' .. ARGV[1], 'PX', ARGV[2])
return {t}`;

// Renew (ARGV[2] = ttl) or release (ARGV[2] = 0) only with the token the lease holds.
const LEASE_KEEP = `
local v = redis.call('GET', KEYS[1])
if (not v) or string.match(v, '^(%d+)|') ~= ARGV[1] then return 0 end
if tonumber(ARGV[2]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) else redis.call('DEL', KEYS[1]) end
return 1`;

// One write on KEYS[2], only while KEYS[1] (a lease) holds token ARGV[1].
const FENCED = `
local v = redis.call('GET', KEYS[1])
if (not v) or string.match(v, '^(%d+)|') ~= ARGV[1] then return redis.error_reply('LEASE_LOST') end
local op = ARGV[2]
if op == 'set' then
  local args = {KEYS[2], ARGV[3]}
  if tonumber(ARGV[4]) > 0 then table.insert(args, 'PX'); table.insert(args, ARGV[4]) end
  if ARGV[5] == '1' then table.insert(args, 'NX') end
  if redis.call('SET', unpack(args)) then return 1 end
  return 0
elseif op == 'del' then
  return redis.call('DEL', KEYS[2])
elseif op == 'hset' then
  redis.call('HSET', KEYS[2], unpack(ARGV, 3))
  return 1
elseif op == 'hdel' then
  redis.call('HDEL', KEYS[2], unpack(ARGV, 3))
  return 1
elseif op == 'incr' then
  local n = redis.call('INCRBY', KEYS[2], ARGV[3])
  if tonumber(ARGV[4]) > 0 and redis.call('PTTL', KEYS[2]) == -1 then redis.call('PEXPIRE', KEYS[2], ARGV[4]) end
  return n
end
return redis.error_reply('ERR unknown fenced operation')`;

/** The replication state of the server the store writes to (status, health). */
export interface RedisReplication {
  role: string;
  /** Replicas connected to it, and how many must confirm a durable write. */
  connectedReplicas: number;
  waitReplicas: number;
  /** host:port of the server answering. */
  address: string;
}

type Scripted = Redis & {
  mssIncrWindow(k: string, by: number, w: number): Promise<number>;
  mssLeaseAcquire(lease: string, seq: string, holder: string, ttl: number): Promise<[number, string?, number?]>;
  mssLeaseKeep(lease: string, token: string, ttl: number): Promise<number>;
  mssFenced(lease: string, key: string, token: string, op: string, ...args: Array<string | number>): Promise<number>;
};

export interface RedisStoreOptions {
  /** One server; or `options` alone (Redis Sentinel, store/redis-connection.ts). */
  url?: string;
  options?: RedisOptions;
  keyPrefix: string;
  /** Durable writes count once this many replicas confirm them (WAIT); 0: no WAIT. */
  waitReplicas?: number;
  waitTimeoutMs?: number;
  /** Fail fast instead of queueing commands forever while Redis is down. */
  connectTimeoutMs?: number;
  /** No command waits longer for its answer. */
  commandTimeoutMs?: number;
}

export class RedisStore implements StateStore {
  readonly backend = 'redis' as const;
  readonly client: Redis;
  private readonly prefix: string;
  private readonly waitReplicas: number;
  private readonly waitTimeoutMs: number;
  private durableClient: Redis | undefined;

  constructor(private readonly opts: RedisStoreOptions) {
    this.prefix = opts.keyPrefix;
    this.waitReplicas = opts.waitReplicas ?? 0;
    this.waitTimeoutMs = opts.waitTimeoutMs ?? 500;
    this.client = this.connect();
  }

  private connect(): Redis {
    // Fail fast while Redis is down (the gates and the milter wait on every command): one
    // retry, reconnection attempts at most a second apart, and no command waits longer than
    // commandTimeoutMs (a Redis that hangs rather than refuses). What must not be lost goes
    // to the daemon's spool meanwhile (spool.ts).
    const base: RedisOptions = {
      lazyConnect: false,
      connectTimeout: this.opts.connectTimeoutMs ?? 5000,
      commandTimeout: this.opts.commandTimeoutMs ?? 2000,
      maxRetriesPerRequest: 1,
      retryStrategy: (times) => Math.min(times * 100, 1000),
      enableOfflineQueue: true,
      ...this.opts.options,
    };
    const RedisClient = loadIoredis();
    const client = this.opts.url ? new RedisClient(this.opts.url, base) : new RedisClient(base);
    client.on('error', () => {
      /* reported through the failing command; keep the process alive */
    });
    client.defineCommand('mssIncrWindow', { numberOfKeys: 1, lua: INCR_WINDOW });
    client.defineCommand('mssJournalAdd', { numberOfKeys: 2, lua: JOURNAL_ADD });
    client.defineCommand('mssLeaseAcquire', { numberOfKeys: 2, lua: LEASE_ACQUIRE });
    client.defineCommand('mssLeaseKeep', { numberOfKeys: 1, lua: LEASE_KEEP });
    client.defineCommand('mssFenced', { numberOfKeys: 2, lua: FENCED });
    return client;
  }

  /** The connection of durable writes: a second one when they are followed by WAIT. */
  private get durable(): Scripted {
    if (this.waitReplicas === 0) return this.client as Scripted;
    this.durableClient ??= this.connect();
    return this.durableClient as Scripted;
  }

  /**
   * Run a durable write (a pipeline on the durable connection) and, with replicas, WAIT for
   * the replicas connected to the master, up to waitReplicas: TEMPORARY_STORE_UNAVAILABLE
   * when fewer confirm in time. Without any replica connected (after a failover, until the
   * old master is back as a replica) there is nothing to wait for: the write counts as it
   * is, and `status` says the data has a single copy (replicaCheck in health/checks.ts).
   */
  private async durably(build: (p: ReturnType<Redis['pipeline']>) => void, what: string): Promise<Array<[Error | null, unknown]>> {
    const pipeline = this.durable.pipeline();
    build(pipeline);
    const expected = this.waitReplicas > 0 ? Math.min(this.waitReplicas, await this.connectedReplicas()) : 0;
    if (expected > 0) pipeline.call('WAIT', expected, this.waitTimeoutMs);
    const results = ((await this.run(() => pipeline.exec())) ?? []) as Array<[Error | null, unknown]>;
    if (expected > 0) {
      const [err, reply] = results.pop() ?? [null, 0];
      const acked = err ? 0 : Number(reply);
      // Fewer than expected: the replica may just have gone (a failover): ask again.
      if (results.every(([e]) => !e) && acked < expected && acked < Math.min(this.waitReplicas, await this.connectedReplicas(true))) {
        instruments.storeError('redis');
        throw new MssError(
          'TEMPORARY_STORE_UNAVAILABLE',
          `Redis: ${what} written on the master but confirmed by ${acked} of ${expected} replica(s) within ${this.waitTimeoutMs} ms (state.redis.waitReplicas): a failover could lose it, so it is kept for a replay`,
        );
      }
    }
    return results;
  }

  private replicas: { count: number; at: number } | undefined;

  /** Replicas connected to the master, as INFO says, asked at most every 2 s (or now when `fresh`). */
  private async connectedReplicas(fresh = false): Promise<number> {
    if (!fresh && this.replicas && Date.now() - this.replicas.at < 2000) return this.replicas.count;
    const count = (await this.replication().catch(() => undefined))?.connectedReplicas;
    // Unknown (Redis not answering): assume what was configured; the write fails anyway.
    this.replicas = { count: count ?? this.waitReplicas, at: Date.now() };
    return this.replicas.count;
  }

  private k(key: string): string {
    if (!KEY_PATTERN.test(key)) throw new MssError('STORE_BAD_KEY', `invalid store key "${key.slice(0, 80)}" (expected namespace:rest)`);
    return this.prefix + key;
  }

  async get(key: string): Promise<string | undefined> {
    return (await this.run(() => this.client.get(this.k(key)))) ?? undefined;
  }

  async set(key: string, value: string, opts: SetOptions = {}): Promise<boolean> {
    const args: Array<string | number> = [];
    if (opts.ttlMs) args.push('PX', Math.max(1, Math.round(opts.ttlMs)));
    if (opts.ifAbsent) args.push('NX');
    const r = await this.run(() => this.client.call('SET', this.k(key), value, ...args));
    return r === 'OK';
  }

  async del(key: string): Promise<boolean> {
    return (await this.run(() => this.client.del(this.k(key)))) > 0;
  }

  async incr(key: string, opts: IncrOptions = {}): Promise<number> {
    const r = await this.run(() => (this.client as Scripted).mssIncrWindow(this.k(key), opts.by ?? 1, opts.windowMs ?? 0));
    return Number(r);
  }

  async hget(key: string, field: string): Promise<string | undefined> {
    return (await this.run(() => this.client.hget(this.k(key), field))) ?? undefined;
  }

  async hgetall(key: string): Promise<Record<string, string>> {
    return this.run(() => this.client.hgetall(this.k(key)));
  }

  async hgetallMany(keys: readonly string[]): Promise<Array<Record<string, string>>> {
    if (keys.length === 0) return [];
    const pipeline = this.client.pipeline();
    for (const key of keys) pipeline.hgetall(this.k(key));
    const results = (await this.run(() => pipeline.exec())) ?? [];
    return results.map(([err, value]) => {
      if (err) throw storeError(err);
      return (value ?? {}) as Record<string, string>;
    });
  }

  async hset(key: string, fields: Readonly<Record<string, string>>): Promise<void> {
    if (Object.keys(fields).length === 0) return;
    const key_ = this.k(key);
    const [[err] = [null]] = await this.durably((p) => p.hset(key_, fields), `hash ${key}`);
    if (err) throw storeError(err);
  }

  async hdel(key: string, fields: readonly string[]): Promise<void> {
    if (fields.length === 0) return;
    await this.run(() => this.client.hdel(this.k(key), ...fields));
  }

  async *scan(prefix: string): AsyncIterable<string> {
    let cursor = '0';
    const pattern = `${escapeGlob(this.prefix + prefix)}*`;
    do {
      const [next, keys] = await this.run(() => this.client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000));
      cursor = next;
      for (const k of keys) yield k.slice(this.prefix.length);
    } while (cursor !== '0');
  }

  async journalAppend(records: readonly JournalRecord[]): Promise<void> {
    if (records.length === 0) return;
    for (const r of records) if (!Number.isFinite(r.at)) throw new MssError('STORE_BAD_RECORD', 'a journal record needs a finite time');
    const results = await this.durably((p) => {
      const pipeline = p as typeof p & { mssJournalAdd(stream: string, ids: string, id: string, at: string, data: string): unknown };
      for (const r of records) {
        const day = utcDay(r.at);
        if (r.id) pipeline.mssJournalAdd(this.journalKey(day), this.journalIdsKey(day), r.id, String(r.at), r.data);
        else pipeline.xadd(this.journalKey(day), '*', 'a', String(r.at), 'd', r.data);
      }
    }, `${records.length} journal event(s)`);
    for (const [err] of results) if (err) throw storeError(err);
  }

  async *journalRead(fromMs: number, toMs: number): AsyncIterable<JournalRecord> {
    for await (const batch of this.journalScan(fromMs, toMs)) yield* batch;
  }

  async *journalScan(fromMs: number, toMs: number, opts: JournalScanOptions = {}): AsyncIterable<JournalRecord[]> {
    if (toMs <= fromMs) return;
    const contains = opts.contains;
    for (let day = Date.parse(`${utcDay(fromMs)}T00:00:00Z`); day < toMs; day += DAY_MS) {
      const key = this.journalKey(utcDay(day));
      let start = '-';
      for (;;) {
        const rows = await this.run(() => this.client.xrange(key, start, '+', 'COUNT', CHUNK));
        const batch: JournalRecord[] = [];
        for (const [, fields] of rows) {
          const rec = recordOf(fields);
          if (rec && rec.at >= fromMs && rec.at < toMs && (!contains || rec.data.includes(contains))) batch.push(rec);
        }
        if (batch.length > 0) yield batch;
        if (rows.length < CHUNK) break;
        start = `(${rows[rows.length - 1]?.[0] ?? ''}`;
      }
    }
  }

  async journalPrune(beforeMs: number): Promise<number> {
    let removed = 0;
    for await (const key of this.scan('journal:')) {
      const m = /^journal:(\d{4}-\d{2}-\d{2})(:ids)?$/.exec(key);
      if (!m) continue;
      if (Date.parse(`${m[1]}T00:00:00Z`) + DAY_MS > beforeMs) continue;
      await this.run(() => this.client.del(this.prefix + key));
      if (!m[2]) removed++;
    }
    return removed;
  }

  async leaseAcquire(name: string, holder: string, ttlMs: number): Promise<LeaseAttempt> {
    const lease = this.prefix + leaseKey(name);
    const seq = this.prefix + leaseSeqKey(name);
    const ttl = Math.max(1, Math.round(ttlMs));
    const [[err, reply] = [null, undefined]] = await this.durably(
      (p) => (p as unknown as Scripted).mssLeaseAcquire(lease, seq, holder, ttl),
      `lease ${name}`,
    ).catch(async (e: unknown) => {
      // Taken on the master but not confirmed by a replica: give it back rather than hold a
      // lease a failover could hand to someone else.
      const current = await this.leaseOf(name).catch(() => undefined);
      if (current?.holder === holder) await this.leaseRelease(name, current.token).catch(() => undefined);
      throw e;
    });
    if (err) throw storeError(err);
    const [token, value, pttl] = reply as [number, string?, number?];
    if (Number(token) > 0) return { acquired: true, token: Number(token) };
    return { acquired: false, current: value !== undefined ? leaseStateOf(name, value, Number(pttl ?? 0)) : undefined };
  }

  async leaseRenew(name: string, token: number, ttlMs: number): Promise<boolean> {
    const lease = this.prefix + leaseKey(name);
    const [[err, kept] = [null, 0]] = await this.durably(
      (p) => (p as unknown as Scripted).mssLeaseKeep(lease, String(token), Math.max(1, Math.round(ttlMs))),
      `lease ${name}`,
    );
    if (err) throw storeError(err);
    return Number(kept) === 1;
  }

  async leaseRelease(name: string, token: number): Promise<boolean> {
    const lease = this.prefix + leaseKey(name);
    return Number(await this.run(() => this.durable.mssLeaseKeep(lease, String(token), 0))) === 1;
  }

  async leases(): Promise<LeaseState[]> {
    const out: LeaseState[] = [];
    for await (const key of this.scan('lease:')) {
      const state = await this.leaseOf(key.slice(6));
      if (state) out.push(state);
    }
    return out;
  }

  private async leaseOf(name: string): Promise<LeaseState | undefined> {
    const key = this.prefix + leaseKey(name);
    const [[, value], [, pttl]] = ((await this.run(() => this.client.pipeline().get(key).pttl(key).exec())) ?? [
      [null, null],
      [null, 0],
    ]) as [[unknown, string | null], [unknown, number]];
    return value ? leaseStateOf(name, value, Number(pttl)) : undefined;
  }

  async fencedWrite(lease: { name: string; token: number }, write: FencedWrite): Promise<boolean | number> {
    const leaseK = this.prefix + leaseKey(lease.name);
    const key = this.k(write.key);
    const args: Array<string | number> = [];
    switch (write.op) {
      case 'set':
        args.push(write.value, write.ttlMs ? Math.max(1, Math.round(write.ttlMs)) : 0, write.ifAbsent ? '1' : '0');
        break;
      case 'del':
        break;
      case 'hset':
        if (Object.keys(write.fields).length === 0) return true;
        for (const [f, v] of Object.entries(write.fields)) args.push(f, v);
        break;
      case 'hdel':
        if (write.fields.length === 0) return true;
        args.push(...write.fields);
        break;
      case 'incr':
        args.push(write.by ?? 1, write.windowMs ?? 0);
        break;
    }
    let results: Array<[Error | null, unknown]>;
    try {
      results = await this.durably(
        (p) => (p as unknown as Scripted).mssFenced(leaseK, key, String(lease.token), write.op, ...args),
        `${write.op} ${write.key}`,
      );
    } catch (err) {
      if (/LEASE_LOST/.test((err as Error).message)) throw leaseLost(lease.name, lease.token);
      throw err;
    }
    const [err, reply] = results[0] ?? [null, 0];
    if (err) {
      if (/LEASE_LOST/.test(err.message)) throw leaseLost(lease.name, lease.token);
      throw storeError(err);
    }
    return write.op === 'incr' ? Number(reply) : Number(reply) > 0;
  }

  /** Role and replicas of the server answering (INFO replication). */
  async replication(): Promise<RedisReplication> {
    const info = await this.run(() => this.client.info('replication'));
    const field = (name: string): string | undefined => new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim();
    const stream = this.client.stream as { remoteAddress?: string; remotePort?: number } | undefined;
    // Replicas that are online (a replica still syncing cannot confirm anything).
    const online = [...info.matchAll(/^slave\d+:.*state=online/gm)].length;
    return {
      role: field('role') ?? 'unknown',
      connectedReplicas: online,
      waitReplicas: this.waitReplicas,
      address: stream?.remoteAddress ? `${stream.remoteAddress}:${stream.remotePort}` : 'unknown',
    };
  }

  async maintenance(): Promise<void> {
    /* Redis expires keys itself */
  }

  /** Round-trip time of a PING in ms; rejects after `timeoutMs` (supervision, status). */
  async ping(timeoutMs = 2000): Promise<number> {
    const start = process.hrtime.bigint();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new MssError('TEMPORARY_STORE_UNAVAILABLE', `Redis: no answer to PING within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([this.run(() => this.client.ping()), late]);
    } finally {
      clearTimeout(timer);
    }
    return Number(process.hrtime.bigint() - start) / 1e6;
  }

  async close(): Promise<void> {
    for (const client of [this.durableClient, this.client]) {
      if (!client) continue;
      // QUIT waits for a connection: with Redis down it would keep the process alive.
      if (client.status !== 'ready') {
        client.disconnect();
        continue;
      }
      try {
        await client.quit();
      } catch {
        /* disconnected below */
      }
      // Also after QUIT: in Sentinel mode it ends the connector's subscriptions to the
      // sentinels (+switch-master), which QUIT leaves open.
      client.disconnect();
    }
  }

  private journalKey(day: string): string {
    return `${this.prefix}journal:${day}`;
  }

  private journalIdsKey(day: string): string {
    return `${this.prefix}journal:${day}:ids`;
  }

  private async run<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      const e = storeError(err);
      if (e.code === 'TEMPORARY_STORE_UNAVAILABLE') instruments.storeError('redis');
      throw e;
    }
  }
}

function recordOf(fields: string[]): JournalRecord | undefined {
  let at: number | undefined;
  let data: string | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] === 'a') at = Number(fields[i + 1]);
    else if (fields[i] === 'd') data = fields[i + 1];
  }
  return at !== undefined && data !== undefined ? { at, data } : undefined;
}

function escapeGlob(s: string): string {
  return s.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

function storeError(err: unknown): MssError {
  if (err instanceof MssError) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (/WRONGTYPE/.test(message)) return new MssError('STORE_WRONG_TYPE', message);
  return new MssError('TEMPORARY_STORE_UNAVAILABLE', `Redis: ${message}`, {}, { cause: err });
}
