// EX_LPS_1000 for one session: ends it after `idleSeconds` without input from the client
// (any command resets the count; what the server sends does not) and after `maxSeconds` in
// any case. Before login the idle limit is the much shorter `preLoginIdleSeconds`
// (auth.connections): a client that connects and says nothing holds a session for seconds,
// not 15 minutes. Shared by every front of the PSC and AUTH-CLI entry points.
import type { SessionLimits } from '../config.js';

export type LimitReason = 'idle' | 'max-duration' | 'pre-login-idle';

export class SessionLimitTimer {
  readonly startedAt = Date.now();
  private lastInput = this.startedAt;
  private idleTimer: NodeJS.Timeout;
  private readonly maxTimer: NodeJS.Timeout;
  private stopped = false;
  private loggedIn = false;

  constructor(
    private readonly limits: SessionLimits,
    private readonly onLimit: (reason: LimitReason) => void,
    /** Idle limit before login; without it, the session's idle limit applies from the start. */
    private readonly preLoginIdleSeconds?: number,
  ) {
    this.idleTimer = setTimeout(() => this.checkIdle(), this.idleMs());
    // EX_LPS_1000: 4 hours in any case.
    this.maxTimer = setTimeout(() => this.fire('max-duration'), limits.maxSeconds * 1000);
  }

  /** The client sent something. */
  input(): void {
    this.lastInput = Date.now();
  }

  /** The session logged in: the EX_LPS_1000 idle limit replaces the pre-login one. */
  authenticated(): void {
    if (this.loggedIn || this.stopped) return;
    this.loggedIn = true;
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.checkIdle(), Math.max(0, this.idleMs() - (Date.now() - this.lastInput)));
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.idleTimer);
    clearTimeout(this.maxTimer);
  }

  private idleMs(): number {
    const seconds =
      !this.loggedIn && this.preLoginIdleSeconds !== undefined ? Math.min(this.preLoginIdleSeconds, this.limits.idleSeconds) : this.limits.idleSeconds;
    return seconds * 1000;
  }

  private checkIdle(): void {
    const idleMs = this.idleMs();
    const quiet = Date.now() - this.lastInput;
    // EX_LPS_1000: 15 minutes without a command (before login: auth.connections.preLoginIdleSeconds).
    if (quiet >= idleMs) this.fire(this.loggedIn || this.preLoginIdleSeconds === undefined ? 'idle' : 'pre-login-idle');
    else this.idleTimer = setTimeout(() => this.checkIdle(), idleMs - quiet);
  }

  private fire(reason: LimitReason): void {
    if (this.stopped) return;
    this.stop();
    this.onLimit(reason);
  }
}
