// The checker's side of a login a front decided (AUTH-CLI, EX_LPS_1200; PSC on the
// submission front, EX_LPS_0900): Dovecot or Postfix asks about a login whose password or
// token is a ticket of the front. A valid, unspent ticket for this mailbox, redeemed with
// the mechanism its front uses, is the proof; the login is recorded now that Dovecot or
// Postfix is opening the session (EX_GDT_5060), with the address they saw (the LPS's,
// thanks to the PROXY header) and Dovecot's session ID.
import type { Logger } from '../log.js';
import type { LoginAttempt } from './checker.js';
import { fail, type CheckOutcome } from './outcome.js';
import type { AuthenticationType, MailboxAccess } from './ports.js';
import { TICKET_PREFIX, type TicketBook } from './tickets.js';

/** The mechanism each front logs in with, so that Postfix's and Dovecot's logs name the LPS's own. */
const MECHANISMS: Record<AuthenticationType, ReadonlySet<string>> = {
  'PSC-XOAUTH2': new Set(['XOAUTH2']),
  'AUTH-CLI': new Set(['PLAIN', 'LOGIN']),
};

export class TicketChecker {
  constructor(
    private readonly tickets: TicketBook,
    private readonly access: Pick<MailboxAccess, 'recordLogin' | 'recordFailedLogin'>,
    private readonly log: Logger,
  ) {}

  async check(attempt: LoginAttempt): Promise<CheckOutcome> {
    const mailbox = attempt.user.trim().toLowerCase();
    if (!attempt.token.startsWith(TICKET_PREFIX)) return fail('mechanism');
    const mechanism = attempt.mechanism.toUpperCase();
    const grant = this.tickets.redeem(attempt.token, mailbox);
    if (!grant || !MECHANISMS[grant.login.authType].has(mechanism)) {
      const authType: AuthenticationType = grant?.login.authType ?? (MECHANISMS['PSC-XOAUTH2'].has(mechanism) ? 'PSC-XOAUTH2' : 'AUTH-CLI');
      this.log.warn(
        { user: mailbox, protocol: attempt.service, mech: mechanism, rip: attempt.remoteIp },
        'ticket unknown, spent, expired, for another mailbox or another mechanism',
      );
      void this.access
        .recordFailedLogin({
          mailbox,
          authType,
          reason: 'ticket',
          temporary: false,
          service: attempt.service,
          remoteIp: attempt.remoteIp,
          ...(attempt.session ? { session: attempt.session } : {}),
          at: new Date(),
        })
        .catch((err: unknown) => this.log.error({ err }, 'could not trace the refused login'));
      return fail('ticket');
    }
    const { login } = grant;
    void this.access
      .recordLogin({
        mailbox,
        ...login,
        service: attempt.service,
        // EX_GDT_5060: the client the LPS named to the front (Postfix passes none on).
        client: attempt.client || login.client || undefined,
        remoteIp: attempt.remoteIp,
        session: attempt.session || undefined,
        at: new Date(),
      })
      .catch((err: unknown) => this.log.error({ err, mailbox }, 'could not record the login (EX_GDT_5060 trace missing)'));
    this.log.info({ user: mailbox, protocol: attempt.service, rip: attempt.remoteIp, authType: login.authType, author: login.author }, 'ticket login accepted');
    return login.delegateOf === undefined
      ? { verdict: 'OK', idNat: login.author, role: login.role }
      : { verdict: 'OK', idNat: login.author, role: login.role, delegateOf: login.delegateOf };
  }
}
