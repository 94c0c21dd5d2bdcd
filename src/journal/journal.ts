// The message journal on top of the state store: validated on the way in, streamed on the
// way out (bounded memory: one event at a time, whatever the month's volume).
import { MssError } from '../errors.js';
import type { StateStore } from '../store/store.js';
import { journalEvent, type JournalEvent, type JournalEventType } from './events.js';

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

export class Journal {
  /** Lines that could not be read back (torn by a crash while being written). */
  skipped = 0;

  constructor(private readonly store: StateStore) {}

  async record(events: JournalEvent | readonly JournalEvent[]): Promise<void> {
    const list = Array.isArray(events) ? events : [events as JournalEvent];
    const records = list.map((e, i) => {
      const parsed = journalEvent.safeParse(e);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new MssError('JOURNAL_BAD_EVENT', `journal event ${i} is invalid: ${issue?.path.join('.') || '(event)'}: ${issue?.message ?? 'invalid'}`, { index: i });
      }
      return { at: Date.parse(parsed.data.at), data: JSON.stringify(parsed.data) };
    });
    await this.store.journalAppend(records);
  }

  /**
   * Events with from <= at < to, UTC day by day; within a day, each writer's events in
   * the order they were recorded. Consumers must not assume a global order.
   */
  async *read(opts: JournalReadOptions): AsyncIterable<JournalEvent> {
    const types = opts.types ? new Set<string>(opts.types) : undefined;
    const contains = opts.contains;
    for await (const r of this.store.journalRead(opts.from.getTime(), opts.to.getTime())) {
      if (contains !== undefined && !(typeof contains === 'string' ? r.data.includes(contains) : contains(r.data))) continue;
      let e: JournalEvent;
      try {
        e = JSON.parse(r.data) as JournalEvent;
      } catch {
        this.skipped++;
        continue;
      }
      if (types && !types.has(e.type)) continue;
      yield e;
    }
  }

  /** Remove the days that end before `before`; returns the number of days removed. */
  prune(before: Date): Promise<number> {
    return this.store.journalPrune(before.getTime());
  }
}
