// The inbound gate's message digests on a node with the embedded store: an append-only log
// per process instead of a key file per message (issue 20). With one key file per digest,
// each message cost a lock file, a temporary file, a rename and an unlink: four file
// creations or removals, each a journaled metadata change of the file system that waits
// behind Postfix's queue fsyncs on a busy disk (1/5 of the inbound gate's busy time). Here
// a claim and a commit are one append each (one write() on an O_APPEND descriptor, the
// fdatasync grouped shortly after, as the journal's: util/day-files.ts), and the records
// live in memory for the duplicate window.
//
//   <state.dir>/store/gate-in/<YYYY-MM-DD>/<writer>.jsonl    {"t":<ms>,"n":<seq>,"d":"<digest>","r":<record>|null}
//
// Several processes of one node (serve.workers, a serve restarted while the old one finishes
// its sessions) each append to their own files and read the others' new lines before every
// decision (one read() per other live writer), so a copy that reaches another process sees
// the claim. A claim appends its record, then reads the others again: if another process
// claimed the same digest meanwhile, it withdraws (appends a release) and the copy is in
// flight (451). Both may withdraw, never both proceed: each appends before its second read,
// so the later of the two second reads sees the other's claim — that read also looks for
// writers that started since (a stat of today's directory, listed again when it changed; a
// past day's directory is stat'ed until it was listed after the day ended: writers create
// files under their own clock's day only). The first read is only there to spare an append
// when the digest is already known: it reads the writers known so far, no directory (issue
// 20: one stat per claim, was two per day of the window and read). A process that starts reads every file of the window (records outlive a restart; a
// SIGKILLed process's records are in the page cache, a power cut may lose the last 200 ms).
import fs from 'node:fs';
import path from 'node:path';
import { DayFiles, DAY_PATTERN, newWriterId, utcDay, writerPidOnThisHost } from '../../util/day-files.js';
import { pidAlive } from '../../util/file-lock.js';

/** What the log keeps per digest: dedupe.ts's record, opaque here but for its state (null: released). */
export interface LoggedRecord {
  state: string;
}

/** Any record, for a log read without dedupe.ts's types (tests, tools). */
export interface AnyRecord extends LoggedRecord {
  [key: string]: unknown;
}

interface Entry<R extends LoggedRecord> {
  writer: string;
  /** When it was logged (ms): it expires windowMs later, as a store key's TTL. */
  t: number;
  /** The writer's line number (its order: a clock stepped back cannot reorder a writer's lines). */
  n: number;
  rec: R | null;
}

/** Another writer's file, read as it grows. */
interface Tail {
  fd: number;
  offset: number;
  partial: string;
  writer: string;
  /** Its process, when it ran on this host: once dead and read to the end, the file is closed. */
  pid: number | undefined;
}

const PRUNE_EVERY_MS = 600_000;
/** A directory listing newer than its directory's mtime by less than this may miss a file created in the same clock tick. */
const MTIME_GRAIN_MS = 2_000;

export class DigestLog<R extends LoggedRecord = AnyRecord> {
  private readonly files: DayFiles;
  readonly writer: string;
  private readonly table = new Map<string, Array<Entry<R>>>();
  private readonly tails = new Map<string, Tail>();
  /** Day directories listed: their mtime then, and when they were listed. */
  private readonly listed = new Map<string, { mtimeMs: number; at: number }>();
  /** Past days' directories that can get no new file (see discover()): since when. */
  private readonly sealed = new Map<string, number>();
  /** Files of writers that are gone, read to their end: not read again. */
  private readonly done = new Set<string>();
  private readonly buf = Buffer.allocUnsafe(64 * 1024);
  private lastPrune = 0;
  /** This writer's next line number. */
  private seq = 0;

