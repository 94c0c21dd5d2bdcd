// The checker's side of an AUTH-CLI login (EX_LPS_1100, EX_LPS_1200): Dovecot or Postfix
// asks about a PLAIN login whose password is a ticket of the AUTH-CLI front. The front has
// verified the certificate and the structure; a valid, unspent ticket for this mailbox is
// the proof. The login is recorded with the structure as author (EX_GDT_5060).
import type { Logger } from '../../log.js';
import type { LoginAttempt } from '../checker.js';
import { fail, type CheckOutcome } from '../outcome.js';
import type { MailboxAccess } from '../ports.js';
import { TICKET_PREFIX, type TicketBook } from './tickets.js';

export class TicketChecker {
  constructor(
    private readonly tickets: TicketBook,
    private readonly access: Pick<MailboxAccess, 'recordLogin' | 'recordFailedLogin'>,
    private readonly log: Logger,
  ) {}

  async check(attempt: LoginAttempt): Promise<CheckOutcome> {
    const mailbox = attempt.user.trim().toLowerCase();
    if (!attempt.token.startsWith(TICKET_PREFIX)) return fail('mechanism');
    const grant = this.tickets.redeem(attempt.token, mailbox);
    if (!grant) {
      this.log.warn({ user: mailbox, service: attempt.service, rip: attempt.remoteIp }, 'AUTH-CLI ticket unknown, spent, expired or for another mailbox');
      void this.access
        .recordFailedLogin({ mailbox, authType: 'AUTH-CLI', reason: 'ticket', temporary: false, service: attempt.service, remoteIp: attempt.remoteIp, ...(attempt.session ? { session: attempt.session } : {}), at: new Date() })
        .catch((err: unknown) => this.log.error({ err }, 'could not trace the refused login'));
      return fail('ticket');
    }
    void this.access
      .recordLogin({
        mailbox,
        authType: 'AUTH-CLI',
        author: grant.structureId,
        role: 'structure',
        certificate: grant.certificate,
        service: attempt.service,
        client: attempt.client || undefined,
        remoteIp: attempt.remoteIp,
        session: attempt.session || undefined,
        at: new Date(),
      })
      .catch((err: unknown) => this.log.error({ err, mailbox }, 'could not record the login (EX_GDT_5060 trace missing)'));
    this.log.info({ user: mailbox, service: attempt.service, rip: attempt.remoteIp, structure: grant.structureId }, 'AUTH-CLI login accepted');
    return { verdict: 'OK', idNat: grant.structureId, role: 'structure' };
  }
}
