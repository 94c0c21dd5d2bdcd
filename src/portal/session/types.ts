// What the portal keeps in a session (merged into @fastify/session's Session type).
import type { PendingSignIn, SessionUser } from './policy.js';

export interface Flash {
  kind: 'ok' | 'error';
  text: string;
}

declare module 'fastify' {
  interface Session {
    user?: SessionUser;
    signIn?: PendingSignIn;
    /** A message for the next page (post/redirect/get). */
    flash?: Flash;
    /** @fastify/csrf-protection's per-session secret. */
    _csrf?: string;
  }
}
