// The handler deadlines of every session of one server (timeouts.handlerMs after each async
// decision began) behind one timer. All have the same length, so they expire in the order
// they were set: a queue whose head is the next to expire. A timer per decision, set and
// cleared for every message (its end was always async then: the journal append), made Node create
// and drop its timer list and re-arm its libuv timer whenever no other decision was pending,
// a few % of the session framework's time (issue 20). A deadline still fires at or after
// its time, never before, as setTimeout would.
import { performance } from 'node:perf_hooks';

export class Deadline {
  done = false;
  constructor(
    readonly at: number,
    readonly onExpire: () => void,
  ) {}
}

export class Deadlines {
  private readonly queue: Deadline[] = [];
  /** Index of the head in queue: entries before it are gone. */
  private head = 0;
  private timer: NodeJS.Timeout | undefined;
  /** expire() is calling back: a deadline added meanwhile waits for the timer expire() arms for the head. */
  private expiring = false;

  constructor(private readonly ms: number) {}

  /** Call `onExpire` in `ms`, unless cancelled before. */
  add(onExpire: () => void): Deadline {
    const d = new Deadline(performance.now() + this.ms, onExpire);
    this.queue.push(d);
    if (!this.timer && !this.expiring) this.arm(d.at);
    return d;
  }

  /** The decision came: its deadline will not fire. */
  cancel(d: Deadline): void {
    d.done = true;
    this.dropDone();
  }

  /** Deadlines pending (tests). */
  get size(): number {
    let n = 0;
    for (let i = this.head; i < this.queue.length; i++) if (!(this.queue[i] as Deadline).done) n++;
    return n;
  }

  /** Entries still in the queue, gone ones behind a pending head included (tests: memory). */
  get held(): number {
    return this.queue.length - this.head;
  }

  /** Forget the gone entries at the head; the array is compacted once half of it is gone. */
  private dropDone(): void {
    while (this.head < this.queue.length && (this.queue[this.head] as Deadline).done) this.head++;
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
  }

  private arm(at: number): void {
    // Rounded up: a timer may fire up to 1 ms before its time by the monotonic clock.
    this.timer = setTimeout(() => this.expire(), Math.max(1, Math.ceil(at - performance.now()) + 1));
  }

  private expire(): void {
    this.timer = undefined;
    this.expiring = true;
    try {
      const now = performance.now();
      while (this.head < this.queue.length) {
        const d = this.queue[this.head] as Deadline;
        if (!d.done && d.at > now) break;
        this.head++;
        if (!d.done) {
          d.done = true;
          d.onExpire();
        }
      }
    } finally {
      this.expiring = false;
      this.dropDone();
      const next = this.queue[this.head];
      if (next) this.arm(next.at);
    }
  }
}
