// "My last logins and operations": the functional traces whose author is the signed-in
// professional — their own logins (any interface), the changes they made, their portal
// sign-ins — newest first. Other people's records are never returned, even when they
// concern the person's mailboxes (a delegate's logins, an administrator's change).
// Bounded: the days of `history.days` from the newest, files streamed line by line (the
// event loop keeps serving), a cheap substring test before any JSON parsing, at most
// `history.maxBytes` read per look-up, and a short cache per person.
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { DAY_PATTERN, utcDay } from '../util/day-files.js';

export interface HistoryEntry {
  at: string;
  action: string;
  bal?: string;
  ok: boolean;
  code?: string;
  onBehalfOf?: string;
  service?: string;
  authType?: string;
  client?: string;
  address?: string;
}

export interface History {
  entries: HistoryEntry[];
  /** The byte budget ran out before the whole period was read. */
  partial: boolean;
}

export interface HistoryOptions {
  tracesDir: string;
  days: number;
  entries: number;
  maxBytes: number;
  now?: () => number;
  /** How long a person's history is kept before reading the files again. */
  cacheMs?: number;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a parsed trace line: entryOf reads each field with its type checked
type TraceRecord = Record<string, any>;

const DAY_MS = 86_400_000;
const CACHE_ENTRIES = 1000;

export class HistoryReader {
  private readonly cache = new Map<string, { at: number; value: Promise<History> }>();

  constructor(private readonly o: HistoryOptions) {}

  of(idNat: string): Promise<History> {
    const now = this.o.now?.() ?? Date.now();
    const hit = this.cache.get(idNat);
    if (hit && now - hit.at < (this.o.cacheMs ?? 15_000)) return hit.value;
    const value = this.read(idNat, now);
    this.cache.delete(idNat);
    this.cache.set(idNat, { at: now, value });
    if (this.cache.size > CACHE_ENTRIES) this.cache.delete(this.cache.keys().next().value as string);
    return value;
  }

  /** Forget a person's cached history (after they changed something). */
  forget(idNat: string): void {
    this.cache.delete(idNat);
  }

  private async read(idNat: string, now: number): Promise<History> {
    const root = path.join(this.o.tracesDir, 'functional');
    const oldest = utcDay(now - (this.o.days - 1) * DAY_MS);
    const days = (await fs.promises.readdir(root).catch(() => [] as string[]))
      .filter((d) => DAY_PATTERN.test(d) && d >= oldest)
      .sort()
      .reverse();
    // Only lines that mention the identifier are parsed; the author is checked after parsing.
    const needle = JSON.stringify(idNat);
    const entries: HistoryEntry[] = [];
    let budget = this.o.maxBytes;
    for (const day of days) {
      const dayEntries: HistoryEntry[] = [];
      const files = (await fs.promises.readdir(path.join(root, day)).catch(() => [] as string[])).filter((f) => f.endsWith('.jsonl'));
      for (const f of files) {
        const file = path.join(root, day, f);
        budget -= await scanFile(file, needle, idNat, dayEntries, this.o.entries, budget);
        if (budget <= 0) return { entries: [...entries, ...newestFirst(dayEntries)].slice(0, this.o.entries), partial: true };
      }
      entries.push(...newestFirst(dayEntries));
      if (entries.length >= this.o.entries) break;
    }
    return { entries: entries.slice(0, this.o.entries), partial: false };
  }
}

function newestFirst(list: HistoryEntry[]): HistoryEntry[] {
  return list.sort((a, b) => b.at.localeCompare(a.at));
}

/** Read one trace file, keep the person's records (at most `keep` newest); returns the bytes read. */
async function scanFile(file: string, needle: string, idNat: string, out: HistoryEntry[], keep: number, budget: number): Promise<number> {
  const stream = fs.createReadStream(file, { encoding: 'utf8', end: Math.max(0, budget - 1) });
  const lines = readline.createInterface({ input: stream, crlfDelay: Infinity });
  const mine: HistoryEntry[] = [];
  try {
    for await (const line of lines) {
      if (!line.includes(needle)) continue;
      let r: TraceRecord;
      try {
        r = JSON.parse(line) as TraceRecord;
      } catch {
        continue; // a torn last line
      }
      // EX_GDT_5010: traces are accessible to authorised persons: here, to their author only.
      if (r.kind !== undefined || r.actor?.id !== idNat) continue;
      mine.push(entryOf(r));
      // A writer's lines are in time order: the last ones are the newest.
      if (mine.length > keep) mine.shift();
    }
  } catch {
    /* a file removed by pruning meanwhile */
  }
  out.push(...mine);
  return stream.bytesRead;
}

function entryOf(r: TraceRecord): HistoryEntry {
  const s = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
  return {
    at: String(r.at),
    action: String(r.action),
    ...(s(r.bal) ? { bal: s(r.bal) } : {}),
    ok: r.response?.ok === true,
    ...(s(r.response?.code) ? { code: s(r.response.code) } : {}),
    ...(s(r.actor?.onBehalfOf) ? { onBehalfOf: s(r.actor.onBehalfOf) } : {}),
    ...(s(r.means?.service) ? { service: s(r.means.service) } : {}),
    ...(s(r.means?.authType) ? { authType: s(r.means.authType) } : {}),
    ...(s(r.means?.client) ? { client: s(r.means.client) } : {}),
    ...(s(r.address) ? { address: s(r.address) } : {}),
  };
}
