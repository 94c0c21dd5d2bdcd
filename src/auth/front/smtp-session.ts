// SMTP submission through a TLS-terminating front (the PSC entry point and the AUTH-CLI
// one). Until login the front answers the LPS itself — greeting and EHLO as Postfix words
// them (smtp-backend.ts), STARTTLS, NOOP, RSET, QUIT — and holds no Postfix connection: a
// client that never logs in costs Postfix nothing. AUTH is answered by the front; once it
// admits the login, it connects to Postfix with the LPS's address (PROXY), replays EHLO,
// STARTTLS, EHLO and logs in with a one-time ticket. EHLO replies announce the front's own
// mechanisms after STARTTLS and no AUTH before. After login, bytes flow untouched.
import type tls from 'node:tls';
import { readSmtpReply, type SmtpBackendProbe, type SmtpBackendProfile } from './smtp-backend.js';
import { TlsSession, type TlsSessionDeps } from './tls-session.js';

/** EX_LPS_0710: the SMTP replies of RFC 4954 §6, exactly. */
export const SMTP_AUTH_FAILED = '535 5.7.8 Authentication credentials invalid';
export const SMTP_AUTH_UNAVAILABLE = '454 4.7.0 Temporary authentication failure';
const BACKEND_UNAVAILABLE = '421 4.3.2 Service temporarily unavailable';
const TOO_MANY_FAILURES = '421 4.7.0 Too many failed logins, closing connection';
const TOO_MANY_COMMANDS = '421 4.7.0 Too many commands before login, closing connection';

/** Commands that need a logged-in session (RFC 4954 §6: 530 5.7.0), or TLS first (RFC 3207). */
const NEEDS_LOGIN = new Set(['MAIL', 'RCPT', 'DATA', 'BDAT', 'VRFY', 'EXPN', 'ETRN']);

/** An EHLO reply with the front's AUTH keyword (`auth`, after TLS) or none (before). */
export function rewriteEhlo(lines: string[], auth: string | undefined): string[] {
  const texts = lines.map((l) => l.slice(4)).filter((t, i) => i === 0 || !/^AUTH[ =]/i.test(t));
  if (auth) texts.push(`AUTH ${auth}`);
  const code = lines[0]?.slice(0, 3) ?? '250';
  return texts.map((t, i) => `${code}${i === texts.length - 1 ? ' ' : '-'}${t}`);
}

export interface SmtpFrontDeps extends TlsSessionDeps {
  /** Postfix's greeting and EHLO keywords, shared by the sessions of the front. */
  postfix: SmtpBackendProbe;
}

export abstract class SmtpFrontSession extends TlsSession {
  declare protected readonly deps: SmtpFrontDeps;
  /** The mechanisms the EHLO reply announces after STARTTLS (`XOAUTH2`, `PLAIN LOGIN`). */
  protected abstract readonly mechanisms: string;

  /**
   * EX_GDT_5060: what the LPS said about itself, the technical means of the login trace.
   * SMTP has no client identification but the EHLO (or HELO) name, so that is it.
   */
  protected clientName: string | undefined;
  /** The client's last EHLO/HELO (RFC 3207: forgotten at STARTTLS), replayed to Postfix after the login. */
  private hello: { verb: 'EHLO' | 'HELO'; name: string } | undefined;
  private profile: SmtpBackendProfile | undefined;

  /** `AUTH <mechanism> [initial response]` once TLS is up: true when the session was handed over to the relay, or ended. */
  protected abstract authenticate(mechanism: string, initial: string | undefined): Promise<boolean>;

  /** The client's TLS handshake is done: false ends the session (AUTH-CLI: certificate refused). */
  protected tlsEstablished(_secure: tls.TLSSocket): boolean {
    return true;
  }

  /** Whether AUTH may be attempted (AUTH-CLI also wants an accepted certificate). */
  protected get canAuthenticate(): boolean {
    return this.client.isTls;
  }

  async run(): Promise<void> {
    this.profile = await this.deps.postfix.profile();
    if (!this.profile) return this.goodbye(BACKEND_UNAVAILABLE, 'backend-unavailable');
    this.send(this.profile.greeting);

    for (;;) {
      const line = await this.client.line();
      if (line === undefined) return this.end('client');
      if (!this.countPreLoginCommand(TOO_MANY_COMMANDS)) return;
      const verb = (/^(\S+)/.exec(line)?.[1] ?? '').toUpperCase();
      const arg = line.slice(verb.length).trim();
      switch (verb) {
        case 'STARTTLS':
          if (!(await this.startTls())) return;
          break;
        case 'AUTH':
          if (await this.auth(arg)) return;
          break;
        case 'EHLO':
        case 'HELO':
          this.greet(verb, arg);
          break;
        case 'NOOP':
          this.client.write('250 2.0.0 Ok\r\n');
          break;
        case 'RSET':
          this.client.write('250 2.0.0 Ok\r\n');
          break;
        case 'QUIT':
          return this.goodbye('221 2.0.0 Bye', 'client');
        default:
          if (NEEDS_LOGIN.has(verb))
            this.client.write(this.client.isTls ? '530 5.7.0 Authentication required\r\n' : '530 5.7.0 Must issue a STARTTLS command first\r\n');
          else this.client.write('502 5.5.2 Error: command not recognized\r\n');
      }
    }
  }

