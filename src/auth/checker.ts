// The XOAUTH2 login check of EX_LPS_0900, by which a person with a PSC token opens a PER or
// ORG mailbox (EX_LPS_0600). Dovecot (IMAP) or the submission front (SMTP) has done steps
// 1–4 (STARTTLS, base64, `user=` and the Bearer token) before calling us; here are steps
// 5–8: signature and validity of the PSC access token, IdNat from UserInfo, habilitation on
// the mailbox. A success is recorded for the registry (last login, EX_GDT_5060 trace): at
// once when Dovecot asked (`check`), or when the front's ticket is redeemed (`evaluate`
// hands the record over), so that only logins Postfix really accepted are recorded.
// Anything we cannot decide (PSC, registry unreachable) is a temporary failure, never a
// success.
import { createHash } from 'node:crypto';
import type { Logger } from '../log.js';
import type { LoginThrottle } from './login-throttle.js';
import { fail, tempfail, type CheckOutcome } from './outcome.js';
import type { LoginRecord, MailboxAccess } from './ports.js';
import type { PscTokenVerifier } from './psc/token-verifier.js';
import type { PscUserInfo } from './psc/userinfo.js';

export interface LoginAttempt {
  /** The mailbox address from `user=` (Dovecot has lowercased it). */
  user: string;
  /** The Bearer token, as Dovecot passes it to the passdb (or a ticket of a front). */
  token: string;
  /** Dovecot's service: `imap`, or `smtp` (Postfix submission through Dovecot SASL, or the submission front). */
  service: string;
  mechanism: string;
  remoteIp: string;
  session?: string;
  client?: string;
}

/** SHA-256 of the token: its name in caches and logs; the token itself is never logged. */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

const PSC_MECHANISMS = new Set(['XOAUTH2', 'OAUTHBEARER']);

/** A decision, with the login to record when it is a success. */
export interface Evaluation {
  outcome: CheckOutcome;
  login?: LoginRecord;
}

export class XOAuth2Checker {
  constructor(
    private readonly verifier: PscTokenVerifier,
    private readonly userInfo: PscUserInfo,
    private readonly access: Pick<MailboxAccess, 'decide' | 'recordLogin' | 'recordFailedLogin'>,
    private readonly log: Logger,
    /** The per-address part of the failed-login policy; the fronts apply the per-session part. */
    private readonly throttle?: LoginThrottle,
  ) {}

  /** The endpoint's check (Dovecot asked): decide, and record a success at once. */
  async check(attempt: LoginAttempt): Promise<CheckOutcome> {
    const { outcome, login } = await this.evaluate(attempt);
    if (login) this.record(login);
    return outcome;
  }

  /**
   * Decide without recording a success: the caller records `login` once the session is
   * really open (the submission front, after Postfix accepted its ticket). Refusals are
   * traced here, as they are final.
   */
  async evaluate(attempt: LoginAttempt): Promise<Evaluation> {
    const hash = tokenHash(attempt.token);
    const known: { idNat?: string } = {};
    // An address over its refusal rate is not checked at all: no PSC call, no registry lookup.
    const throttled = this.throttle !== undefined && !this.throttle.allowed(attempt.remoteIp);
    const evaluation = throttled
      ? { outcome: tempfail('too-many-failures') }
      : await this.decide(attempt, hash, known).catch((err: unknown): Evaluation => {
          this.log.error({ err, tokenHash: hash.slice(0, 12) }, 'login check failed unexpectedly');
          return { outcome: tempfail('internal') };
        });
    const { outcome } = evaluation;
    if (outcome.verdict === 'FAIL') this.throttle?.failed(attempt.remoteIp);
    if (outcome.verdict !== 'OK') {
      // EX_GDT_5040: refusals are traced too (the system's response, failures included).
      void this.access
        .recordFailedLogin({
          // An unchecked attempt names the address only: its `user=` is whatever the client wrote, and
          // varying it must not multiply the records (src/auth/failure-traces.ts folds identical ones).
          ...(throttled ? {} : { mailbox: attempt.user.trim().toLowerCase() }),
          authType: 'PSC-XOAUTH2',
          ...(known.idNat ? { author: known.idNat } : {}),
          reason: outcome.reason,
          temporary: outcome.verdict === 'TEMPFAIL',
          service: attempt.service,
          remoteIp: attempt.remoteIp,
          ...(attempt.session ? { session: attempt.session } : {}),
          at: new Date(),
        })
        .catch((err: unknown) => this.log.error({ err }, 'could not trace the refused login'));
    }
    const fields = { user: attempt.user, protocol: attempt.service, rip: attempt.remoteIp, session: attempt.session, tokenHash: hash.slice(0, 12) };
    if (outcome.verdict === 'OK') this.log.info({ ...fields, idNat: outcome.idNat, role: outcome.role }, 'login accepted');
    else if (outcome.verdict === 'FAIL') this.log.info({ ...fields, reason: outcome.reason }, 'login refused');
    // An address over its refusal rate is not worth a line per attempt: the trace folds them, the front logs the session's end.
    else if (throttled) this.log.debug({ ...fields, reason: outcome.reason }, 'login not checked: too many refusals from this address');
    else this.log.warn({ ...fields, reason: outcome.reason }, 'login temporarily refused');
    return evaluation;
  }

