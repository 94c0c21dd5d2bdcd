// Who gets a session on a public listener before proving who they are (an LPS before its
// login on the API LPS fronts, a connector before its certificate passed on the inbound
// gate): the caps that keep idle or slow clients from holding what real clients need.
//
// - Per source address, at most `maxPreLoginPerSource` sessions not yet authenticated; the
//   next one is refused at once.
// - All sessions together at most `maxSessions`; of them, sessions not yet authenticated at
//   most `maxSessions - authenticatedReserve`, so that however many connections a flood
//   opens, `authenticatedReserve` slots stay for sessions that log in.
// - When the unauthenticated pool is full, the OLDEST unauthenticated session is ended to
//   make room (it had its chance; a real client logs in within seconds): a flood of idle
//   connections cannot lock new clients out, it only shortens its own connections' lives.
//   (Dovecot's login processes do the same when their process limit is reached.)
// - When all `maxSessions` are taken by authenticated sessions, new connections are refused.

export interface AdmissionLimits {
  maxPreLoginPerSource: number;
  maxSessions: number;
  authenticatedReserve: number;
}

export type AdmissionRefusal = 'source-limit' | 'full';

export interface AdmissionSlot {
  /** The session authenticated (logged in, or its certificate passed): it leaves the pre-login pool. */
  authenticated(): void;
  /** The session ended (idempotent). */
  release(): void;
}

interface Slot extends AdmissionSlot {
  source: string;
  state: 'pre-login' | 'authenticated' | 'released';
  /** Ends the session: called when the slot is taken back for a newer connection. */
  evict: () => void;
}

export class Admission {
  /** Unauthenticated sessions, oldest first (a Set keeps insertion order). */
  private readonly preLogin = new Set<Slot>();
  private readonly perSource = new Map<string, number>();
  private authenticatedCount = 0;
  /** Counters for logs, metrics and tests. */
  readonly counts = { refusedSource: 0, refusedFull: 0, evicted: 0 };

  constructor(private readonly limits: AdmissionLimits) {}

  get sessions(): number {
    return this.preLogin.size + this.authenticatedCount;
  }

  get preLoginSessions(): number {
    return this.preLogin.size;
  }

  /**
   * A new connection from `source`. `evict` ends it if its slot is later taken back (it
   * must end the session, which then releases its slot).
   */
  admit(source: string, evict: () => void): AdmissionSlot | AdmissionRefusal {
    if ((this.perSource.get(source) ?? 0) >= this.limits.maxPreLoginPerSource) {
      this.counts.refusedSource += 1;
      return 'source-limit';
    }
    const preLoginCap = this.limits.maxSessions - this.limits.authenticatedReserve;
    while (this.preLogin.size >= preLoginCap || this.sessions >= this.limits.maxSessions) {
      const oldest = this.preLogin.values().next().value as Slot | undefined;
      if (!oldest) {
        this.counts.refusedFull += 1;
        return 'full';
      }
      this.counts.evicted += 1;
      this.leavePreLogin(oldest);
      oldest.state = 'released';
      oldest.evict();
    }
    const slot: Slot = {
      source,
      state: 'pre-login',
      evict,
      authenticated: () => {
        if (slot.state !== 'pre-login') return;
        this.leavePreLogin(slot);
        slot.state = 'authenticated';
        this.authenticatedCount += 1;
      },
      release: () => {
        if (slot.state === 'pre-login') this.leavePreLogin(slot);
        else if (slot.state === 'authenticated') this.authenticatedCount -= 1;
        slot.state = 'released';
      },
    };
    this.preLogin.add(slot);
    this.perSource.set(source, (this.perSource.get(source) ?? 0) + 1);
    return slot;
  }

  private leavePreLogin(slot: Slot): void {
    this.preLogin.delete(slot);
    const n = (this.perSource.get(slot.source) ?? 1) - 1;
    if (n <= 0) this.perSource.delete(slot.source);
    else this.perSource.set(slot.source, n);
  }
}
