// @fastify/session's store on the state store (embedded files, or Redis when several nodes
// serve the portal: a professional's next request may reach the other node). Keys are
// `portal-session:<sha256 of the session ID>`, so the store never holds a usable cookie
// value; each record expires with the session (idle, absolute or sign-in window).
import { createHash } from 'node:crypto';
import type { Session } from 'fastify';
import type { StateStore } from '../../store/store.js';

type Callback = (err?: unknown) => void;

export class StateSessionStore {
  constructor(
    private readonly store: StateStore,
    private readonly ttlMs: (session: Session) => number,
  ) {}

  set(sessionId: string, session: Session, callback: Callback): void {
    const ttl = this.ttlMs(session);
    if (ttl <= 0) {
      this.destroy(sessionId, callback);
      return;
    }
    this.store.set(keyOf(sessionId), JSON.stringify(session), { ttlMs: ttl }).then(() => callback(), callback);
  }

  get(sessionId: string, callback: (err: unknown, session?: Session | null) => void): void {
    this.store.get(keyOf(sessionId)).then(
      (text) => callback(null, text === undefined ? null : (JSON.parse(text) as Session)),
      (err: unknown) => callback(err),
    );
  }

  destroy(sessionId: string, callback: Callback): void {
    this.store.del(keyOf(sessionId)).then(() => callback(), callback);
  }
}

export const SESSION_NAMESPACE = 'portal-session';

export function keyOf(sessionId: string): string {
  return `${SESSION_NAMESPACE}:${createHash('sha256').update(sessionId).digest('hex')}`;
}
