// EX_GDT_5040 traces every refused login, failures included — but a client repeating the
// same refused login must not decide how fast our trace files grow. Identical refusals
// (same mailbox, author, reason, service, address and type; the session and time aside)
// within `windowSeconds` make two records at most: the first at once, and at the end of the
// window one record with the number of repetitions and the time of the first. Which
// refusals there were, from where and how many stays in the traces; only the copies go.
import type { FailedLogin, MailboxAccess } from './ports.js';

/** Distinct refusals held at once; beyond, the oldest is written out early. */
const MAX_PENDING = 10_000;

interface Pending {
  first: FailedLogin;
  last: FailedLogin;
  repeats: number;
  timer: NodeJS.Timeout;
}

type Recorder = Pick<MailboxAccess, 'recordFailedLogin'>;

export class FailedLoginTraces implements Recorder {
  private readonly pending = new Map<string, Pending>();
  /** Refusals folded into a count instead of a record of their own (tests, metrics). */
  folded = 0;

  constructor(
    private readonly inner: Recorder,
    private readonly windowSeconds: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  recordFailedLogin(f: FailedLogin): Promise<void> {
    const key = JSON.stringify([f.authType, f.mailbox, f.author, f.reason, f.temporary, f.service, f.remoteIp]);
    const seen = this.pending.get(key);
    if (seen) {
      seen.repeats += 1;
      seen.last = f;
      this.folded += 1;
      return Promise.resolve();
    }
    if (this.pending.size >= MAX_PENDING) this.flushOne(this.pending.keys().next().value as string);
    const timer = setTimeout(() => this.flushOne(key), this.windowSeconds * 1000);
    timer.unref();
    this.pending.set(key, { first: f, last: f, repeats: 0, timer });
    return this.inner.recordFailedLogin(f);
  }

  /** Write every pending count now (the service stops). */
  async flush(): Promise<void> {
    await Promise.all([...this.pending.keys()].map((key) => this.flushOne(key)));
  }

  private async flushOne(key: string): Promise<void> {
    const p = this.pending.get(key);
    if (!p) return;
    this.pending.delete(key);
    clearTimeout(p.timer);
    if (p.repeats === 0) return;
    const { session: _session, ...last } = p.last;
    try {
      await this.inner.recordFailedLogin({ ...last, repeated: { count: p.repeats, since: p.first.at } });
    } catch (err) {
      this.onError(err);
    }
  }
}
