// Append-only files, one per writer and per UTC day: <root>/<YYYY-MM-DD>/<writerId>.jsonl.
// Several processes (the daemon, timer jobs) and several nodes write at the same time; each
// one owns its files, so no write ever interleaves with another writer's, and retention is
// "remove the day directories older than N days". Lines are written with one write() on an
// O_APPEND descriptor and made durable by a grouped fdatasync shortly after (or on close).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

export const DAY_PATTERN = /^\d{4}-\d{2}-\d{2}$/;

const DAY_MS = 86_400_000;
/** The last day asked for and its bounds [start, end): most calls fall in it (issue 20: once per message). */
let lastDay = { start: 0, end: -1, day: '' };

export function utcDay(ms: number): string {
  if (ms >= lastDay.start && ms < lastDay.end) return lastDay.day;
  const day = new Date(ms).toISOString().slice(0, 10);
  const start = Math.floor(ms / DAY_MS) * DAY_MS;
  lastDay = { start, end: start + DAY_MS, day };
  return day;
}

/** The last second formatted and its bounds [start, end) (issue 20: a time per trace in the milter). */
let lastSecond = { start: 0, end: -1, prefix: '' };
/** '000' … '999', the milliseconds of a time as toISOString writes them. */
const MILLIS = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));

/**
 * `new Date(ms).toISOString()`, the same text, with the date and time up to the second
 * formatted once per second: most calls fall in the second of the one before.
 */
export function isoUtc(ms: number): string {
  if (!(ms >= lastSecond.start && ms < lastSecond.end && Number.isInteger(ms))) {
    const iso = new Date(ms).toISOString();
    const start = ms - (((ms % 1000) + 1000) % 1000);
    // The text up to the milliseconds, whatever the year's width (toISOString writes ±YYYYYY outside 0–9999).
    lastSecond = { start, end: start + 1000, prefix: iso.slice(0, -4) };
    return iso;
  }
  return `${lastSecond.prefix}${MILLIS[ms - lastSecond.start]}Z`;
}

/** This host's name as writer ids carry it; it may hold dashes, so an id is parsed from its right end. */
const HOST = os.hostname().replace(/[^A-Za-z0-9.-]/g, '_');

/** A writer identity that no other process, past or present, on any node, shares: host-pid-time-random. */
export function newWriterId(): string {
  return `${HOST}-${process.pid}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

/** The pid of the process that made `writer` (newWriterId), when it ran on this host; undefined otherwise. */
export function writerPidOnThisHost(writer: string): number | undefined {
  const m = /^(.*)-(\d+)-[0-9a-z]+-[0-9a-f]+$/.exec(writer);
  return m && m[1] === HOST ? Number(m[2]) : undefined;
}

interface OpenFile {
  fd: number;
  path: string;
  dirty: boolean;
}

export interface DayFilesOptions {
  /** Delay of the grouped fdatasync after a write (default 200 ms; 0 = sync every write). */
  syncDelayMs?: number;
  /** Descriptors kept open at once (writes for a few days can interleave around midnight). */
  maxOpen?: number;
}

export class DayFiles {
  readonly root: string;
  readonly writerId: string;
  private readonly open = new Map<string, OpenFile>();
  private timer: NodeJS.Timeout | undefined;
  private readonly syncDelayMs: number;
  private readonly maxOpen: number;

  constructor(root: string, writerId: string, opts: DayFilesOptions = {}) {
    this.root = root;
    this.writerId = writerId;
    this.syncDelayMs = opts.syncDelayMs ?? 200;
    this.maxOpen = opts.maxOpen ?? 3;
  }

  pathFor(day: string): string {
    return path.join(this.root, day, `${this.writerId}.jsonl`);
  }

  /**
   * Append `data` to the file of `day`. When the file is created by this call, `header`
   * (if given) is called first and its text written before `data`.
   */
  append(day: string, data: string, header?: (file: string) => string): void {
    let f = this.open.get(day);
    if (!f) {
      const file = this.pathFor(day);
      fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      const existed = fs.existsSync(file);
      const fd = fs.openSync(file, 'a', 0o600);
      f = { fd, path: file, dirty: false };
      this.open.set(day, f);
      if (this.open.size > this.maxOpen) this.closeOldest();
      if (!existed && header) data = header(file) + data;
    }
    fs.writeSync(f.fd, data);
    f.dirty = true;
    if (this.syncDelayMs === 0) this.flush();
    else this.timer ??= setTimeout(() => this.flushInBackground(), this.syncDelayMs).unref();
  }

  /**
   * The grouped sync of the timer, off the event loop: an fdatasync takes milliseconds on a
   * busy disk, and a daemon answering Postfix in microseconds (the milter) must not stall
   * on it. close() and flush() still sync before they return.
   */
  private flushInBackground(): void {
    this.timer = undefined;
    for (const f of this.open.values()) {
      if (!f.dirty) continue;
      f.dirty = false;
      fs.fdatasync(f.fd, (err) => {
        // A file closed meanwhile was synced by close(); otherwise try again with the next sync.
        if (err && err.code !== 'EBADF') f.dirty = true;
      });
    }
  }

  isOpen(day: string): boolean {
    return this.open.has(day);
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const f of this.open.values()) {
      if (!f.dirty) continue;
      fs.fdatasyncSync(f.fd);
      f.dirty = false;
    }
  }

  /** Close the files of days other than `keep`; returns the paths closed. */
  closeOthers(keep: string): string[] {
    const closed: string[] = [];
    for (const [day, f] of this.open) {
      if (day === keep) continue;
      this.closeOne(day, f);
      closed.push(f.path);
    }
    return closed;
  }

  close(): void {
    this.flush();
    for (const [day, f] of this.open) this.closeOne(day, f);
  }

  private closeOldest(): void {
    const first = this.open.keys().next();
    if (first.done) return;
    const f = this.open.get(first.value);
    if (f) this.closeOne(first.value, f);
  }

  private closeOne(day: string, f: OpenFile): void {
    if (f.dirty) fs.fdatasyncSync(f.fd);
    fs.closeSync(f.fd);
    this.open.delete(day);
  }
}

/** Day directories under `root`, sorted. */
export function listDays(root: string): string[] {
  if (!fs.existsSync(root)) return [];
  return fs
    .readdirSync(root, { withFileTypes: true })
    .filter((e) => e.isDirectory() && DAY_PATTERN.test(e.name))
    .map((e) => e.name)
    .sort();
}
