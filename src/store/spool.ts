// The local spool: what the daemon could not write to a shared store (Redis) that did not
// answer — message journal events, logins — kept on local disk and replayed in order once
// the store is back. Nothing the statistics count is lost to a Redis outage (EX_PSU_5830:
// every exchange in the month's Echanges; EX_PSU_5840: every login in the Connexions).
//
//   <state.dir>/spool/<worker>/<NNNNNNNNNN>.jsonl   one operation per line: {"t": spooled at, "op": …}
// (one directory per process of the node: serve.workers; 1 for a single process).
//
// Operations are appended synchronously and fdatasync'd before the caller goes on (the
// gate answers 250 after that). Segments are rotated by size; a replay seals the segment
// being written (new operations go to the next one, behind the ones being replayed, so
// the order is kept) and deletes each segment once every operation in it was applied.
// A crash during a replay replays that segment again: every operation must be idempotent
// (journal events carry an id the store adds once; logins keep the latest date), which is
// also what lets two nodes sharing one Redis count each event once.
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { MssError } from '../errors.js';
import { appendDurableSync } from '../util/atomic-write.js';

export interface SpoolOperation {
  kind: string;
}

export interface SpoolStats {
  operations: number;
  bytes: number;
  /** When the oldest operation still waiting was spooled (ISO). */
  oldest?: string;
}

export interface SpoolOptions {
  /** Refuse to grow beyond this (a full disk would stop more than the statistics). */
  maxBytes: number;
  /** Start a new segment above this size, so that a replay deletes as it goes. */
  segmentBytes?: number;
}

const SEGMENT = /^(\d{10})\.jsonl$/;

export class Spool<Op extends SpoolOperation = SpoolOperation> {
  private current: number;
  private stats: SpoolStats;
  private draining = false;

  constructor(
    readonly dir: string,
    private readonly opts: SpoolOptions,
  ) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    // A new process (a restart, a serve worker started again after a crash) writes to a new
    // segment: the last one may end in a line torn by the crash, and a line appended to it
    // would be glued to that tail and unreadable — an operation lost after its caller was
    // answered.
    const last = listSegments(dir).at(-1);
    this.current = last === undefined ? 1 : fileSize(segmentPath(dir, last)) > 0 ? last + 1 : last;
    this.stats = readStats(dir);
  }

  /** Operations waiting to be replayed. */
  get pending(): number {
    return this.stats.operations;
  }

  snapshot(): SpoolStats {
    return { ...this.stats };
  }

  /** Append, durably, before returning. Throws SPOOL_FULL beyond maxBytes. */
  append(ops: readonly Op[]): void {
    if (ops.length === 0) return;
    const now = new Date().toISOString();
    const text = ops.map((op) => `${JSON.stringify({ t: now, op })}\n`).join('');
    const bytes = Buffer.byteLength(text);
    if (this.stats.bytes + bytes > this.opts.maxBytes) {
      throw new MssError(
        'SPOOL_FULL',
        `the spool ${this.dir} holds ${this.stats.bytes} bytes, the limit is ${this.opts.maxBytes} (state.redis.spoolMaxBytes): the store has been unreachable too long`,
      );
    }
    let file = segmentPath(this.dir, this.current);
    if (fileSize(file) > (this.opts.segmentBytes ?? 4 << 20)) file = segmentPath(this.dir, ++this.current);
    appendDurableSync(file, text);
    if (this.stats.operations === 0) this.stats.oldest = now;
    this.stats.operations += ops.length;
    this.stats.bytes += bytes;
  }

  /**
   * Apply every waiting operation in order, `batch` at a time; resolves with how many were
   * applied. `apply` throwing stops the replay (the rest waits for the next one). One
   * replay at a time.
   */
  async drain(apply: (ops: Op[]) => Promise<void>, batch = 500): Promise<number> {
    if (this.draining || this.stats.operations === 0) return 0;
    this.draining = true;
    let applied = 0;
    try {
      // Seal the segment being written: what comes during the replay goes behind it.
      if (fileSize(segmentPath(this.dir, this.current)) > 0) this.current++;
      for (const n of listSegments(this.dir)) {
        if (n >= this.current) break;
        const file = segmentPath(this.dir, n);
        const size = fileSize(file);
        let ops: Op[] = [];
        let lines = 0;
        const flush = async (): Promise<void> => {
          if (ops.length === 0) return;
          await apply(ops);
          applied += ops.length;
          ops = [];
        };
        for await (const line of readline.createInterface({ input: fs.createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity })) {
          if (line !== '') lines++;
          const op = parseLine<Op>(line);
          if (op) ops.push(op);
          if (ops.length >= batch) await flush();
        }
        await flush();
        fs.rmSync(file, { force: true });
        const left = this.stats.operations - lines;
        const next = listSegments(this.dir)[0];
        this.stats = {
          operations: Math.max(0, left),
          bytes: Math.max(0, this.stats.bytes - size),
          ...(left > 0 && next !== undefined ? oldestOf(segmentPath(this.dir, next)) : {}),
        };
      }
      return applied;
    } finally {
      this.draining = false;
    }
  }
}

