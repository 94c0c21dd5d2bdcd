// Reading one journal day file (`<at>\t<json>` lines) in large blocks: the records of a
// time range, a block's worth at a time. A month of statistics reads every line of ~40
// day files several times (hundreds of megabytes): a line reader with one await per line
// spent most of `stats build` there (issue 20). Here each 1 MiB block is read once and
// split with indexOf; with `contains`, the block's bytes are searched for that text first
// and only the lines holding it are decoded, so a pass that looks for a rare event costs
// little more than reading the file. Memory: one block plus the records of one batch.
import fs from 'node:fs';
import type { JournalRecord } from './store.js';

const BLOCK = 1 << 20;
const BATCH = 1 << 16;
const NL = 0x0a;
const TAB = 0x09;

export interface ScanOptions {
  /** Only lines whose text contains this (a pre-filter: callers still check what they parse). */
  contains?: string;
}

/**
 * The block a scan reads into, shared by the files of one scan (a month is ~40 files read
 * several times: one block instead of one per file keeps the process's memory flat).
 */
export class ScanBlock {
  buf = Buffer.allocUnsafe(BLOCK);
}

/** The record of bytes [start, end) of `buf` (one line without its LF), if in [fromMs, toMs). */
function recordOf(buf: Buffer, start: number, end: number, fromMs: number, toMs: number): JournalRecord | undefined {
  const tab = buf.indexOf(TAB, start);
  if (tab <= start || tab >= end) return undefined;
  const at = Number(buf.toString('latin1', start, tab));
  if (!(at >= fromMs && at < toMs)) return undefined;
  return { at, data: buf.toString('utf8', tab + 1, end) };
}

/** The records of the complete lines of buf[begin, end) (end is just after an LF, or the file's end). */
function recordsOf(buf: Buffer, begin: number, end: number, fromMs: number, toMs: number, needle: Buffer | undefined): JournalRecord[] {
  const out: JournalRecord[] = [];
  if (needle === undefined) {
    for (let start = begin; start < end;) {
      let nl = buf.indexOf(NL, start);
      if (nl < 0 || nl >= end) nl = end;
      const r = recordOf(buf, start, nl, fromMs, toMs);
      if (r) out.push(r);
      start = nl + 1;
    }
    return out;
  }
  for (let from = begin; from < end;) {
    const hit = buf.indexOf(needle, from);
    if (hit < 0 || hit >= end) break;
    const start = hit === begin ? begin : Math.max(begin, buf.lastIndexOf(NL, hit - 1) + 1);
    let nl = buf.indexOf(NL, hit);
    if (nl < 0 || nl >= end) nl = end;
    const r = recordOf(buf, start, nl, fromMs, toMs);
    if (r) out.push(r);
    from = nl + 1;
  }
  return out;
}

/**
 * The records of buf[0, end) in batches of about BATCH bytes of lines, decoded one batch at a
 * time as the consumer asks: what the consumer holds when the garbage collector runs stays
 * small, so the young generation does not grow to its maximum (peak memory, issue 20).
 */
function* batchesOf(buf: Buffer, end: number, fromMs: number, toMs: number, needle: Buffer | undefined): Iterable<JournalRecord[]> {
  for (let begin = 0; begin < end;) {
    let stop = begin + BATCH >= end ? end : buf.indexOf(NL, begin + BATCH) + 1;
    if (stop <= 0 || stop > end) stop = end;
    const batch = recordsOf(buf, begin, stop, fromMs, toMs, needle);
    if (batch.length > 0) yield batch;
    begin = stop;
  }
}

/**
 * The records of `file` with fromMs <= at < toMs, in file order, in batches. An unterminated
 * last line (a write torn by a crash) is returned as it is: it fails to parse upstream, where
 * the journal counts and skips it.
 */
export async function* scanDayFile(
  file: string,
  fromMs: number,
  toMs: number,
  opts: ScanOptions = {},
  block = new ScanBlock(),
): AsyncIterable<JournalRecord[]> {
  const needle = opts.contains === undefined || opts.contains === '' ? undefined : Buffer.from(opts.contains, 'utf8');
  const handle = await fs.promises.open(file, 'r');
  try {
    let buf = block.buf;
    let kept = 0; // bytes of an incomplete line carried over from the previous block
    for (;;) {
      if (kept === buf.length) {
        // A line longer than the block: grow (journal lines are a few hundred bytes).
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, kept);
        buf = bigger;
        block.buf = bigger;
      }
      const { bytesRead } = await handle.read(buf, kept, buf.length - kept, null);
      const filled = kept + bytesRead;
      if (bytesRead === 0) {
        yield* batchesOf(buf, filled, fromMs, toMs, needle);
        return;
      }
      const lastNl = buf.lastIndexOf(NL, filled - 1);
      if (lastNl < 0) {
        kept = filled;
        continue;
      }
      // Records are strings of their own (toString copies), decoded before the block is reused.
      yield* batchesOf(buf, lastNl + 1, fromMs, toMs, needle);
      kept = filled - (lastNl + 1);
      buf.copy(buf, 0, lastNl + 1, filled);
    }
  } finally {
    await handle.close();
  }
}
