// Password logins (PLAIN, LOGIN, CRAM-MD5…) that reach Dovecot's passdbs: the Lua passdb
// asks here whether the user is one of this operator's MSSanté mailboxes before any site
// passdb sees the password. EX_LPS_0600 and EX_LPS_0900 (a person opens a BAL with a PSC
// access token), EX_LPS_1200 (an application mailbox with its AUTH-CLI certificate): no
// password, site or system, opens an MSSanté mailbox, on any Dovecot service or listener.
// Addresses that are not ours stay with the site's passdbs (an intranet mailbox, a system
// account). The password itself is never sent here.
import type { Logger } from '../log.js';
import type { MailboxAccess } from './ports.js';

export interface PasswordAttempt {
  user: string;
  /** `imap`, `smtp` (Postfix through Dovecot SASL), `pop3`, `submission`… */
  service: string;
  /** PLAIN, LOGIN, CRAM-MD5… as Dovecot names the mechanism. */
  mechanism: string;
  remoteIp: string;
  session?: string;
}

export type PasswordVerdict = 'mssante-mailbox' | 'not-ours';

export class PasswordLogins {
  constructor(
    private readonly access: Pick<MailboxAccess, 'isOperatorAddress' | 'recordFailedLogin'>,
    private readonly log: Logger,
  ) {}

  async decide(a: PasswordAttempt): Promise<PasswordVerdict> {
    const mailbox = a.user.trim().toLowerCase();
    if (!(await this.access.isOperatorAddress(mailbox))) return 'not-ours';
    this.log.info(
      { user: mailbox, service: a.service, mech: a.mechanism, rip: a.remoteIp },
      'password login refused: an MSSanté mailbox is opened with a PSC token or an AUTH-CLI certificate',
    );
    // EX_GDT_5040: the refusal is traced like any other failed login.
    void this.access
      .recordFailedLogin({
        mailbox,
        authType: 'PASSWORD',
        reason: 'password-mechanism',
        temporary: false,
        service: a.service,
        remoteIp: a.remoteIp,
        ...(a.session ? { session: a.session } : {}),
        at: new Date(),
      })
      .catch((err: unknown) => this.log.error({ err }, 'could not trace the refused password login'));
    return 'mssante-mailbox';
  }
}
