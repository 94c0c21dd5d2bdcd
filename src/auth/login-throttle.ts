// The failed-login policy shared by every way in (docs/auth.md, "Refused logins"): a client
// guessing or replaying tokens must neither get fast answers nor make us work or write for
// it without end, and must not slow anyone else down.
//
// - Per session (the fronts apply it): the n-th refusal is answered after
//   delayMs·2^(n-1) (at most maxDelayMs), and the session ends after maxPerSession refusals.
//   The delay is a timer on that session alone: other sessions are not slowed.
// - Per source address (here): beyond maxPerSourcePerMinute refusals in the current minute,
//   logins from that address get a temporary failure without being checked (no PSC call,
//   no registry lookup) until the minute is over. Temporary: the address may be a hospital's
//   NAT, and its honest users come back a minute later.
import type { FailedLoginPolicy } from './config.js';

/** Source addresses remembered at most; beyond, the oldest minute's counts are dropped first. */
const MAX_SOURCES = 100_000;
const WINDOW_MS = 60_000;

export class LoginThrottle {
  private readonly bySource = new Map<string, { since: number; failures: number }>();

  constructor(
    readonly policy: FailedLoginPolicy,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether a login from `source` may be checked now. */
  allowed(source: string): boolean {
    const entry = this.current(source);
    return entry === undefined || entry.failures < this.policy.maxPerSourcePerMinute;
  }

  /** A refused login from `source` (temporary failures are ours, not the client's: not counted). */
  failed(source: string): void {
    const entry = this.current(source);
    if (entry) {
      entry.failures += 1;
      return;
    }
    if (this.bySource.size >= MAX_SOURCES) this.bySource.delete(this.bySource.keys().next().value as string);
    this.bySource.set(source, { since: this.now(), failures: 1 });
  }

  /** How long to wait before answering the `n`-th refusal of one session (n ≥ 1). */
  delayMs(n: number): number {
    return Math.min(this.policy.delayMs * 2 ** Math.max(0, n - 1), this.policy.maxDelayMs);
  }

  /** Whether a session with `n` refusals must end. */
  exhausted(n: number): boolean {
    return n >= this.policy.maxPerSession;
  }

  private current(source: string): { since: number; failures: number } | undefined {
    const entry = this.bySource.get(source);
    if (entry && this.now() - entry.since >= WINDOW_MS) {
      this.bySource.delete(source);
      return undefined;
    }
    return entry;
  }
}
