// IMAP through a TLS-terminating front (the PSC entry point of 143 and the AUTH-CLI one).
// Until login the front relays the LPS's commands to Dovecot line by line, except STARTTLS
// (done by the front on both sides) and the login commands, which each front handles its
// own way (`login`). Literals are refused before login, so the capability lists drop
// LITERAL+/LITERAL-. Before login, at most MAX_PRE_LOGIN_COMMANDS commands, and refusals
// cost the failed-login policy's delays (auth.failedLogins). After login, bytes flow
// untouched.
import type tls from 'node:tls';
import { TlsSession } from './tls-session.js';

/** EX_LPS_0710: the IMAP refusal of RFC 5530 as §6.8.4.1 shows it, and the temporary failure. */
export const IMAP_AUTH_FAILED = 'NO [AUTHENTICATIONFAILED] Authentication failed';
export const IMAP_AUTH_UNAVAILABLE = 'NO [UNAVAILABLE] Temporary authentication failure';
export const IMAP_BACKEND_UNAVAILABLE = '* BYE [UNAVAILABLE] Service temporarily unavailable';

/** Capability lists (untagged or in a response code) with `keep` deciding each capability. */
export function rewriteCapabilities(line: string, fix: (caps: string[]) => string[]): string {
  const apply = (caps: string): string => fix(caps.split(' ').filter((c) => c !== '')).join(' ');
  if (/^\* CAPABILITY /i.test(line)) return `* CAPABILITY ${apply(line.slice(13))}`;
  return line.replace(/\[CAPABILITY ([^\]]*)\]/i, (_, caps: string) => `[CAPABILITY ${apply(caps)}]`);
}

export const withoutLiterals = (caps: string[]): string[] => caps.filter((c) => !/^LITERAL[+-]$/i.test(c));

export abstract class ImapFrontSession extends TlsSession {
  /** The capability list the LPS sees (`tls`: after STARTTLS with the front). */
  protected abstract capabilities(line: string, tls: boolean): string;

  /**
   * AUTHENTICATE or LOGIN (`line` as the client sent it): true when the session was handed
   * over to the relay, or ended.
   */
  protected abstract login(tag: string, command: string, rest: string, line: string): Promise<boolean>;

  /** Both TLS handshakes are done: false when the session was ended (AUTH-CLI: certificate refused). */
  protected tlsEstablished(_secure: tls.TLSSocket): boolean {
    return true;
  }

  /** Any other command before login, before it goes to Dovecot (ID: the client's name). */
  protected seen(_command: string, _rest: string): void {}

  async run(): Promise<void> {
    const backend = await this.connectBackend();
    if (!backend) return this.goodbye(IMAP_BACKEND_UNAVAILABLE, 'backend-unavailable');
    const greeting = await backend.line();
    if (greeting === undefined) return this.goodbye(IMAP_BACKEND_UNAVAILABLE, 'backend-unavailable');
    this.client.write(`${this.capabilities(greeting, false)}\r\n`);

    for (;;) {
      const line = await this.client.line();
      if (line === undefined) return this.end('client');
      if (!this.countPreLoginCommand('* BYE Too many commands before login')) return;
      const m = /^(\S+) (\S+)(?: (.*))?$/.exec(line);
      if (!m) {
        this.client.write(`* BAD Invalid command\r\n`);
        continue;
      }
      const [, tag = '', name = '', rest = ''] = m;
      const command = name.toUpperCase();
      if (/\{\d+\+?\}$/.test(line)) {
        this.client.write(`${tag} BAD Literals are not accepted before login\r\n`);
        continue;
      }
      if (command === 'STARTTLS') {
        if (!(await this.startTls(tag))) return;
        continue;
      }
      if (command === 'AUTHENTICATE' || command === 'LOGIN') {
        if (await this.login(tag, command, rest, line)) return;
        continue;
      }
      // Anything else before login (CAPABILITY, ID, NOOP, LOGOUT…) is Dovecot's to answer.
      this.seen(command, rest);
      backend.write(`${line}\r\n`);
      if (!(await this.forwardUntilTagged(tag))) return this.end('backend');
      if (command === 'LOGOUT') return this.goodbye(undefined, 'client');
    }
  }

