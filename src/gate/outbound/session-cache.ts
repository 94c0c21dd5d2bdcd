// Verified sessions to receiving connectors kept open between messages, like Postfix's own
// SMTP connection cache: a burst of messages to one domain pays for the TCP, TLS and
// certificate checks once. A session is reused only for the domain it was judged for, and
// judged again if the liste blanche or the CRLs changed meanwhile (remote.ts stillValid).
import type { GateOutConfig } from '../config.js';
import type { RemoteSession } from './remote.js';

interface Parked {
  session: RemoteSession;
  timer: NodeJS.Timeout;
}

export class SessionCache {
  private readonly idle = new Map<string, Parked[]>();
  private count = 0;

  constructor(private readonly cfg: GateOutConfig['connectionCache']) {}

  /** An idle session for this domain, if one is still open. */
  take(domain: string): RemoteSession | undefined {
    const list = this.idle.get(domain);
    while (list && list.length > 0) {
      const p = list.pop() as Parked;
      clearTimeout(p.timer);
      this.count--;
      if (!p.session.client.closed) return p.session;
    }
    return undefined;
  }

  /** Keep a session after a finished transaction, or close it when the cache is full or it has served enough. */
  park(session: RemoteSession): void {
    if (session.client.closed) return;
    if (this.cfg.idleMs === 0 || this.count >= this.cfg.maxIdle || session.uses >= this.cfg.maxReuse) {
      void session.client.quit();
      return;
    }
    const list = this.idle.get(session.domain) ?? [];
    const parked: Parked = {
      session,
      timer: setTimeout(() => {
        const i = list.indexOf(parked);
        if (i >= 0) {
          list.splice(i, 1);
          this.count--;
        }
        void session.client.quit();
      }, this.cfg.idleMs),
    };
    parked.timer.unref();
    list.push(parked);
    this.idle.set(session.domain, list);
    this.count++;
  }

  async closeAll(): Promise<void> {
    const all = [...this.idle.values()].flat();
    this.idle.clear();
    this.count = 0;
    await Promise.all(
      all.map((p) => {
        clearTimeout(p.timer);
        return p.session.client.quit(500);
      }),
    );
  }
}