  constructor(
    private readonly root: string,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {
    fs.mkdirSync(root, { recursive: true, mode: 0o700 });
    this.writer = newWriterId();
    this.files = new DayFiles(root, this.writer);
    this.catchUp();
  }

  /** Log `rec` for `digest` unless a live record exists (then false, nothing logged). */
  create(digest: string, rec: R): boolean {
    // Writers known so far only: one that started since is looked for by the second read,
    // which alone decides (see the header); a record it holds then makes this claim withdraw.
    this.catchUp(false);
    if (this.current(digest)) return false;
    this.append(digest, rec);
    this.catchUp();
    // Another process claimed it between our two reads: withdraw (see the header).
    if ((this.table.get(digest) ?? []).some((e) => e.writer !== this.writer && this.live(e))) {
      this.append(digest, null);
      return false;
    }
    return true;
  }

  /** The digest's live record: a committed one if any, else the latest pending one. */
  get(digest: string): R | undefined {
    this.catchUp();
    return this.current(digest);
  }

  put(digest: string, rec: R): void {
    this.append(digest, rec);
  }

  remove(digest: string): void {
    this.append(digest, null);
  }

  close(): void {
    this.files.close();
    for (const t of this.tails.values()) fs.closeSync(t.fd);
    this.tails.clear();
  }

  private live(e: Entry<R>): boolean {
    return e.rec !== null && e.t + this.windowMs > this.now();
  }

  private current(digest: string): R | undefined {
    const live = (this.table.get(digest) ?? []).filter((e) => this.live(e));
    const committed = live.find((e) => e.rec?.state === 'committed');
    if (committed) return committed.rec ?? undefined;
    return live.sort((a, b) => b.t - a.t)[0]?.rec ?? undefined;
  }

  private append(digest: string, rec: R | null): void {
    const t = this.now();
    const n = this.seq++;
    this.files.append(utcDay(t), `${asciiJson({ t, n, d: digest, r: rec })}\n`);
    this.apply({ writer: this.writer, t, n, rec }, digest);
  }

  /** One writer's last line per digest is the one that counts. */
  private apply(entry: Entry<R>, digest: string): void {
    const entries = this.table.get(digest);
    if (!entries) {
      this.table.set(digest, [entry]);
      return;
    }
    const i = entries.findIndex((e) => e.writer === entry.writer);
    if (i < 0) entries.push(entry);
    else if ((entries[i] as Entry<R>).n <= entry.n) entries[i] = entry;
  }

  /** Read what the other writers appended since the last call (and look for new writers' files unless `discover` is false). */
  private catchUp(discover = true): void {
    const now = this.now();
    if (now - this.lastPrune > PRUNE_EVERY_MS) this.prune(now);
    if (discover) for (const day of this.daysInWindow(now)) this.discover(day, now);
    for (const [file, tail] of this.tails) this.readTail(file, tail);
  }

  private daysInWindow(now: number): string[] {
    const days: string[] = [];
    for (let t = now - this.windowMs; utcDay(t) <= utcDay(now); t += 86_400_000) days.push(utcDay(t));
    if (days.at(-1) !== utcDay(now)) days.push(utcDay(now));
    return days;
  }

  /** New writers' files in a day directory (listed again only when it changed). */
  private discover(day: string, now: number): void {
    const dir = path.join(this.root, day);
    // A past day found absent, or with a complete listing still current, once the day was
    // over (by more than the mtime grain) gets no new file: every writer names its file after
    // its clock's day, which is ours (one host). A clock stepped back (now before that check)
    // makes it looked at again.
    const sealedAt = this.sealed.get(dir);
    if (sealedAt !== undefined && sealedAt <= now) return;
    const over = day < utcDay(now) && now >= dayEnd(day) + MTIME_GRAIN_MS;
    let mtimeMs: number;
    try {
      mtimeMs = fs.statSync(dir).mtimeMs;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      if (over) this.sealed.set(dir, now);
      return;
    }
    const seen = this.listed.get(dir);
    if (seen && seen.mtimeMs === mtimeMs && seen.at - mtimeMs > MTIME_GRAIN_MS) {
      if (over) this.sealed.set(dir, now);
      return;
    }
    this.listed.set(dir, { mtimeMs, at: now });
    for (const name of fs.readdirSync(dir)) {
      if (!name.endsWith('.jsonl')) continue;
      const file = path.join(dir, name);
      const writer = name.slice(0, -'.jsonl'.length);
      if (writer === this.writer || this.tails.has(file) || this.done.has(file)) continue;
      this.tails.set(file, { fd: fs.openSync(file, 'r'), offset: 0, partial: '', writer, pid: writerPidOnThisHost(writer) });
    }
  }

  private readTail(file: string, tail: Tail): void {
    // Checked before reading: a process found dead has written its last line already.
    const gone = tail.pid !== undefined && !pidAlive(tail.pid);
    for (;;) {
      const n = fs.readSync(tail.fd, this.buf, 0, this.buf.length, tail.offset);
      if (n === 0) break;
      tail.offset += n;
      const lines = (tail.partial + this.buf.toString('latin1', 0, n)).split('\n');
      tail.partial = lines.pop() ?? '';
      for (const line of lines) this.applyLine(tail.writer, line);
    }
    if (gone) {
      fs.closeSync(tail.fd);
      this.tails.delete(file);
      this.done.add(file);
    }
  }

  private applyLine(writer: string, line: string): void {
    let parsed: { t?: unknown; n?: unknown; d?: unknown; r?: unknown };
    try {
      parsed = JSON.parse(line) as typeof parsed;
    } catch {
      return; // a line torn by a crash: its writer is gone and never claimed it complete
    }
    if (typeof parsed.t !== 'number' || typeof parsed.d !== 'string') return;
    const rec = parsed.r && typeof parsed.r === 'object' ? (parsed.r as R) : null; // written by this node's processes (state.dir, 0700)
    // Lines of the first version of this log have no number: their file order counts.
    this.apply({ writer, t: parsed.t, n: typeof parsed.n === 'number' ? parsed.n : 0, rec }, parsed.d);
  }

  /** Records past the window leave memory; day directories older than the window leave the disk. */
  private prune(now: number): void {
    this.lastPrune = now;
    for (const [digest, entries] of this.table) {
      const kept = entries.filter((e) => e.t + this.windowMs > now);
      if (kept.length === 0) this.table.delete(digest);
      else if (kept.length !== entries.length) this.table.set(digest, kept);
    }
    const first = utcDay(now - this.windowMs);
    for (const dir of this.sealed.keys()) if (path.basename(dir) < first) this.sealed.delete(dir);
    let days: string[];
    try {
      days = fs.readdirSync(this.root).filter((d) => DAY_PATTERN.test(d));
    } catch {
      return;
    }
    for (const day of days) {
      if (day >= first) continue;
      const dir = path.join(this.root, day);
      for (const [file, tail] of this.tails) {
        if (path.dirname(file) !== dir) continue;
        fs.closeSync(tail.fd);
        this.tails.delete(file);
      }
      for (const file of this.done) if (path.dirname(file) === dir) this.done.delete(file);
      this.listed.delete(dir);
      // Our own file of that day may still be open for a late append: DayFiles reopens it.
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
}

/** The first instant (ms) after a UTC day `YYYY-MM-DD`. */
function dayEnd(day: string): number {
  return Date.parse(`${day}T00:00:00Z`) + 86_400_000;
}

/** JSON with every non-ASCII character escaped: a line read in pieces cannot split a character. */
function asciiJson(v: unknown): string {
  return JSON.stringify(v).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