  /** EHLO/HELO answered with Postfix's own reply (read by the probe), our mechanisms after TLS. */
  private greet(verb: 'EHLO' | 'HELO', name: string): void {
    if (name === '' || name.length > 255) {
      this.client.write(`501 5.5.4 Syntax: ${verb} hostname\r\n`);
      return;
    }
    this.hello = { verb, name };
    this.clientName = `${verb} ${name}`;
    const profile = this.profile as SmtpBackendProfile;
    const reply = rewriteEhlo(this.client.isTls ? profile.ehloTls : profile.ehlo, this.client.isTls ? this.mechanisms : undefined);
    this.send(verb === 'EHLO' ? reply : [`250 ${reply[0]?.slice(4) ?? ''}`]);
  }

  private async auth(arg: string): Promise<boolean> {
    if (!this.hello) {
      this.client.write('503 5.5.1 Error: send HELO/EHLO first\r\n');
      return false;
    }
    if (!this.canAuthenticate) {
      this.client.write('530 5.7.0 Must issue a STARTTLS command first\r\n');
      return false;
    }
    const [mechanism = '', initial] = arg.split(' ');
    return this.authenticate(mechanism.toUpperCase(), initial);
  }

  protected send(lines: string[]): void {
    this.client.write(lines.map((l) => `${l}\r\n`).join(''));
  }

  private async startTls(): Promise<boolean> {
    if (this.client.isTls) {
      this.client.write('503 5.5.1 TLS already active\r\n');
      return true;
    }
    this.client.write('220 2.0.0 Ready to start TLS\r\n');
    const secure = await this.upgradeClient();
    // RFC 3207: the client starts over with EHLO.
    this.hello = undefined;
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

  /**
   * A refused login. EX_LPS_0710: the front writes RFC 4954's replies itself (Postfix would
   * add its own text). A temporary failure (our side) is answered at once; a refusal goes
   * through refuseWith(). True when the session ended.
   */
  protected async refuse(temporary: boolean): Promise<boolean> {
    if (!temporary) return this.refuseWith(SMTP_AUTH_FAILED);
    this.client.write(`${SMTP_AUTH_UNAVAILABLE}\r\n`);
    return false;
  }

  /**
   * auth.failedLogins: `reply` after a delay growing with each refusal of the session, and
   * the session ends after too many (the client reads `reply`, then the 421). True when it ended.
   */
  protected async refuseWith(reply: string): Promise<boolean> {
    if (await this.failedLogin()) {
      this.client.write(`${reply}\r\n`);
      return false;
    }
    this.goodbye(`${reply}\r\n${TOO_MANY_FAILURES}`, 'too-many-failures');
    return true;
  }

  /**
   * The front decided the login: it connects to Postfix now (PROXY with the LPS's address),
   * replays the client's EHLO, STARTTLS, EHLO, and logs in with `command` (AUTH with a
   * ticket). Postfix's `235` goes to the LPS and the relay starts. Anything else is our
   * fault, not the LPS's credentials (no mail transaction can be open: MAIL needs a login):
   * a temporary failure (never a success, never a 535).
   */
  protected async backendLogin(command: string): Promise<boolean> {
    const reply = await this.loginToPostfix(command);
    if (reply === undefined) {
      this.backend?.destroy();
      this.backend = undefined;
      return this.refuse(true);
    }
    if (!reply[0]?.startsWith('235')) {
      this.deps.log.error({ session: this.id, rip: this.clientAddress, backend: reply.join(' | ') }, "Postfix refused the front's ticket login");
      this.backend?.destroy();
      this.backend = undefined;
      return this.refuse(true);
    }
    this.send(reply);
    this.relay();
    return true;
  }

  /** Postfix's reply to the ticket login, or undefined when Postfix could not be reached or misbehaved before it. */
  private async loginToPostfix(command: string): Promise<string[] | undefined> {
    const backend = await this.connectBackend();
    if (!backend) {
      this.deps.log.error({ session: this.id, backend: this.deps.backend }, 'Postfix unreachable after a login was admitted');
      return undefined;
    }
    // EHLO even after the client's HELO: STARTTLS and AUTH need it.
    const hello = `EHLO ${this.hello?.name ?? 'localhost'}`;
    const step = async (line: string | undefined, code: string): Promise<boolean> => {
      if (line !== undefined) backend.write(`${line}\r\n`);
      const reply = await readSmtpReply(backend);
      if (reply?.[0]?.startsWith(code)) return true;
      this.deps.log.error(
        { session: this.id, step: line ?? 'greeting', backend: reply?.join(' | ') ?? 'closed' },
        'Postfix refused the front after a login was admitted',
      );
      return false;
    };
    if (!(await step(undefined, '220')) || !(await step(hello, '250')) || !(await step('STARTTLS', '220'))) return undefined;
    try {
      await this.backendTls();
    } catch (err) {
      this.deps.log.error({ session: this.id, err: (err as Error).message }, 'TLS towards Postfix failed');
      return undefined;
    }
    if (!(await step(hello, '250'))) return undefined;
    backend.write(`${command}\r\n`);
    let reply = await readSmtpReply(backend);
    // Dovecot's XOAUTH2 sends its error as a 334 challenge first; the empty answer ends the exchange.
    if (reply?.[0]?.startsWith('334')) {
      backend.write('\r\n');
      reply = await readSmtpReply(backend);
    }
    return reply;
  }
}
