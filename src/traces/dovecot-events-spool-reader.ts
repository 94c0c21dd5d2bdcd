// The spool's reader, in `serve` (dovecot-events-spool-files.ts for the layout): reads the
// events Dovecot spooled from a persisted position, in bounded chunks, so that a restart, a
// crash or a long stop of `serve` neither loses nor repeats a trace (EX_GDT_5030, EX_GDT_5040).
// - position.json (segment, offset) is written atomically after the traces of what it covers:
//   after a SIGKILL the reader resumes there;
// - memory is bounded by the chunk (at most maxEventBytes + 64 KiB read at a time), whatever
//   the spool's size: a spool that grew while `serve` was stopped is read chunk by chunk;
// - a line longer than maxEventBytes is refused and skipped without being kept (code
//   DOVECOT_EVENT_TOO_LARGE), however long it is, even across restarts;
// - the newest segment's unfinished last line (the writer is appending) waits for its end;
// - a final segment read to its end, and left alone for a few seconds, is deleted (never the
//   newest one, which the writer appends to); a segment shorter than the position (truncated by
//   hand) is read again from its start.
import fs from 'node:fs';
import path from 'node:path';
import { atomicWriteFileSync } from '../util/atomic-write.js';
import { POSITION_FILE, listSegments } from './dovecot-events-spool-files.js';

export interface SpoolPosition {
  segment: string;
  offset: number;
  /** Inside a line too long to keep: everything up to its end is skipped. */
  skipping?: boolean;
}

export type SpoolRefusal = {
  code: 'DOVECOT_EVENT_TOO_LARGE' | 'DOVECOT_SPOOL_TRUNCATED' | 'DOVECOT_EVENT_UNFINISHED';
  segment: string;
  offset: number;
  bytes?: number;
};

export interface SpoolBatch {
  /** Complete lines, in spool order. */
  lines: string[];
  /** Where the reader is once these lines are traced (commit() it then). */
  position: SpoolPosition;
  refusals: SpoolRefusal[];
}

const SLACK = 64 * 1024;

export class DovecotEventsSpoolReader {
  private readonly buffer: Buffer;

  /**
   * @param quietMs how long a final segment must have been left alone before the reader moves
   * past it: after a reload of Dovecot the old writer may still finish a request for a moment.
   */
  constructor(
    readonly dir: string,
    private readonly maxEventBytes: number,
    private readonly quietMs = 5000,
  ) {
    this.buffer = Buffer.alloc(maxEventBytes + SLACK);
  }

  /** The committed position, or undefined before the first commit (or if the file is unreadable). */
  committed(): SpoolPosition | undefined {
    try {
      const p = JSON.parse(fs.readFileSync(path.join(this.dir, POSITION_FILE), 'utf8')) as SpoolPosition;
      if (typeof p.segment === 'string' && Number.isSafeInteger(p.offset) && p.offset >= 0) return p;
    } catch {
      /* none yet */
    }
    return undefined;
  }

  /**
   * The next complete lines after `from` (default: the committed position), at most one
   * chunk's worth. An empty batch whose position equals `from` means nothing new.
   */
  next(from: SpoolPosition | undefined = this.committed()): SpoolBatch {
    const refusals: SpoolRefusal[] = [];
    const segments = listSegments(this.dir);
    const newest = segments.at(-1);
    if (!newest) return { lines: [], position: from ?? { segment: '', offset: 0 }, refusals };
    let pos: SpoolPosition =
      from && segments.includes(from.segment) ? { ...from } : { segment: segments.find((s) => !from || s > from.segment) ?? newest, offset: 0 };
    for (;;) {
      const isNewest = pos.segment === newest;
      const fd = fs.openSync(path.join(this.dir, pos.segment), 'r');
      let n: number;
      let size: number;
      let mtimeMs: number;
      try {
        ({ size, mtimeMs } = fs.fstatSync(fd));
        if (pos.offset > size) {
          refusals.push({ code: 'DOVECOT_SPOOL_TRUNCATED', segment: pos.segment, offset: pos.offset, bytes: size });
          pos = { segment: pos.segment, offset: 0 };
        }
        n = fs.readSync(fd, this.buffer, 0, Math.min(this.buffer.length, size - pos.offset), pos.offset);
      } finally {
        fs.closeSync(fd);
      }
      const readEnd = pos.offset + n;
      const chunk = this.buffer.subarray(0, n);
      const lines: string[] = [];
      let start = 0;
      for (let nl = chunk.indexOf(0x0a); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
        if (pos.skipping) pos.skipping = false;
        else if (nl - start > this.maxEventBytes)
          refusals.push({ code: 'DOVECOT_EVENT_TOO_LARGE', segment: pos.segment, offset: pos.offset + start, bytes: nl - start });
        else if (nl > start) lines.push(chunk.toString('utf8', start, nl));
        start = nl + 1;
      }
      const rest = n - start;
      let offset = pos.offset + start;
      if (rest > this.maxEventBytes || (pos.skipping && rest > 0)) {
        // EX_GDT_5030 bounded: a line past the bound is dropped as it is read, never kept whole.
        if (!pos.skipping) refusals.push({ code: 'DOVECOT_EVENT_TOO_LARGE', segment: pos.segment, offset, bytes: rest });
        offset += rest;
        pos = { segment: pos.segment, offset, skipping: true };
      } else pos = { segment: pos.segment, offset };
      if (lines.length > 0 || refusals.length > 0) return { lines, position: pos, refusals };
      // Nothing complete in this chunk: more of the same segment, the next segment, or nothing new.
      if (readEnd < size) continue;
      // mtimeMs has sub-millisecond digits, Date.now() none: floored, a write in this very
      // millisecond is not "in the future" (a quietMs of 0 moves on at once).
      if (isNewest || Date.now() - Math.floor(mtimeMs) < this.quietMs) return { lines, position: pos, refusals };
      if (rest > 0 && !pos.skipping) {
        // A final segment ending without a line end: a write the writer never finished.
        refusals.push({ code: 'DOVECOT_EVENT_UNFINISHED', segment: pos.segment, offset, bytes: rest });
      }
      const following = segments[segments.indexOf(pos.segment) + 1] as string;
      pos = { segment: following, offset: 0 };
      if (refusals.length > 0) return { lines, position: pos, refusals };
    }
  }

  /** Records that everything before `position` is traced, and deletes the final segments behind it. */
  commit(position: SpoolPosition): void {
    if (!position.segment) return;
    atomicWriteFileSync(path.join(this.dir, POSITION_FILE), JSON.stringify(position), { mode: 0o600 });
    for (const s of listSegments(this.dir)) if (s < position.segment) fs.rmSync(path.join(this.dir, s), { force: true });
  }
}
