// What the IMAP and SMTP sessions of the AUTH-CLI front decide (EX_LPS_1200): the client
// certificate right after STARTTLS (steps 1–2, 4), then whether the login names an APP
// mailbox of the certificate's structure (steps 3, 5), which earns a one-time ticket the
// front logs in to Dovecot/Postfix with. Refusals are traced (EX_GDT_5040).
import type tls from 'node:tls';
import type { Logger } from '../../log.js';
import type { TlsFrontProtocol, TlsSessionDeps } from '../front/tls-session.js';
import type { LoginThrottle } from '../login-throttle.js';
import type { MailboxAccess } from '../ports.js';
import type { TicketBook } from '../tickets.js';
import type { CertCheck, ClientCertVerifier } from './client-cert.js';

export interface AuthCliGateDeps {
  protocol: TlsFrontProtocol;
  certificates: ClientCertVerifier;
  access: Pick<MailboxAccess, 'decideApplication' | 'recordFailedLogin'>;
  tickets: TicketBook;
  /** The per-address failed-login limit (auth.failedLogins). */
  throttle?: LoginThrottle;
  log: Logger;
}

/** What an AUTH-CLI session is built with: the front's part and the gate's. */
export type AuthCliSessionDeps = TlsSessionDeps & AuthCliGateDeps;

export type Admission = { ok: true; ticket: string } | { ok: false; temporary: boolean; reason: string };

export class AuthCliGate {
  private cert: CertCheck | undefined;

  constructor(
    private readonly deps: AuthCliGateDeps,
    private readonly clientAddress: () => string,
  ) {}

  /** A certificate was presented after STARTTLS and accepted. */
  get certified(): boolean {
    return this.cert?.ok === true;
  }

  /** EX_LPS_1200 steps 1–2: the certificate is checked at once, before any command. */
  verify(secure: tls.TLSSocket): boolean {
    this.cert = this.deps.certificates.verify(secure.getPeerX509Certificate());
    if (!this.cert.ok) {
      this.deps.log.info({ rip: this.clientAddress(), reason: this.cert.reason, detail: this.cert.detail }, 'AUTH-CLI certificate refused');
      this.traceRefusal(undefined, undefined, `certificate-${this.cert.reason}`, false);
    }
    return this.cert.ok;
  }

  /** EX_LPS_1200 steps 3–5: the login names an APP mailbox of the certificate's structure. */
  async admit(mailbox: string): Promise<Admission> {
    const cert = this.cert;
    if (!cert?.ok) return { ok: false, temporary: false, reason: 'certificate' };
    const address = mailbox.trim().toLowerCase();
    const source = this.clientAddress();
    // auth.failedLogins: an address over its refusal rate is not checked (no registry lookup).
    if (this.deps.throttle && !this.deps.throttle.allowed(source)) {
      this.traceRefusal(undefined, cert.structureId, 'too-many-failures', true);
      return { ok: false, temporary: true, reason: 'too-many-failures' };
    }
    let decision;
    try {
      decision = await this.deps.access.decideApplication(cert.structureId, address);
    } catch (err) {
      this.deps.log.error({ err, mailbox: address }, 'mailbox registry unavailable');
      this.traceRefusal(address, cert.structureId, 'registry-unavailable', true);
      return { ok: false, temporary: true, reason: 'registry-unavailable' };
    }
    if (!decision.allowed) {
      this.deps.log.info({ rip: this.clientAddress(), mailbox: address, structure: cert.structureId, reason: decision.reason }, 'AUTH-CLI login refused');
      this.traceRefusal(address, cert.structureId, decision.reason, false);
      this.deps.throttle?.failed(source);
      return { ok: false, temporary: false, reason: decision.reason };
    }
    const ticket = this.deps.tickets.issue({
      mailbox: address,
      login: { authType: 'AUTH-CLI', author: cert.structureId, role: 'structure', certificate: cert.subject },
    });
    return { ok: true, ticket };
  }

  /** EX_GDT_5040: a refused AUTH-CLI login is traced, with the reason. */
  private traceRefusal(mailbox: string | undefined, author: string | undefined, reason: string, temporary: boolean): void {
    void this.deps.access
      .recordFailedLogin({
        ...(mailbox ? { mailbox } : {}),
        ...(author ? { author } : {}),
        authType: 'AUTH-CLI',
        reason,
        temporary,
        service: this.deps.protocol,
        remoteIp: this.clientAddress(),
        at: new Date(),
      })
      .catch((err: unknown) => this.deps.log.error({ err }, 'could not trace the refused login'));
  }
}
