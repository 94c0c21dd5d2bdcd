// Embedded backend: plain files under state.dir, for a single node with no server to run.
//   kv/<namespace>/<key>        one small JSON file per key, replaced by atomic rename
//   kv/<namespace>/.<key>.lock  held during read-modify-write (incr, hset, set ifAbsent)
//   journal/<YYYY-MM-DD>/<writer>.jsonl   append-only, one file per process and day
// The daemon and the timer jobs run at the same time on one node: every read-modify-write
// takes the key's lock file, every replacement is a rename (a reader sees the old or the
// new value, never a torn one), and each process appends only to its own journal files.
// Values without expiry are fsync'd; counters and values with a TTL (soft state that a
// crash may roll back a little) are not, to keep rate limiting cheap.
//
// Cost per operation (issue 20): the inbound gate claims and commits one key per message
// (`gate-in:<digest>`, src/gate/inbound/dedupe.ts), on the path of the message's final dot.
// Each asynchronous fs call is a trip through libuv's thread pool and back (a futex, an
// eventfd write, a turn of the event loop: 24 → 6 write calls per message once gone), which
// on a loaded machine waits for a core twice. So reads of one key and the writes of soft
// state (no fsync) are synchronous system calls — a few µs each on a small file in the page
// cache —, and a directory made once is not made again at every write. Writes that fsync
// (values without expiry, leases) stay asynchronous: an fsync may take milliseconds.
import fs from 'node:fs';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { MssError } from '../errors.js';
import { atomicWriteFile } from '../util/atomic-write.js';
import { withFileLock } from '../util/file-lock.js';
import { DayFiles, listDays, newWriterId, utcDay } from '../util/day-files.js';
import { ScanBlock, scanDayFile } from './day-file-scan.js';
import { leaseKey, leaseLost, leaseSeqKey, leaseStateOf, leaseValue } from './leases.js';
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

type Entry =
  { k: string; t: 's'; v: string; e?: number } | { k: string; t: 'n'; v: number; e?: number } | { k: string; t: 'h'; v: Record<string, string>; e?: number };

const DAY_MS = 86_400_000;

export class EmbeddedStore implements StateStore {
  readonly backend = 'embedded' as const;
  private readonly kvDir: string;
  private readonly journalDir: string;
  private journal: DayFiles | undefined;
  /** Namespace directories made (or found) by this store: not made again at every write. */
  private readonly madeDirs = new Set<string>();

  constructor(readonly dir: string) {
    this.kvDir = path.join(dir, 'kv');
    this.journalDir = path.join(dir, 'journal');
    fs.mkdirSync(this.kvDir, { recursive: true, mode: 0o700 });
  }

  async get(key: string): Promise<string | undefined> {
    const e = await this.read(key);
    if (!e) return undefined;
    if (e.t === 'h') throw wrongType(key);
    return String(e.v);
  }

  async set(key: string, value: string, opts: SetOptions = {}): Promise<boolean> {
    const entry: Entry = { k: key, t: 's', v: value, ...(opts.ttlMs ? { e: Date.now() + opts.ttlMs } : {}) };
    if (!opts.ifAbsent) {
      await this.write(key, entry, !opts.ttlMs);
      return true;
    }
    return this.locked(key, async () => {
      if (await this.read(key)) return false;
      await this.write(key, entry, !opts.ttlMs);
      return true;
    });
  }

