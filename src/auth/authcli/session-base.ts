// What the IMAP and SMTP sessions of the AUTH-CLI front share: the loopback connection to
// Dovecot/Postfix (PROXY header, then STARTTLS as a client), the admission decision
// (certificate, mailbox, structure → a one-time ticket), and the raw relay once logged in.
import net from 'node:net';
import type tls from 'node:tls';
import type { Logger } from '../../log.js';
import type { SessionLimits } from '../config.js';
import { SessionLimitTimer, type LimitReason } from '../front/limits.js';
import { proxyV1Header } from '../front/proxy-protocol.js';
import type { MailboxAccess } from '../ports.js';
import type { CertCheck, ClientCertVerifier } from './client-cert.js';
import { LineSocket } from './line-socket.js';
import type { TicketBook } from './tickets.js';

export type AuthCliProtocol = 'imap' | 'smtp';

export interface AuthCliDeps {
  protocol: AuthCliProtocol;
  backend: { host: string; port: number };
  /** The entry point's certificate and key, the six suites (src/pki/tls-profile.ts). */
  serverContext: tls.SecureContext;
  certificates: ClientCertVerifier;
  access: Pick<MailboxAccess, 'decideApplication' | 'recordFailedLogin'>;
  tickets: TicketBook;
  limits: SessionLimits;
  log: Logger;
  handshakeMs?: number;
  maxLine?: number;
}

export type EndReason = LimitReason | 'client' | 'backend' | 'refused' | 'backend-unavailable' | 'error' | 'shutdown';

export type Admission = { ok: true; ticket: string } | { ok: false; temporary: boolean; reason: string };

export abstract class AuthCliSession {
  protected readonly client: LineSocket;
  protected backend: LineSocket | undefined;
  protected cert: CertCheck | undefined;
  protected readonly limits: SessionLimitTimer;
  private ended = false;

  constructor(
    clientSocket: net.Socket,
    protected readonly deps: AuthCliDeps,
    private readonly onEnd: (reason: EndReason, durationMs: number) => void,
  ) {
    this.limits = new SessionLimitTimer(deps.limits, (reason) => this.end(reason));
    this.client = new LineSocket(clientSocket, deps.maxLine ?? 16_384, () => this.limits.input());
    clientSocket.on('close', () => this.end('client'));
    clientSocket.on('error', () => this.end('error'));
  }

  /** Run the protocol until login (then relay) or refusal. */
  abstract run(): Promise<void>;

  protected get clientAddress(): string {
    return this.client.socket.remoteAddress ?? '';
  }

  protected async connectBackend(): Promise<LineSocket | undefined> {
    const socket = net.connect({ host: this.deps.backend.host, port: this.deps.backend.port });
    const ok = await new Promise<boolean>((resolve) => {
      socket.once('connect', () => resolve(true));
      socket.once('error', () => resolve(false));
    });
    if (!ok) return undefined;
    // Before login the protocol loop sees the backend close (line() ends); then relay() watches it.
    socket.on('error', () => {});
    // The backend sees and logs the LPS's address, not the front's.
    socket.write(proxyV1Header(this.client.socket));
    this.backend = new LineSocket(socket, 1024 * 1024);
    return this.backend;
  }

  /** STARTTLS towards the client: EX_LPS_1200 steps 1–2, the certificate checked at once. */
  private async clientTls(): Promise<CertCheck> {
    const secure = await this.client.upgradeAsServer(this.deps.serverContext, this.deps.handshakeMs ?? 10_000);
    secure.on('close', () => this.end('client'));
    secure.on('error', () => this.end('error'));
    this.cert = this.deps.certificates.verify(secure.getPeerX509Certificate());
    if (!this.cert.ok) {
      this.deps.log.info({ rip: this.clientAddress, reason: this.cert.reason, detail: this.cert.detail }, 'AUTH-CLI certificate refused');
      this.traceRefusal(undefined, undefined, `certificate-${this.cert.reason}`, false);
    }
    return this.cert;
  }

  /**
   * Both TLS handshakes after STARTTLS was agreed on both sides; false (the session ended,
   * with `refusal` as last words when the certificate is refused) or true.
   */
  protected async upgradeBoth(refusal: string): Promise<boolean> {
    try {
      await Promise.all([this.backendTls(), this.clientTls()]);
    } catch {
      this.end('error');
      return false;
    }
    if (!this.cert?.ok) {
      // EX_LPS_1200 step 1: no session without a valid, unrevoked IGC-Santé AUTH-CLI certificate.
      this.goodbye(refusal, 'refused');
      return false;
    }
    return true;
  }

  /** STARTTLS towards Dovecot/Postfix on loopback (their certificate is the LPS entry point's own). */
  private async backendTls(): Promise<void> {
    const backend = this.backend as LineSocket;
    const secure = await backend.upgradeAsClient({ rejectUnauthorized: false, minVersion: 'TLSv1.2' }, this.deps.handshakeMs ?? 10_000);
    secure.on('error', () => {});
  }

  /** EX_LPS_1200 steps 3–5: the login names an APP mailbox of the certificate's structure. */
  protected async admit(mailbox: string): Promise<Admission> {
    const cert = this.cert;
    if (!cert?.ok) return { ok: false, temporary: false, reason: 'certificate' };
    const address = mailbox.trim().toLowerCase();
    let decision;
    try {
      decision = await this.deps.access.decideApplication(cert.structureId, address);
    } catch (err) {
      this.deps.log.error({ err, mailbox: address }, 'mailbox registry unavailable');
      this.traceRefusal(address, cert.structureId, 'registry-unavailable', true);
      return { ok: false, temporary: true, reason: 'registry-unavailable' };
    }
    if (!decision.allowed) {
      this.deps.log.info({ rip: this.clientAddress, mailbox: address, structure: cert.structureId, reason: decision.reason }, 'AUTH-CLI login refused');
      this.traceRefusal(address, cert.structureId, decision.reason, false);
      return { ok: false, temporary: false, reason: decision.reason };
    }
    return { ok: true, ticket: this.deps.tickets.issue({ mailbox: address, structureId: cert.structureId, certificate: cert.subject }) };
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
        remoteIp: this.clientAddress,
        at: new Date(),
      })
      .catch((err: unknown) => this.deps.log.error({ err }, 'could not trace the refused login'));
  }

  /** Logged in: from now on bytes flow both ways untouched, under the session limits. */
  protected relay(): void {
    const backend = this.backend as LineSocket;
    const c = this.client.handOver();
    const b = backend.handOver();
    c.socket.on('data', () => this.limits.input());
    if (c.pending.length > 0) b.socket.write(c.pending);
    if (b.pending.length > 0) c.socket.write(b.pending);
    c.socket.pipe(b.socket);
    b.socket.pipe(c.socket);
    c.socket.on('close', () => this.end('client'));
    b.socket.on('close', () => {
      if (c.socket.writableEnded && !c.socket.writableFinished) c.socket.once('finish', () => this.end('backend'));
      else this.end('backend');
    });
  }

  end(reason: EndReason): void {
    if (this.ended) return;
    this.ended = true;
    this.limits.stop();
    this.client.destroy();
    this.backend?.destroy();
    this.onEnd(reason, Date.now() - this.limits.startedAt);
  }

  /** Write a last line (if any) and close: refusals, certificate failures, unreachable backend, logout. */
  protected goodbye(line: string | undefined, reason: EndReason): void {
    const socket = this.client.socket;
    socket.end(line === undefined ? '' : `${line}\r\n`, () => this.end(reason));
    setTimeout(() => this.end(reason), 2000).unref();
  }
}
