// Who acted in a Dovecot session: recorded when our checker accepts a login (Activity, with
// the session id Dovecot's Lua passdb handed it) and read back when Dovecot reports what the
// session did (dovecot-events-service.ts). In the state store, so that the daemon that
// authorised the login and the one receiving the events may be different processes or nodes;
// kept a day (sessions end within 4 hours, EX_LPS_1000).
import type { StateStore } from '../store/store.js';
import type { SessionIdentity } from './dovecot-events.js';

const TTL_MS = 24 * 3_600_000;
const CACHE = 2000;
const key = (session: string): string => `dsession:${session}`;

export class DovecotSessions {
  /** Recent lookups: a session sends several events. */
  private readonly cache = new Map<string, SessionIdentity>();
  /** Sessions waited for in vain (logins not through our checker): not waited for again. */
  private readonly missing = new Set<string>();

  /**
   * @param waitMs how long a first lookup waits for a login still being recorded: the checker
   * answers Dovecot first and records the login after, so the session's first commands may
   * arrive before it. The spool's reader looks up a batch's sessions side by side: a session
   * without a recorded login costs one wait, not one per event.
   */
  constructor(
    private readonly store: StateStore,
    private readonly waitMs = 1500,
  ) {}

  async record(session: string, who: SessionIdentity): Promise<void> {
    await this.store.set(key(session), JSON.stringify(who), { ttlMs: TTL_MS });
  }

  async lookup(session: string | undefined): Promise<SessionIdentity | undefined> {
    if (!session) return undefined;
    const cached = this.cache.get(session);
    if (cached) return cached;
    const deadline = Date.now() + (this.missing.has(session) ? 0 : this.waitMs);
    for (;;) {
      const who = parse(await this.store.get(key(session)));
      if (who) {
        if (this.cache.size >= CACHE) this.cache.delete(this.cache.keys().next().value as string);
        this.cache.set(session, who);
        this.missing.delete(session);
        return who;
      }
      if (Date.now() >= deadline) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    if (this.missing.size >= CACHE) this.missing.delete(this.missing.values().next().value as string);
    this.missing.add(session);
    return undefined;
  }
}

function parse(raw: string | undefined): SessionIdentity | undefined {
  if (!raw) return undefined;
  try {
    return JSON.parse(raw) as SessionIdentity;
  } catch {
    return undefined;
  }
}
