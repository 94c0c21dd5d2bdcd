// Redis backend, for several nodes behind one MX sharing state. Every key is prefixed with
// state.redis.keyPrefix (done here rather than with ioredis' keyPrefix option, which does
// not apply to SCAN patterns). The journal is one Redis stream per UTC day of event time,
// so that a month is read day by day in chunks and retention drops whole days.
// ioredis 6 speaks RESP3 by default; the "legacy" reply mapping keeps RESP2 shapes, which
// is what this file expects (flat arrays for XRANGE fields, objects from HGETALL).
import { createRequire } from 'node:module';
import type { Redis } from 'ioredis';
import { MssError } from '../errors.js';
import { instruments } from '../health/instruments.js';
import { utcDay } from '../util/day-files.js';
import { KEY_PATTERN, type IncrOptions, type JournalRecord, type JournalScanOptions, type SetOptions, type StateStore } from './store.js';

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
const loadIoredis = (): typeof Redis => (ioredis ??= (createRequire(import.meta.url)('ioredis') as { Redis: typeof Redis }).Redis);

export interface RedisStoreOptions {
  url: string;
  keyPrefix: string;
  /** Fail fast instead of queueing commands forever while Redis is down. */
  connectTimeoutMs?: number;
  /** No command waits longer for its answer. */
  commandTimeoutMs?: number;
}

export class RedisStore implements StateStore {
  readonly backend = 'redis' as const;
  readonly client: Redis;
  private readonly prefix: string;

  constructor(opts: RedisStoreOptions) {
    this.prefix = opts.keyPrefix;
    // Fail fast while Redis is down (the gates and the milter wait on every command): one
    // retry, reconnection attempts at most a second apart, and no command waits longer than
    // commandTimeoutMs (a Redis that hangs rather than refuses). What must not be lost goes
    // to the daemon's spool meanwhile (spool.ts).
    this.client = new (loadIoredis())(opts.url, {
      lazyConnect: false,
      connectTimeout: opts.connectTimeoutMs ?? 5000,
      commandTimeout: opts.commandTimeoutMs ?? 2000,
      maxRetriesPerRequest: 1,
      retryStrategy: (times) => Math.min(times * 100, 1000),
      enableOfflineQueue: true,
    });
    this.client.on('error', () => {
      /* reported through the failing command; keep the process alive */
    });
    this.client.defineCommand('mssIncrWindow', { numberOfKeys: 1, lua: INCR_WINDOW });
    this.client.defineCommand('mssJournalAdd', { numberOfKeys: 2, lua: JOURNAL_ADD });
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
    const r = await this.run(() =>
      (this.client as unknown as { mssIncrWindow(k: string, by: number, w: number): Promise<number> }).mssIncrWindow(this.k(key), opts.by ?? 1, opts.windowMs ?? 0),
    );
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
    await this.run(() => this.client.hset(this.k(key), fields));
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
    const pipeline = this.client.pipeline() as ReturnType<Redis['pipeline']> & { mssJournalAdd(stream: string, ids: string, id: string, at: string, data: string): unknown };
    for (const r of records) {
      if (!Number.isFinite(r.at)) throw new MssError('STORE_BAD_RECORD', 'a journal record needs a finite time');
      const day = utcDay(r.at);
      if (r.id) pipeline.mssJournalAdd(this.journalKey(day), this.journalIdsKey(day), r.id, String(r.at), r.data);
      else pipeline.xadd(this.journalKey(day), '*', 'a', String(r.at), 'd', r.data);
    }
    const results = (await this.run(() => pipeline.exec())) ?? [];
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
    // QUIT waits for a connection: with Redis down it would keep the process alive.
    if (this.client.status !== 'ready') {
      this.client.disconnect();
      return;
    }
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect();
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
