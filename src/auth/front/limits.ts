// EX_LPS_1000 for one session: ends it after `idleSeconds` without input from the client
// (any command resets the count; what the server sends does not) and after `maxSeconds` in
// any case. Shared by the relaying fronts of the PSC and AUTH-CLI entry points.
import type { SessionLimits } from '../config.js';

export type LimitReason = 'idle' | 'max-duration';

export class SessionLimitTimer {
  readonly startedAt = Date.now();
  private lastInput = this.startedAt;
  private idleTimer: NodeJS.Timeout;
  private readonly maxTimer: NodeJS.Timeout;
  private stopped = false;

  constructor(
    limits: SessionLimits,
    private readonly onLimit: (reason: LimitReason) => void,
  ) {
    const idleMs = limits.idleSeconds * 1000;
    // EX_LPS_1000: 15 minutes without a command.
    this.idleTimer = setTimeout(() => this.checkIdle(idleMs), idleMs);
    // EX_LPS_1000: 4 hours in any case.
    this.maxTimer = setTimeout(() => this.fire('max-duration'), limits.maxSeconds * 1000);
  }

  /** The client sent something. */
  input(): void {
    this.lastInput = Date.now();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.idleTimer);
    clearTimeout(this.maxTimer);
  }

  private checkIdle(idleMs: number): void {
    const quiet = Date.now() - this.lastInput;
    if (quiet >= idleMs) this.fire('idle');
    else this.idleTimer = setTimeout(() => this.checkIdle(idleMs), idleMs - quiet);
  }

  private fire(reason: LimitReason): void {
    if (this.stopped) return;
    this.stop();
    this.onLimit(reason);
  }
}
