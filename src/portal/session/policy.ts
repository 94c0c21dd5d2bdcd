// The portal's session limits: idle and absolute timeouts (a professional's screen left
// open in a consultation room must not stay signed in), and the short window of a sign-in
// in progress at Pro Santé Connect. Pure functions of the session and the clock.
import type { PortalSessionLimits } from '../config.js';

/** A signed-in professional, as kept in the session (in the state store, shared by the nodes). */
export interface SessionUser {
  /** The IdNat: PSC UserInfo's SubjectNameID, the same rule as the API LPS (EX_LPS_0900 step 7). */
  idNat: string;
  /** Given and family names from UserInfo, when PSC gives them. */
  name?: string;
  /** Sign-in time and last request (ms since the epoch). */
  since: number;
  lastSeen: number;
  /** PSC's ID token, only as the `id_token_hint` of the logout at PSC; never shown or logged. */
  idToken?: string;
}

/** A sign-in in progress: what the authorization response must match (RFC 6749 state, OIDC nonce, RFC 7636 PKCE). */
export interface PendingSignIn {
  state: string;
  nonce: string;
  codeVerifier: string;
  startedAt: number;
}

export type SessionVerdict = 'live' | 'idle' | 'expired';

export function sessionVerdict(user: Pick<SessionUser, 'since' | 'lastSeen'>, now: number, limits: PortalSessionLimits): SessionVerdict {
  if (now - user.since >= limits.maxSeconds * 1000) return 'expired';
  if (now - user.lastSeen >= limits.idleSeconds * 1000) return 'idle';
  return 'live';
}

/**
 * A session ended by a limit stays in the store this long after the end, so that the
 * person's next request finds it, is told why and the end is traced; sessionVerdict has
 * already refused it by then.
 */
export const ENDED_SESSION_KEPT_MS = 10 * 60_000;

/** How long the store keeps a session: until its idle or absolute end (plus ENDED_SESSION_KEPT_MS), or the end of the sign-in window. */
export function sessionTtlMs(session: { user?: SessionUser; signIn?: PendingSignIn }, now: number, limits: PortalSessionLimits): number {
  const ends: number[] = [];
  if (session.user)
    ends.push(Math.min(session.user.since + limits.maxSeconds * 1000, session.user.lastSeen + limits.idleSeconds * 1000) + ENDED_SESSION_KEPT_MS);
  if (session.signIn) ends.push(session.signIn.startedAt + limits.signInSeconds * 1000);
  // A session with neither (a flash message after sign-out) lives as long as a sign-in would.
  if (ends.length === 0) ends.push(now + limits.signInSeconds * 1000);
  return Math.min(...ends) - now;
}
