// The checker's answer, with a stable reason code for logs and tests. Dovecot turns FAIL
// into `NO [AUTHENTICATIONFAILED] Authentication failed.` and TEMPFAIL into `NO
// [UNAVAILABLE]` (IMAP); the submission front writes `535 5.7.8 Authentication credentials
// invalid` and `454 4.7.0 Temporary authentication failure` (SMTP) — EX_LPS_0710.
import type { AccessRefusal, Habilitation } from './ports.js';

export type Verdict = 'OK' | 'FAIL' | 'TEMPFAIL';

export type TokenFailure =
  | 'token-too-large'
  | 'token-malformed'
  | 'token-algorithm'
  | 'token-unknown-key'
  | 'token-signature'
  | 'token-expired'
  | 'token-not-yet-valid'
  | 'token-issued-in-future'
  | 'token-issuer'
  | 'token-audience'
  | 'token-authorized-party'
  | 'token-acr'
  | 'token-type'
  | 'token-claims';

export type FailReason =
  | TokenFailure
  | 'mechanism'
  | 'no-user'
  /** AUTH-CLI: the PLAIN password is not a live ticket of the front for this mailbox. */
  | 'ticket'
  /** A PSC token sent to Dovecot/Postfix directly, while the fronts of 143/587 decide PSC logins. */
  | 'front-only'
  | 'userinfo-refused'
  | 'userinfo-no-idnat'
  | AccessRefusal;

export type TempFailReason =
  | 'psc-discovery-unavailable'
  | 'jwks-unavailable'
  | 'userinfo-unavailable'
  | 'registry-unavailable'
  | 'internal'
  /** Too many refused logins from this address in the current minute: not checked (src/auth/login-throttle.ts). */
  | 'too-many-failures';

export type CheckOutcome =
  | { verdict: 'OK'; idNat: string; role: Habilitation | 'structure'; delegateOf?: string }
  | { verdict: 'FAIL'; reason: FailReason }
  | { verdict: 'TEMPFAIL'; reason: TempFailReason };

export const fail = (reason: FailReason): CheckOutcome => ({ verdict: 'FAIL', reason });
export const tempfail = (reason: TempFailReason): CheckOutcome => ({ verdict: 'TEMPFAIL', reason });
