// The message journal on top of the state store: validated on the way in, streamed on the
// way out (bounded memory: one event at a time, whatever the month's volume). Each event
// gets an id, so that a shared store adds it once however often it is written (a retry, a
// replay of the daemon's spool, two nodes); with a Deferral (the daemon's spool), events
// the store cannot take now wait on local disk instead of being lost.
import { randomUUID } from 'node:crypto';
import { MssError } from '../errors.js';
import { writeOrDefer, writeOrDeferSync, type Deferral } from '../store/deferral.js';
import type { JournalRecord, StateStore } from '../store/store.js';
import { journalEvent, type JournalEvent, type JournalEventType } from './events.js';
import { isCheckedEvent } from './own-events.js';

export interface JournalReadOptions {
  /** Inclusive. */
  from: Date;
  /** Exclusive. */
  to: Date;
  types?: readonly JournalEventType[];
  /**
   * Only records whose JSON text contains this string: a cheap pre-filter before parsing
   * (a month of statistics reads millions of events), or a test of that text. `types`
   * still applies after it.
   */
  contains?: string | ((data: string) => boolean);
}

/** A journal write kept for later by a Deferral. */
export interface JournalWrite {
  kind: 'journal';
  records: JournalRecord[];
}

export class Journal {
  /** Lines that could not be read back (torn by a crash while being written). */
  skipped = 0;

  constructor(
    private readonly store: StateStore,
    private readonly deferral?: Deferral<JournalWrite>,
  ) {}

  /** Resolves 'deferred' when the events wait in the spool for the store to come back. */
  /**
   * `ids`: the events' identities when the caller has them (the inbound gate's message
   * digest, so that every copy of a retried message is one event); random otherwise.
   */
  async record(events: JournalEvent | readonly JournalEvent[], opts: { ids?: readonly string[] } = {}): Promise<'written' | 'deferred'> {
    return this.recordNow(events, opts);
  }

  /**
   * record(), answered before it returns when the store appends synchronously (the
   * embedded store's journalAppendSync), with the same deferral rule; a promise otherwise
   * (Redis). On the synchronous path a bad event or a failed write throws instead of
   * rejecting. Issue 20: the milter's end of message decides then without a promise, a
   * handler deadline and a resumed pass per message.
   */
  recordNow(events: JournalEvent | readonly JournalEvent[], opts: { ids?: readonly string[] } = {}): 'written' | 'deferred' | Promise<'written' | 'deferred'> {
    const list = Array.isArray(events) ? events : [events as JournalEvent];
    const store = this.store;
    const appendSync = store.journalAppendSync;
    // An id makes a shared store add an event once (Redis, and the spool replayed to it). A
    // store that appends synchronously keeps none (StateStore.journalAppendSync): none is
    // drawn for it unless a deferral may keep the events for later (issue 20: a random
    // UUID per message, for nothing).
    const draw = !appendSync || this.deferral !== undefined;
    const idOf = (i: number): string | undefined => opts.ids?.[i] ?? (draw ? randomUUID() : undefined);
    const records = list.map((e, i): JournalRecord => {
      // Built and checked by ./own-events.ts (frozen): written as they are. Anything else
      // — another caller's object, a replay — goes through the schema.
      if (isCheckedEvent(e)) return withId({ at: Date.parse(e.at), data: JSON.stringify(e) }, idOf(i));
      const parsed = journalEvent.safeParse(e);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new MssError('JOURNAL_BAD_EVENT', `journal event ${i} is invalid: ${issue?.path.join('.') || '(event)'}: ${issue?.message ?? 'invalid'}`, {
          index: i,
        });
      }
      return withId({ at: Date.parse(parsed.data.at), data: JSON.stringify(parsed.data) }, idOf(i));
    });
    const op: JournalWrite = { kind: 'journal', records };
    if (appendSync) return writeOrDeferSync(this.deferral, op, () => appendSync.call(store, records));
    return writeOrDefer(this.deferral, op, () => store.journalAppend(records));
  }

  /**
   * Events with from <= at < to, UTC day by day; within a day, each writer's events in
   * the order they were recorded. Consumers must not assume a global order.
   */
  async *read(opts: JournalReadOptions): AsyncIterable<JournalEvent> {
    for await (const batch of this.readBatches(opts)) yield* batch;
  }

  /**
   * The same events in batches (one per block the store read): a month of statistics
   * without one await per event. A string `contains` is searched by the store itself.
   */
  async *readBatches(opts: JournalReadOptions): AsyncIterable<JournalEvent[]> {
    const types = opts.types ? new Set<string>(opts.types) : undefined;
    const contains = opts.contains;
    // The store searches the bytes for a string before decoding a line: the `contains`
    // text, else the one type asked for (its JSON holds the value "<type>" whatever the order of keys).
    const needle = typeof contains === 'string' ? contains : opts.types?.length === 1 ? `"${opts.types[0]}"` : undefined;
    const scan = needle === undefined ? {} : { contains: needle };
    for await (const records of this.store.journalScan(opts.from.getTime(), opts.to.getTime(), scan)) {
      const batch: JournalEvent[] = [];
      for (const r of records) {
        if (typeof contains === 'function' && !contains(r.data)) continue;
        let e: JournalEvent;
        try {
          e = JSON.parse(r.data) as JournalEvent;
        } catch {
          this.skipped++;
          continue;
        }
        if (types && !types.has(e.type)) continue;
        batch.push(e);
      }
      if (batch.length > 0) yield batch;
    }
  }

  /** Remove the days that end before `before`; returns the number of days removed. */
  prune(before: Date): Promise<number> {
    return this.store.journalPrune(before.getTime());
  }
}

function withId(r: JournalRecord, id: string | undefined): JournalRecord {
  if (id !== undefined) r.id = id;
  return r;
}