  /** Relay backend lines to the client up to the tagged reply, which is returned (undefined: the backend went away). */
  protected async forwardUntilTagged(tag: string, rewrite = true): Promise<string | undefined> {
    for (;;) {
      const line = await this.backend?.line();
      if (line === undefined) return undefined;
      this.client.write(`${rewrite ? this.capabilities(line, this.client.isTls) : line}\r\n`);
      if (line.startsWith(`${tag} `)) return line;
    }
  }

  /**
   * Replay a login the front decided to Dovecot (`command`: AUTHENTICATE with the front's
   * ticket): true when Dovecot accepted it and the session is now relayed. A SASL error
   * challenge (`+ …`, XOAUTH2's) is answered here and never reaches the LPS; a refusal
   * reads as EX_LPS_0710 says. Dovecot refusing the front's own ticket is not the LPS's
   * failed login: not counted.
   */
  protected backendLogin(tag: string, command: string): Promise<boolean> {
    return this.loginAtBackend(
      tag,
      command,
      async () => '',
      (reply) => this.refuse(tag, /\[UNAVAILABLE\]/i.test(reply), false),
    );
  }

  /**
   * Send a login command to Dovecot and follow it to its tagged reply: `challenge` answers
   * each SASL continuation (undefined: the client went away), `refused` handles a tagged
   * reply other than OK; an OK hands the session over to the relay. True when the session
   * was handed over or ended.
   */
  protected async loginAtBackend(
    tag: string,
    command: string,
    challenge: (line: string) => Promise<string | undefined>,
    refused: (reply: string) => Promise<boolean>,
  ): Promise<boolean> {
    this.backend?.write(`${command}\r\n`);
    for (;;) {
      const line = await this.backend?.line();
      if (line === undefined) {
        this.end('backend');
        return true;
      }
      if (line.startsWith('+')) {
        const answer = await challenge(line);
        if (answer === undefined) {
          this.end('client');
          return true;
        }
        this.backend?.write(`${answer}\r\n`);
        continue;
      }
      if (!line.startsWith(`${tag} `)) {
        this.client.write(`${line}\r\n`);
        continue;
      }
      if (!line.startsWith(`${tag} OK`)) return refused(line);
      this.client.write(`${line}\r\n`);
      this.relay();
      return true;
    }
  }

  /**
   * A refused login (EX_LPS_0710: RFC 5530's reply). auth.failedLogins: a refusal — or an
   * address over its rate, `counted` — waits longer each time, and ends the session after
   * too many; a temporary failure of ours is answered at once. True when the session ended.
   */
  protected async refuse(tag: string, temporary: boolean, counted = !temporary): Promise<boolean> {
    const reply = `${tag} ${temporary ? IMAP_AUTH_UNAVAILABLE : IMAP_AUTH_FAILED}`;
    if (!counted || (await this.failedLogin())) {
      this.client.write(`${reply}\r\n`);
      return false;
    }
    this.goodbye(`${reply}\r\n* BYE Too many failed logins`, 'too-many-failures');
    return true;
  }

  /**
   * The SASL client response of `AUTHENTICATE <mech> [initial]`: the initial response, or the
   * line the client sends after an empty `+` (RFC 3501: no SASL-IR). `ended`: the client went
   * away (the session is over); `aborted`: `*`, answered with BAD here.
   */
  protected async clientResponse(tag: string, initial: string | undefined): Promise<string | 'ended' | 'aborted'> {
    if (initial !== undefined) return initial;
    this.client.write('+ \r\n');
    const response = await this.client.line();
    if (response === undefined) {
      this.end('client');
      return 'ended';
    }
    if (response === '*') {
      this.client.write(`${tag} BAD Authentication aborted by client.\r\n`);
      return 'aborted';
    }
    return response;
  }

  private async startTls(tag: string): Promise<boolean> {
    if (this.client.isTls) {
      this.client.write(`${tag} BAD TLS is already active\r\n`);
      return true;
    }
    const backend = this.backend;
    backend?.write('mss0 STARTTLS\r\n');
    let reply: string | undefined;
    while ((reply = await backend?.line()) !== undefined && !reply.startsWith('mss0 '));
    if (!reply?.startsWith('mss0 OK')) {
      this.goodbye(IMAP_BACKEND_UNAVAILABLE, 'backend-unavailable');
      return false;
    }
    this.client.write(`${tag} OK Begin TLS negotiation now.\r\n`);
    const secure = await this.upgradeBoth();
    if (!secure) return false;
    return this.tlsEstablished(secure);
  }
}
