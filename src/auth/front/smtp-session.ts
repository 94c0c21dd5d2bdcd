// SMTP submission through a TLS-terminating front (the PSC entry point and the AUTH-CLI
// one). Until login the front relays the LPS's commands to Postfix one by one, except
// STARTTLS (done by the front on both sides) and AUTH (answered by the front, which then
// logs in to Postfix with a one-time ticket). EHLO replies announce the front's own
// mechanisms after STARTTLS and no AUTH before. After login, bytes flow untouched.
import type tls from 'node:tls';
import { TlsSession } from './tls-session.js';

/** EX_LPS_0710: the SMTP replies of RFC 4954 §6, exactly. */
export const SMTP_AUTH_FAILED = '535 5.7.8 Authentication credentials invalid';
export const SMTP_AUTH_UNAVAILABLE = '454 4.7.0 Temporary authentication failure';
const BACKEND_UNAVAILABLE = '421 4.3.2 Service temporarily unavailable';

/** An EHLO reply with the front's AUTH keyword (`auth`, after TLS) or none (before). */
export function rewriteEhlo(lines: string[], auth: string | undefined): string[] {
  const texts = lines.map((l) => l.slice(4)).filter((t, i) => i === 0 || !/^AUTH[ =]/i.test(t));
  if (auth) texts.push(`AUTH ${auth}`);
  const code = lines[0]?.slice(0, 3) ?? '250';
  return texts.map((t, i) => `${code}${i === texts.length - 1 ? ' ' : '-'}${t}`);
}

export abstract class SmtpFrontSession extends TlsSession {
  /** The mechanisms the EHLO reply announces after STARTTLS (`XOAUTH2`, `PLAIN LOGIN`). */
  protected abstract readonly mechanisms: string;

  /**
   * EX_GDT_5060: what the LPS said about itself, the technical means of the login trace.
   * SMTP has no client identification but the EHLO (or HELO) name, so that is it.
   */
  protected clientName: string | undefined;

  /** `AUTH <mechanism> [initial response]` once TLS is up: true when the session was handed over to the relay, or ended. */
  protected abstract authenticate(mechanism: string, initial: string | undefined): Promise<boolean>;

  /** Both TLS handshakes are done: false ends the session (AUTH-CLI: certificate refused). */
  protected tlsEstablished(_secure: tls.TLSSocket): boolean {
    return true;
  }

  /** Whether AUTH may be attempted (AUTH-CLI also wants an accepted certificate). */
  protected get canAuthenticate(): boolean {
    return this.client.isTls;
  }

  async run(): Promise<void> {
    const backend = await this.connectBackend();
    if (!backend) return this.goodbye(BACKEND_UNAVAILABLE, 'backend-unavailable');
    const greeting = await this.reply();
    if (!greeting) return this.goodbye(BACKEND_UNAVAILABLE, 'backend-unavailable');
    this.send(greeting);

    for (;;) {
      const line = await this.client.line();
      if (line === undefined) return this.end('client');
      const verb = (/^(\S+)/.exec(line)?.[1] ?? '').toUpperCase();
      if (verb === 'STARTTLS') {
        if (!(await this.startTls())) return;
        continue;
      }
      if (verb === 'AUTH') {
        if (!this.canAuthenticate) {
          this.client.write('530 5.7.0 Must issue a STARTTLS command first\r\n');
          continue;
        }
        const [mechanism = '', initial] = line.slice(5).trim().split(' ');
        if (await this.authenticate(mechanism.toUpperCase(), initial)) return;
        continue;
      }
      if (verb === 'EHLO' || verb === 'HELO') {
        const name = line.slice(5).trim().slice(0, 255);
        this.clientName = name === '' ? undefined : `${verb} ${name}`;
      }
      backend.write(`${line}\r\n`);
      const reply = await this.reply();
      if (!reply) return this.end('backend');
      this.send(verb === 'EHLO' && reply[0]?.startsWith('250') ? rewriteEhlo(reply, this.client.isTls ? this.mechanisms : undefined) : reply);
      if (verb === 'QUIT') return this.goodbye(undefined, 'client');
    }
  }

  /** One (possibly multi-line) reply of the backend. */
  protected async reply(): Promise<string[] | undefined> {
    const lines: string[] = [];
    for (;;) {
      const line = await this.backend?.line();
      if (line === undefined) return undefined;
      lines.push(line);
      if (!/^\d{3}-/.test(line)) return lines;
    }
  }

  protected send(lines: string[]): void {
    this.client.write(lines.map((l) => `${l}\r\n`).join(''));
  }

  private async startTls(): Promise<boolean> {
    if (this.client.isTls) {
      this.client.write('503 5.5.1 TLS already active\r\n');
      return true;
    }
    this.backend?.write('STARTTLS\r\n');
    const reply = await this.reply();
    if (!reply?.[0]?.startsWith('220')) {
      this.goodbye(BACKEND_UNAVAILABLE, 'backend-unavailable');
      return false;
    }
    this.client.write('220 2.0.0 Ready to start TLS\r\n');
    // RFC 3207: the client starts over with EHLO, which the front passes on to Postfix.
    const secure = await this.upgradeBoth();
    return secure !== undefined && this.tlsEstablished(secure);
  }

  /** A 334 challenge and the client's answer (undefined: the client left and the session ended). */
  protected async challenge(text: string): Promise<string | undefined> {
    this.client.write(`334 ${text}\r\n`);
    const line = await this.client.line();
    if (line === undefined) this.end('client');
    return line;
  }

  /** RFC 4954 §4: the client cancelled the exchange with `*`. */
  protected aborted(): false {
    this.client.write('501 5.7.0 Authentication aborted\r\n');
    return false;
  }

  protected refuse(temporary: boolean): false {
    // EX_LPS_0710: the front writes RFC 4954's replies itself; Postfix would add its own text.
    this.client.write(`${temporary ? SMTP_AUTH_UNAVAILABLE : SMTP_AUTH_FAILED}\r\n`);
    return false;
  }

  /**
   * The front decided the login: it logs in to Postfix with `command` (AUTH with a ticket).
   * Postfix's `235` goes to the LPS and the relay starts; a `503` (AUTH inside a mail
   * transaction) too, as it is the client's doing. Anything else is our fault, not the
   * LPS's credentials: a temporary failure (never a success, never a 535).
   */
  protected async backendLogin(command: string): Promise<boolean> {
    this.backend?.write(`${command}\r\n`);
    let reply = await this.reply();
    // Dovecot's XOAUTH2 sends its error as a 334 challenge first; the empty answer ends the exchange.
    if (reply?.[0]?.startsWith('334')) {
      this.backend?.write('\r\n');
      reply = await this.reply();
    }
    if (!reply) {
      this.end('backend');
      return true;
    }
    // RFC 4954: AUTH inside a mail transaction is a sequence error, the client's to hear.
    if (reply[0]?.startsWith('503')) {
      this.send(reply);
      return false;
    }
    if (!reply[0]?.startsWith('235')) {
      this.deps.log.error({ session: this.id, rip: this.clientAddress, backend: reply.join(' | ') }, 'Postfix refused the front\'s ticket login');
      return this.refuse(true);
    }
    this.send(reply);
    this.relay();
    return true;
  }
}