  /** EX_GDT_5060: the registry records the login (last login, functional trace) without delaying it. */
  private record(login: LoginRecord): void {
    void this.access
      .recordLogin(login)
      .catch((err: unknown) =>
        this.log.error({ err, mailbox: login.mailbox, session: login.session }, 'could not record the login (EX_GDT_5060 trace missing)'),
      );
  }

  private async decide(attempt: LoginAttempt, hash: string, known: { idNat?: string }): Promise<Evaluation> {
    // The PER/ORG entry point takes PSC tokens only (§6.8.1); PLAIN belongs to AUTH-CLI.
    if (!PSC_MECHANISMS.has(attempt.mechanism.toUpperCase())) return { outcome: fail('mechanism') };
    // EX_LPS_0900 step 3: the mailbox comes from `user=`.
    const mailbox = attempt.user.trim().toLowerCase();
    if (mailbox === '' || !mailbox.includes('@')) return { outcome: fail('no-user') };

    // EX_LPS_0900 steps 5–6.
    const token = await this.verifier.verify(attempt.token);
    if (!token.ok) {
      this.log.debug({ tokenHash: hash.slice(0, 12), reason: token.reason, detail: token.detail }, 'token not accepted');
      return { outcome: token.temporary ? tempfail(token.reason) : fail(token.reason) };
    }

    // EX_LPS_0900 step 7.
    const who = await this.userInfo.idNat(attempt.token, hash, token.claims.exp);
    if (!who.ok) {
      this.log.debug({ tokenHash: hash.slice(0, 12), reason: who.reason, detail: who.detail }, 'UserInfo gave no IdNat');
      return { outcome: who.temporary ? tempfail(who.reason) : fail(who.reason) };
    }
    known.idNat = who.idNat;

    // EX_LPS_0900 step 8, EX_GBM_5414: holder, responsible, co-holder or delegate of this mailbox.
    let decision;
    try {
      decision = await this.access.decide(who.idNat, mailbox);
    } catch (err) {
      this.log.error({ err, mailbox }, 'mailbox registry unavailable');
      return { outcome: tempfail('registry-unavailable') };
    }
    if (!decision.allowed) return { outcome: fail(decision.reason) };

    const login: LoginRecord = {
      mailbox,
      authType: 'PSC-XOAUTH2',
      author: who.idNat,
      role: decision.role,
      delegateOf: decision.delegateOf,
      service: attempt.service,
      client: attempt.client || undefined,
      remoteIp: attempt.remoteIp,
      session: attempt.session || undefined,
      at: new Date(),
    };
    const outcome: CheckOutcome =
      decision.delegateOf === undefined
        ? { verdict: 'OK', idNat: who.idNat, role: decision.role }
        : { verdict: 'OK', idNat: who.idNat, role: decision.role, delegateOf: decision.delegateOf };
    return { outcome, login };
  }
}
