// The PSC side of the login router when the fronts own 143 and 587 (auth.front.enabled, the
// default): they decide every PSC login themselves (EX_LPS_0900 in-process) and log in to
// Dovecot/Postfix with a one-time ticket. A raw PSC token reaching Dovecot or Postfix came
// by another door — 993, a loopback listener behind the fronts, a site's internal listener —
// and skipped the fronts' session limits (EX_LPS_1000) and exact replies (EX_LPS_0710): it is
// refused ('front-only'), and the refusal traced like any failed login (EX_GDT_5040).
import type { Logger } from '../log.js';
import type { LoginAttempt } from './checker.js';
import type { LoginCheck } from './login-router.js';
import { fail, type CheckOutcome } from './outcome.js';
import type { MailboxAccess } from './ports.js';

export class FrontOnlyChecker implements LoginCheck {
  constructor(
    private readonly access: Pick<MailboxAccess, 'recordFailedLogin'>,
    private readonly log: Logger,
  ) {}

  async check(attempt: LoginAttempt): Promise<CheckOutcome> {
    const mailbox = attempt.user.trim().toLowerCase();
    this.log.warn(
      { user: mailbox, service: attempt.service, mech: attempt.mechanism, rip: attempt.remoteIp },
      'PSC token sent to Dovecot/Postfix directly, not through the front: refused',
    );
    void this.access
      .recordFailedLogin({
        mailbox,
        authType: 'PSC-XOAUTH2',
        reason: 'front-only',
        temporary: false,
        service: attempt.service,
        remoteIp: attempt.remoteIp,
        ...(attempt.session ? { session: attempt.session } : {}),
        at: new Date(),
      })
      .catch((err: unknown) => this.log.error({ err }, 'could not trace the refused login'));
    return fail('front-only');
  }
}