  async del(key: string): Promise<boolean> {
    const live = (await this.read(key)) !== undefined;
    try {
      fs.unlinkSync(this.fileOf(key));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    return live;
  }

  async incr(key: string, opts: IncrOptions = {}): Promise<number> {
    const by = opts.by ?? 1;
    return this.locked(key, async () => {
      const e = await this.read(key);
      if (e && e.t !== 'n') throw wrongType(key);
      const next: Entry = e
        ? { k: key, t: 'n', v: e.v + by, ...(e.e ? { e: e.e } : {}) }
        : { k: key, t: 'n', v: by, ...(opts.windowMs ? { e: Date.now() + opts.windowMs } : {}) };
      await this.write(key, next, false);
      return next.v;
    });
  }

  async hget(key: string, field: string): Promise<string | undefined> {
    return (await this.hgetall(key))[field];
  }

  async hgetall(key: string): Promise<Record<string, string>> {
    const e = await this.read(key);
    if (!e) return {};
    if (e.t !== 'h') throw wrongType(key);
    return { ...e.v };
  }

  async hgetallMany(keys: readonly string[]): Promise<Array<Record<string, string>>> {
    // Most keys of a big batch (50,000 mailboxes) may not exist: one directory listing per
    // namespace replaces a failed open per absent key, and present files are read a few at
    // a time rather than one after the other (2.7 s → a fraction for 50,000 absent keys).
    const files = keys.map((k) => this.fileOf(k));
    const listed = new Map<string, Set<string>>();
    for (const dir of new Set(files.map((f) => path.dirname(f)))) {
      listed.set(dir, new Set(await fs.promises.readdir(dir).catch(() => [] as string[])));
    }
    const out: Array<Record<string, string>> = keys.map(() => ({}));
    const todo = files.flatMap((f, i) => (listed.get(path.dirname(f))?.has(path.basename(f)) ? [i] : []));
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < todo.length) {
        const i = todo[next++] as number;
        const e = await this.readFile(files[i] as string);
        if (e && e.t !== 'h') throw wrongType(keys[i] as string);
        if (e) out[i] = { ...e.v };
      }
    };
    await Promise.all(Array.from({ length: Math.min(16, todo.length) }, worker));
    return out;
  }

  async hset(key: string, fields: Readonly<Record<string, string>>): Promise<void> {
    await this.locked(key, async () => {
      const e = await this.read(key);
      if (e && e.t !== 'h') throw wrongType(key);
      await this.write(key, { k: key, t: 'h', v: { ...(e?.v ?? {}), ...fields } }, true);
    });
  }

  async hdel(key: string, fields: readonly string[]): Promise<void> {
    await this.locked(key, async () => {
      const e = await this.read(key);
      if (!e) return;
      if (e.t !== 'h') throw wrongType(key);
      const v = { ...e.v };
      for (const f of fields) delete v[f];
      if (Object.keys(v).length === 0) await fs.promises.rm(this.fileOf(key), { force: true });
      else await this.write(key, { k: key, t: 'h', v }, true);
    });
  }

  async *scan(prefix: string): AsyncIterable<string> {
    const ns = namespaceOf(prefix);
    if (ns === undefined) throw new MssError('STORE_BAD_KEY', `scan prefix "${prefix}" must start with "namespace:"`);
    const dir = path.join(this.kvDir, ns);
    let names: string[];
    try {
      names = await fs.promises.readdir(dir);
    } catch {
      return;
    }
    for (const name of names) {
      if (name.startsWith('.')) continue;
      const decoded = name.startsWith('#') ? undefined : `${ns}:${decodeName(name)}`;
      if (decoded !== undefined && !decoded.startsWith(prefix)) continue;
      const e = await this.readFile(path.join(dir, name));
      if (e && e.k.startsWith(prefix)) yield e.k;
    }
  }

  async journalAppend(records: readonly JournalRecord[]): Promise<void> {
    this.journalAppendSync(records);
  }

  /** The append is synchronous here (DayFiles: fs.writeSync): see StateStore.journalAppendSync. */
  journalAppendSync(records: readonly JournalRecord[]): void {
    this.journal ??= new DayFiles(this.journalDir, newWriterId());
    // One write per day file, not per record (issue 20: a message's events in one append),
    // and nothing written when any record is refused.
    const byDay = new Map<string, string>();
    for (const r of records) {
      if (!Number.isFinite(r.at) || r.data.includes('\n')) throw new MssError('STORE_BAD_RECORD', 'a journal record needs a finite time and one line of data');
      const day = utcDay(r.at);
      byDay.set(day, `${byDay.get(day) ?? ''}${r.at}\t${r.data}\n`);
    }
    for (const [day, lines] of byDay) this.journal.append(day, lines);
  }

  async *journalRead(fromMs: number, toMs: number): AsyncIterable<JournalRecord> {
    for await (const batch of this.journalScan(fromMs, toMs)) yield* batch;
  }

  async *journalScan(fromMs: number, toMs: number, opts: JournalScanOptions = {}): AsyncIterable<JournalRecord[]> {
    if (toMs <= fromMs) return;
    const first = utcDay(fromMs);
    const last = utcDay(toMs - 1);
    const block = new ScanBlock();
    for (const day of listDays(this.journalDir)) {
      if (day < first || day > last) continue;
      const dayDir = path.join(this.journalDir, day);
      const files = (await fs.promises.readdir(dayDir)).filter((n) => n.endsWith('.jsonl')).sort();
      for (const name of files) yield* scanDayFile(path.join(dayDir, name), fromMs, toMs, opts, block);
    }
  }

  async journalPrune(beforeMs: number): Promise<number> {
    let removed = 0;
    for (const day of listDays(this.journalDir)) {
      if (Date.parse(`${day}T00:00:00Z`) + DAY_MS > beforeMs) continue;
      await fs.promises.rm(path.join(this.journalDir, day), { recursive: true, force: true });
      removed++;
    }
    return removed;
  }

  // Leases (leases.ts): the lease key's lock file serialises acquisitions, renewals and
  // fenced writes; the token counter and the lease are fsync'd, so that a power cut cannot
  // hand out a token twice.
  async leaseAcquire(name: string, holder: string, ttlMs: number): Promise<LeaseAttempt> {
    const key = leaseKey(name);
    return this.locked(key, async () => {
      const current = await this.read(key);
      if (current) return { acquired: false as const, current: this.leaseOf(name, current) };
      const seqKey = leaseSeqKey(name);
      const seq = await this.read(seqKey);
      const token = (seq?.t === 'n' ? seq.v : 0) + 1;
      await this.write(seqKey, { k: seqKey, t: 'n', v: token }, true);
      await this.write(key, { k: key, t: 's', v: leaseValue(token, holder), e: Date.now() + ttlMs }, true);
      return { acquired: true as const, token };
    });
  }

  async leaseRenew(name: string, token: number, ttlMs: number): Promise<boolean> {
    const key = leaseKey(name);
    return this.locked(key, async () => {
      const e = await this.read(key);
      if (!e || this.leaseOf(name, e)?.token !== token) return false;
      await this.write(key, { ...e, e: Date.now() + ttlMs } as Entry, false);
      return true;
    });
  }

  async leaseRelease(name: string, token: number): Promise<boolean> {
    const key = leaseKey(name);
    return this.locked(key, async () => {
      const e = await this.read(key);
      if (!e || this.leaseOf(name, e)?.token !== token) return false;
      await fs.promises.rm(this.fileOf(key), { force: true });
      return true;
    });
  }

  async leases(): Promise<LeaseState[]> {
    const out: LeaseState[] = [];
    for await (const key of this.scan('lease:')) {
      const e = await this.read(key);
      const state = e && this.leaseOf(key.slice(6), e);
      if (state) out.push(state);
    }
    return out;
  }

  async fencedWrite(lease: { name: string; token: number }, write: FencedWrite): Promise<boolean | number> {
    const key = leaseKey(lease.name);
    return this.locked(key, async () => {
      const e = await this.read(key);
      if (!e || this.leaseOf(lease.name, e)?.token !== lease.token) throw leaseLost(lease.name, lease.token);
      switch (write.op) {
        case 'set':
          return this.set(write.key, write.value, { ...(write.ttlMs ? { ttlMs: write.ttlMs } : {}), ...(write.ifAbsent ? { ifAbsent: true } : {}) });
        case 'del':
          return this.del(write.key);
        case 'hset':
          await this.hset(write.key, write.fields);
          return true;
        case 'hdel':
          await this.hdel(write.key, write.fields);
          return true;
        case 'incr':
          return this.incr(write.key, { ...(write.by !== undefined ? { by: write.by } : {}), ...(write.windowMs ? { windowMs: write.windowMs } : {}) });
      }
    });
  }

  private leaseOf(name: string, e: Entry): LeaseState | undefined {
    return e.t === 's' ? leaseStateOf(name, e.v, (e.e ?? Date.now()) - Date.now()) : undefined;
  }

  async maintenance(): Promise<void> {
    const now = Date.now();
    for (const ns of await fs.promises.readdir(this.kvDir)) {
      const dir = path.join(this.kvDir, ns);
      for (const name of await fs.promises.readdir(dir).catch(() => [] as string[])) {
        if (name.startsWith('.')) {
          // Temporary files of writers that crashed between write and rename.
          if (name.endsWith('.tmp')) await removeIfOlder(path.join(dir, name), now - 3_600_000);
          continue;
        }
        const e = await this.readFile(path.join(dir, name), true);
        if (e?.e !== undefined && e.e <= now) await fs.promises.rm(path.join(dir, name), { force: true });
      }
    }
  }

  async close(): Promise<void> {
    this.journal?.close();
    this.journal = undefined;
  }

  // ---- files ----

  private fileOf(key: string): string {
    const ns = namespaceOf(key);
    if (ns === undefined || !KEY_PATTERN.test(key)) throw new MssError('STORE_BAD_KEY', `invalid store key "${key.slice(0, 80)}" (expected namespace:rest)`);
    return path.join(this.kvDir, ns, encodeName(key.slice(ns.length + 1)));
  }

  private async read(key: string): Promise<Entry | undefined> {
    return this.readNow(this.fileOf(key));
  }

  /** One key's file, read with synchronous calls (see the header). */
  private readNow(file: string): Entry | undefined {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    return this.parse(text, false);
  }

  private parse(text: string, includeExpired: boolean): Entry | undefined {
    let e: Entry;
    try {
      e = JSON.parse(text) as Entry;
    } catch {
      return undefined; // cannot happen with rename-replaced files; treat as absent if it does
    }
    if (!includeExpired && e.e !== undefined && e.e <= Date.now()) return undefined;
    return e;
  }

  private async readFile(file: string, includeExpired = false): Promise<Entry | undefined> {
    let text: string;
    try {
      text = await fs.promises.readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    return this.parse(text, includeExpired);
  }

  private async write(key: string, entry: Entry, durable: boolean, again = false): Promise<void> {
    const file = this.fileOf(key);
    this.makeDir(path.dirname(file));
    if (durable) {
      await atomicWriteFile(file, JSON.stringify(entry), { fsync: true });
      return;
    }
    // Soft state: all-or-nothing (a temporary file renamed over the key), no fsync, and
    // synchronous: open, write, close, rename.
    const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    try {
      fs.writeFileSync(tmp, JSON.stringify(entry), { flag: 'wx', mode: 0o600 });
      fs.renameSync(tmp, file);
    } catch (err) {
      fs.rmSync(tmp, { force: true });
      if (again || (err as NodeJS.ErrnoException).code !== 'ENOENT' || !this.madeDirs.delete(path.dirname(file))) throw err;
      // The namespace directory was removed behind our back: made again, written again.
      await this.write(key, entry, durable, true);
    }
  }

  /** A namespace directory, made once per store (a missing one is noticed at the write). */
  private makeDir(dir: string): void {
    if (this.madeDirs.has(dir)) return;
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.madeDirs.add(dir);
  }

  private async locked<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const file = this.fileOf(key);
    const dir = path.dirname(file);
    this.makeDir(dir);
    const lock = path.join(dir, `.${path.basename(file)}.lock`);
    try {
      return await withFileLock(lock, fn, { staleMs: 10_000 });
    } catch (err) {
      // The directory was removed behind our back (before the lock was taken): once more.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || fs.existsSync(dir) || !this.madeDirs.delete(dir)) throw err;
      this.makeDir(dir);
      return withFileLock(lock, fn, { staleMs: 10_000 });
    }
  }
}

async function removeIfOlder(file: string, beforeMs: number): Promise<void> {
  try {
    if ((await fs.promises.stat(file)).mtimeMs < beforeMs) await fs.promises.rm(file, { force: true });
  } catch {
    /* gone */
  }
}

function namespaceOf(key: string): string | undefined {
  const i = key.indexOf(':');
  if (i <= 0) return undefined;
  const ns = key.slice(0, i);
  return /^[a-z0-9_-]{1,40}$/.test(ns) ? ns : undefined;
}

// File names: readable for the usual keys (addresses, ids), %XX for anything else, and a
// hash for keys too long for a file name (the full key is kept inside the file).
function encodeName(rest: string): string {
  let out = '';
  for (const ch of rest) {
    if (/[A-Za-z0-9@_+=-]/.test(ch) || (ch === '.' && out !== '')) out += ch;
    else for (const b of Buffer.from(ch, 'utf8')) out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  if (out.length > 180) return `#${createHash('sha256').update(rest).digest('hex')}`;
  return out;
}

function decodeName(name: string): string {
  return decodeURIComponent(name);
}

function wrongType(key: string): MssError {
  return new MssError('STORE_WRONG_TYPE', `store key "${key}" holds a value of another kind`);
}
