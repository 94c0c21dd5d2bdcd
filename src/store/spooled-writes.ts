// The daemon's side of the spool (spool.ts): a Deferral that writers hand what Redis did not
// take, and a replayer that, every few seconds while something waits, asks Redis for a PING
// and, when it answers, applies the waiting writes in order. Logged when spooling starts
// (once per outage) and after each replay, with counts and times, so that an operator sees
// the outage and its end in the journal.
import type { Logger } from '../log.js';
import type { Deferral } from './deferral.js';
import type { Spool, SpoolOperation } from './spool.js';

export interface SpoolEvents {
  /** Counters for /metrics (health/metrics.ts). */
  deferred?(count: number): void;
  replayed?(count: number, ms: number): void;
}

export class SpoolDeferral<Op extends SpoolOperation> implements Deferral<Op> {
  constructor(
    private readonly spool: Spool<Op>,
    private readonly log: Logger,
    private readonly events: SpoolEvents = {},
  ) {}

  get deferring(): boolean {
    return this.spool.pending > 0;
  }

  defer(op: Op, cause?: unknown): void {
    const first = this.spool.pending === 0;
    this.spool.append([op]);
    this.events.deferred?.(1);
    if (first) {
      this.log.warn(
        { err: cause instanceof Error ? cause.message : cause, spool: this.spool.dir },
        'state store unreachable: journal events and logins are kept in the local spool and replayed in order once it answers',
      );
    }
  }
}

export interface ReplayerOptions<Op extends SpoolOperation> {
  spool: Spool<Op>;
  /** Resolves when the store answers (a PING), rejects otherwise. */
  ping(): Promise<unknown>;
  /** Apply a batch of operations, in order; throwing stops the replay. */
  apply(ops: Op[]): Promise<void>;
  intervalMs: number;
  log: Logger;
  events?: SpoolEvents;
}

export class SpoolReplayer<Op extends SpoolOperation> {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;

  constructor(private readonly o: ReplayerOptions<Op>) {}

  start(): this {
    this.timer = setInterval(() => void this.replay(), this.o.intervalMs);
    this.timer.unref();
    // A spool left by a previous run (the daemon stopped during an outage).
    if (this.o.spool.pending > 0) void this.replay();
    return this;
  }

  /** Replay now if something waits and the store answers; resolves with the count applied. */
  replay(): Promise<number> {
    this.running ??= this.once().finally(() => (this.running = undefined));
    return this.running;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  private async once(): Promise<number> {
    const { spool, log } = this.o;
    if (spool.pending === 0) return 0;
    try {
      await this.o.ping();
    } catch {
      return 0; // still down: the next tick asks again
    }
    const before = spool.snapshot();
    const started = Date.now();
    let applied = 0;
    try {
      // Writers keep spooling while it replays (to keep the order): go on until it is empty.
      for (let n = -1; spool.pending > 0 && n !== 0; applied += n) n = await spool.drain((ops) => this.o.apply(ops));
    } catch (err) {
      log.warn({ err: err instanceof Error ? err.message : err, left: spool.pending }, 'spool replay interrupted; the rest waits for the next attempt');
    }
    const ms = Date.now() - started;
    if (applied > 0) {
      this.o.events?.replayed?.(applied, ms);
      log.info({ replayed: applied, ms, left: spool.pending, spooledSince: before.oldest }, 'state store back: spooled writes replayed in order');
    }
    return applied;
  }
}
