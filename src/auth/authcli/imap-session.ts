// IMAP on the AUTH-CLI entry point (TM5.4P, EX_LPS_1200). Until login the front relays the
// LPS's commands to Dovecot line by line (imap-front-session.ts), with three exceptions:
// STARTTLS, done by the front on both sides (the LPS's certificate is checked here,
// EX_LPS_1200 steps 1–2), and AUTHENTICATE PLAIN / LOGIN, answered by the front (steps 3–5)
// and replayed to Dovecot with a one-time ticket. Capability lists are rewritten to offer
// AUTH=PLAIN only, and no non-synchronising literals. After login, bytes flow untouched.
import type net from 'node:net';
import type tls from 'node:tls';
import type { AdmissionSlot } from '../../net/admission.js';
import { ImapFrontSession, rewriteCapabilities, withoutLiterals } from '../front/imap-front-session.js';
import type { EndReason } from '../front/tls-session.js';
import { base64Text, imapArguments, plainLogin, plainResponse } from './credentials.js';
import { AuthCliGate, type AuthCliSessionDeps } from './gate.js';

/** Pre-login capability lists: our mechanisms only, no LITERAL+ (literals are refused before login). */
export function rewriteImapCapabilities(line: string, tls: boolean): string {
  return rewriteCapabilities(line, (caps) => [...withoutLiterals(caps).filter((c) => !/^AUTH=/i.test(c)), ...(tls ? ['AUTH=PLAIN'] : [])]);
}

export class ImapAuthCliSession extends ImapFrontSession {
  private readonly gate: AuthCliGate;

  constructor(socket: net.Socket, slot: AdmissionSlot, deps: AuthCliSessionDeps, onEnd: (reason: EndReason, durationMs: number) => void) {
    super(socket, slot, deps, onEnd);
    this.gate = new AuthCliGate(deps, () => this.clientAddress);
  }

  protected capabilities(line: string, tls: boolean): string {
    return rewriteImapCapabilities(line, tls);
  }

  protected override tlsEstablished(secure: tls.TLSSocket): boolean {
    if (this.gate.verify(secure)) return true;
    // EX_LPS_1200 step 1: no session without a valid, unrevoked IGC-Santé AUTH-CLI certificate.
    this.goodbye('* BYE [AUTHENTICATIONFAILED] Client certificate refused', 'refused');
    return false;
  }

  /** AUTHENTICATE PLAIN or LOGIN: true when the session was handed over to the relay (or ended). */
  protected async login(tag: string, command: string, rest: string): Promise<boolean> {
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
      const response = await this.clientResponse(tag, initial);
      if (response === 'ended') return true;
      if (response === 'aborted') return false;
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
    return this.backendLogin(tag, `${tag} AUTHENTICATE PLAIN ${plainResponse(mailbox.trim().toLowerCase(), admission.ticket)}`);
  }
}
