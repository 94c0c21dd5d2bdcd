// IMAP on the AUTH-CLI entry point (TM5.4P, EX_LPS_1200). Until login the front relays the
// LPS's commands to Dovecot line by line, with three exceptions: STARTTLS, done by the front
// on both sides (the LPS's certificate is checked here, EX_LPS_1200 steps 1–2), and
// AUTHENTICATE PLAIN / LOGIN, answered by the front (steps 3–5) and replayed to Dovecot with
// a one-time ticket. Capability lists are rewritten to offer AUTH=PLAIN only, and no
// non-synchronising literals. After login, bytes flow untouched.
import type net from 'node:net';
import type { AdmissionSlot } from '../../net/admission.js';
import { TlsSession, type EndReason } from '../front/tls-session.js';
import { base64Text, imapArguments, plainLogin, plainResponse } from './credentials.js';
import { AuthCliGate, type AuthCliSessionDeps } from './gate.js';

const FAILED = 'NO [AUTHENTICATIONFAILED] Authentication failed.';
const UNAVAILABLE = 'NO [UNAVAILABLE] Temporary authentication failure.';

/** Pre-login capability lists: our mechanisms only, no LITERAL+ (literals are refused before login). */
export function rewriteImapCapabilities(line: string, tls: boolean): string {
  const fix = (caps: string): string => {
    const kept = caps.split(' ').filter((c) => c !== '' && !/^AUTH=/i.test(c) && !/^LITERAL[+-]$/i.test(c));
    if (tls) kept.push('AUTH=PLAIN');
    return kept.join(' ');
  };
  if (/^\* CAPABILITY /i.test(line)) return `* CAPABILITY ${fix(line.slice(13))}`;
  return line.replace(/\[CAPABILITY ([^\]]*)\]/i, (_, caps: string) => `[CAPABILITY ${fix(caps)}]`);
}

export class ImapAuthCliSession extends TlsSession {
  private readonly gate: AuthCliGate;

  constructor(socket: net.Socket, slot: AdmissionSlot, deps: AuthCliSessionDeps, onEnd: (reason: EndReason, durationMs: number) => void) {
    super(socket, slot, deps, onEnd);
    this.gate = new AuthCliGate(deps, () => this.clientAddress);
  }

  async run(): Promise<void> {
    const backend = await this.connectBackend();
    if (!backend) return this.goodbye('* BYE [UNAVAILABLE] Service temporarily unavailable', 'backend-unavailable');
    const greeting = await backend.line();
    if (greeting === undefined) return this.goodbye('* BYE [UNAVAILABLE] Service temporarily unavailable', 'backend-unavailable');
    this.client.write(`${rewriteImapCapabilities(greeting, false)}\r\n`);

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
        const done = await this.login(tag, command, rest);
        if (done) return;
        continue;
      }
      // Anything else before login (CAPABILITY, ID, NOOP, LOGOUT…) is Dovecot's to answer.
      backend.write(`${line}\r\n`);
      if (!(await this.forwardUntilTagged(tag))) return this.end('backend');
      if (command === 'LOGOUT') return this.goodbye(undefined, 'client');
    }
  }

  /** Relay backend lines to the client up to the tagged reply; false if the backend went away. */
  private async forwardUntilTagged(tag: string, rewrite = true): Promise<string | undefined> {
    const backend = this.backend;
    for (;;) {
      const line = await backend?.line();
      if (line === undefined) return undefined;
      this.client.write(`${rewrite ? rewriteImapCapabilities(line, this.client.isTls) : line}\r\n`);
      if (line.startsWith(`${tag} `)) return line;
    }
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
      this.goodbye('* BYE [UNAVAILABLE] Service temporarily unavailable', 'backend-unavailable');
      return false;
    }
    this.client.write(`${tag} OK Begin TLS negotiation now.\r\n`);
    const secure = await this.upgradeBoth();
    if (!secure) return false;
    if (this.gate.verify(secure)) return true;
    // EX_LPS_1200 step 1: no session without a valid, unrevoked IGC-Santé AUTH-CLI certificate.
    this.goodbye('* BYE [AUTHENTICATIONFAILED] Client certificate refused', 'refused');
    return false;
  }

  /**
   * A refused login (EX_LPS_0710: RFC 5530's reply). auth.failedLogins: a refusal — or an
   * address over its rate, `counted` — waits longer each time, and ends the session after
   * too many; a temporary failure of ours is answered at once. True when the session ended.
   */
  private async refuse(tag: string, temporary: boolean, counted = !temporary): Promise<boolean> {
    const reply = `${tag} ${temporary ? UNAVAILABLE : FAILED}`;
    if (!counted || (await this.failedLogin())) {
      this.client.write(`${reply}\r\n`);
      return false;
    }
    this.goodbye(`${reply}\r\n* BYE Too many failed logins`, 'too-many-failures');
    return true;
  }

  /** AUTHENTICATE PLAIN or LOGIN: true when the session was handed over to the relay (or ended). */
  private async login(tag: string, command: string, rest: string): Promise<boolean> {
    if (!this.client.isTls || !this.gate.certified) {
      this.client.write(`${tag} NO [PRIVACYREQUIRED] STARTTLS with a client certificate first.\r\n`);
      return false;
    }
    let mailbox: string | undefined;
    if (command === 'LOGIN') {
      const args = imapArguments(rest);
      if (!args || args.length !== 2) {
        this.client.write(`${tag} BAD LOGIN needs a login and a password\r\n`);
        return false;
      }
      mailbox = args[0];
    } else {
      const [mech = '', initial] = rest.split(' ');
      if (mech.toUpperCase() !== 'PLAIN') {
        this.client.write(`${tag} NO [CANNOT] Only PLAIN is offered on this entry point.\r\n`);
        return false;
      }
      let response = initial;
      if (response === undefined) {
        this.client.write('+ \r\n');
        response = await this.client.line();
        if (response === undefined) {
          this.end('client');
          return true;
        }
        if (response === '*') {
          this.client.write(`${tag} BAD Authentication aborted\r\n`);
          return false;
        }
      }
      mailbox = response === '=' ? undefined : plainLogin(response);
      if (mailbox === undefined && base64Text(response) === undefined) {
        this.client.write(`${tag} BAD Invalid base64\r\n`);
        return false;
      }
    }
    if (!mailbox) return this.refuse(tag, false);
    const admission = await this.gate.admit(mailbox);
    // EX_LPS_0710: the IMAP refusal of RFC 5530.
    if (!admission.ok) return this.refuse(tag, admission.temporary, admission.reason === 'too-many-failures');

    this.backend?.write(`${tag} AUTHENTICATE PLAIN ${plainResponse(mailbox.trim().toLowerCase(), admission.ticket)}\r\n`);
    const reply = await this.forwardUntilTagged(tag, false);
    if (reply === undefined) {
      this.end('backend');
      return true;
    }
    if (!reply.startsWith(`${tag} OK`)) return false;
    this.relay();
    return true;
  }
}