/** The directory of a node's spools: <state.dir>/spool, one subdirectory per worker. */
export function spoolRoot(config: { state: { dir: string } }): string {
  return path.join(config.state.dir, 'spool');
}

/** The worker numbers that have a spool directory under `root`. */
export function spoolWorkers(root: string): number[] {
  let names: string[];
  try {
    names = fs.readdirSync(root);
  } catch {
    return [];
  }
  return names
    .filter((n) => /^\d+$/.test(n))
    .map(Number)
    .sort((a, b) => a - b);
}

/** Every worker's spool of a node added up, read from disk (`status`, /health). */
export function readNodeStats(root: string): SpoolStats {
  const all = spoolWorkers(root).map((n) => readStats(path.join(root, String(n))));
  const oldest = all
    .map((s) => s.oldest)
    .filter((o): o is string => o !== undefined)
    .sort()[0];
  return { operations: all.reduce((n, s) => n + s.operations, 0), bytes: all.reduce((n, s) => n + s.bytes, 0), ...(oldest ? { oldest } : {}) };
}

/**
 * The spools of a node's other workers than `except` (serve's cluster heartbeat, every few
 * seconds: a worker directory without a segment is not read).
 */
export function readOtherWorkersStats(root: string, except: number): SpoolStats {
  const all = spoolWorkers(root)
    .filter((n) => n !== except && listSegments(path.join(root, String(n))).length > 0)
    .map((n) => readStats(path.join(root, String(n))));
  const oldest = all
    .map((s) => s.oldest)
    .filter((o): o is string => o !== undefined)
    .sort()[0];
  return { operations: all.reduce((n, s) => n + s.operations, 0), bytes: all.reduce((n, s) => n + s.bytes, 0), ...(oldest ? { oldest } : {}) };
}

/** What is waiting in a spool directory, read from disk (for `status`, another process). */
export function readStats(dir: string): SpoolStats {
  let operations = 0;
  let bytes = 0;
  const segments = listSegments(dir);
  const chunk = Buffer.alloc(1 << 20);
  for (const n of segments) {
    const fd = fs.openSync(segmentPath(dir, n), 'r');
    try {
      for (let read = fs.readSync(fd, chunk); read > 0; read = fs.readSync(fd, chunk)) {
        bytes += read;
        for (let i = chunk.indexOf(10); i >= 0 && i < read; i = chunk.indexOf(10, i + 1)) operations++;
      }
    } finally {
      fs.closeSync(fd);
    }
  }
  const first = segments[0];
  return { operations, bytes, ...(operations > 0 && first !== undefined ? oldestOf(segmentPath(dir, first)) : {}) };
}

/** The spool time of a segment's first operation. */
function oldestOf(file: string): { oldest?: string } {
  const head = Buffer.alloc(64);
  let n = 0;
  try {
    const fd = fs.openSync(file, 'r');
    n = fs.readSync(fd, head, 0, 64, 0);
    fs.closeSync(fd);
  } catch {
    return {};
  }
  const t = /^\{"t":"([^"]+)"/.exec(head.subarray(0, n).toString('utf8'))?.[1];
  return t ? { oldest: t } : {};
}

function parseLine<Op>(line: string): Op | undefined {
  if (line === '') return undefined;
  try {
    return (JSON.parse(line) as { op: Op }).op;
  } catch {
    // A line torn by a crash while it was written: its caller had not been answered yet.
    return undefined;
  }
}

function listSegments(dir: string): number[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .map((n) => SEGMENT.exec(n)?.[1])
    .filter((n): n is string => n !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
}

function segmentPath(dir: string, n: number): string {
  return path.join(dir, `${String(n).padStart(10, '0')}.jsonl`);
}

function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}
