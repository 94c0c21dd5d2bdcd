// Writes functional and technical traces (EX_GDT_5010, EX_GDT_5030, EX_GDT_5040):
// append-only JSON lines in <dir>/<category>/<YYYY-MM-DD>/<writer>.jsonl, files 0600 in
// directories 0700 (traces hold addresses and subjects, i.e. possibly health data,
// §6.9.2). Each process is one writer with its own hash chain, continued from one day's
// file to the next; the daemon, the timer jobs and each node therefore never write to the
// same file, and `traces verify` checks every chain and the manifest that lists them.
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { DayFiles, isoUtc, newWriterId, utcDay } from '../util/day-files.js';
import { GENESIS, chainLine, chainRecord } from './chain.js';
import { appendManifest } from './manifest.js';
import { sanitized, type TraceCategory, type TraceInput, type TraceRecord } from './record.js';

interface ChainState {
  day: string;
  file: string;
  seq: number;
  lastHash: string;
}

export interface TraceLogOptions {
  /** Delay of the grouped fdatasync (default 200 ms; 0 = after every line). */
  syncDelayMs?: number;
  /** Clock, for tests of day rollover. */
  now?: () => Date;
}

export class TraceLog {
  readonly dir: string;
  readonly writerId: string;
  private readonly files = new Map<TraceCategory, DayFiles>();
  private readonly observers = new Set<(record: TraceRecord) => void>();
  private readonly chains = new Map<TraceCategory, ChainState>();
  private readonly now: () => Date;
  private readonly syncDelayMs: number;
  private closed = false;

  constructor(dir: string, opts: TraceLogOptions = {}) {
    this.dir = dir;
    this.writerId = newWriterId();
    this.now = opts.now ?? (() => new Date());
    this.syncDelayMs = opts.syncDelayMs ?? 200;
  }

  /** Append one trace; synchronous so that the trace exists before the caller answers. */
  write(input: TraceInput): TraceRecord {
    return this.writeAll([input])[0] as TraceRecord;
  }

  /**
   * Append several traces, in order, with one write per file (issue 20: the outbound
   * gate's traces of a message, one per recipient, cost one system call, not one each).
   * Synchronous like write(); they share the time of the call.
   */
  writeAll(inputs: readonly TraceInput[]): TraceRecord[] {
    if (this.closed) throw new Error('trace log is closed');
    const ms = this.now().getTime();
    const iso = isoUtc(ms);
    const records = inputs.map((input) => this.record(input, iso));
    const day = utcDay(ms);
    const byCategory = new Map<TraceCategory, TraceRecord[]>();
    for (const r of records) {
      const list = byCategory.get(r.category);
      if (list) list.push(r);
      else byCategory.set(r.category, [r]);
    }
    for (const [category, list] of byCategory) this.append(category, day, list as unknown as Array<Record<string, unknown>>);
    for (const record of records) {
      for (const o of this.observers) {
        try {
          o(record);
        } catch {
          /* an observer (the metrics) never changes what was traced */
        }
      }
    }
    return records;
  }

  private record(input: TraceInput, at: string): TraceRecord {
    // Built field by field in the traces' order, absent values left out (no object spreads,
    // a V8 slow path: issue 20, a trace per message in the milter). EX_GDT_5040: every part
    // a caller passes is sanitised (secrets redacted, strings bounded); a part with nothing
    // to change is kept as it is (the record shares it with the input).
    const record = { id: randomUUID(), at, category: input.category ?? 'functional', action: input.action, actor: sanitized(input.actor) } as TraceRecord;
    if (input.bal !== undefined) record.bal = input.bal;
    if (input.means) record.means = sanitized(input.means) as TraceRecord['means'];
    if (input.address !== undefined) record.address = input.address;
    if (input.request) record.request = sanitized(input.request) as Record<string, unknown>;
    record.response = sanitized(input.response) as TraceRecord['response'];
    if (input.message) record.message = sanitized(input.message) as TraceRecord['message'];
    return record;
  }

  /** Be told of every trace once written (the metrics count messages, refusals and logins). */
  observe(observer: (record: TraceRecord) => void): () => void {
    this.observers.add(observer);
    return () => this.observers.delete(observer);
  }

  /** Flush and seal every open file, so that a cut tail would be detected. */
  close(): void {
    if (this.closed) return;
    for (const category of [...this.chains.keys()]) this.seal(category);
    for (const f of this.files.values()) f.close();
    this.closed = true;
  }

  private append(category: TraceCategory, day: string, records: ReadonlyArray<Record<string, unknown>>): void {
    let files = this.files.get(category);
    if (!files) {
      files = new DayFiles(path.join(this.dir, category), this.writerId, { syncDelayMs: this.syncDelayMs, maxOpen: 1 });
      this.files.set(category, files);
    }
    let chain = this.chains.get(category);
    // A clock stepped back across midnight keeps writing to today's file.
    if (chain && day < chain.day) day = chain.day;
    if (chain && chain.day !== day) this.seal(category);
    chain = this.chains.get(category);
    if (!chain) chain = this.start(category, day, files);
    // The lines chained in order and written at once; the chain moves on only once they are
    // written (a failed write leaves it where the file is).
    let { seq, lastHash } = chain;
    let text = '';
    for (const record of records) {
      const { line, hash } = chainRecord(seq + 1, lastHash, record);
      text += line;
      seq += 1;
      lastHash = hash;
    }
    files.append(day, text);
    chain.seq = seq;
    chain.lastHash = lastHash;
  }

  private start(category: TraceCategory, day: string, files: DayFiles): ChainState {
    const previous = this.sealedLast.get(category);
    const file = path.relative(this.dir, files.pathFor(day));
    appendManifest(this.dir, { kind: 'file', file, writer: this.writerId, category, day, at: this.now().toISOString() });
    const header = {
      seq: 0,
      prev: previous?.lastHash ?? GENESIS,
      kind: 'header',
      writer: this.writerId,
      host: os.hostname(),
      pid: process.pid,
      category,
      day,
      prevFile: previous?.file ?? null,
    };
    const { line, hash } = chainLine(header);
    files.append(day, line);
    const chain = { day, file, seq: 0, lastHash: hash };
    this.chains.set(category, chain);
    return chain;
  }

  private readonly sealedLast = new Map<TraceCategory, { file: string; lastHash: string }>();

  private seal(category: TraceCategory): void {
    const chain = this.chains.get(category);
    const files = this.files.get(category);
    if (!chain || !files) return;
    const { line, hash } = chainLine({ seq: chain.seq + 1, prev: chain.lastHash, kind: 'seal', lines: chain.seq + 2 });
    files.append(chain.day, line);
    files.flush();
    files.closeOthers('');
    appendManifest(this.dir, { kind: 'seal', file: chain.file, lastHash: hash, lines: chain.seq + 2, at: this.now().toISOString() });
    this.sealedLast.set(category, { file: chain.file, lastHash: hash });
    this.chains.delete(category);
  }
}
