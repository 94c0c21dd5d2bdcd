// SMTP submission on the AUTH-CLI entry point (TM5.4P, EX_LPS_1200): the front's SMTP
// dialogue (src/auth/front/smtp-session.ts) with the LPS's certificate checked right after
// STARTTLS, and AUTH PLAIN / AUTH LOGIN answered by the front — the login is the mailbox,
// the password is not used — then replayed to Postfix as PLAIN with a one-time ticket.
import type net from 'node:net';
import type tls from 'node:tls';
import type { AdmissionSlot } from '../../net/admission.js';
import { SMTP_AUTH_UNAVAILABLE, SmtpFrontSession, type SmtpFrontDeps } from '../front/smtp-session.js';
import type { EndReason } from '../front/tls-session.js';
import { base64Text, plainLogin, plainResponse } from './credentials.js';
import { AuthCliGate, type AuthCliSessionDeps } from './gate.js';

export class SmtpAuthCliSession extends SmtpFrontSession {
  protected readonly mechanisms = 'PLAIN LOGIN';
  private readonly gate: AuthCliGate;

  declare protected readonly deps: AuthCliSessionDeps & SmtpFrontDeps;

  constructor(socket: net.Socket, slot: AdmissionSlot, deps: AuthCliSessionDeps & SmtpFrontDeps, onEnd: (reason: EndReason, durationMs: number) => void) {
    super(socket, slot, deps, onEnd);
    this.gate = new AuthCliGate(deps, () => this.clientAddress);
  }

  protected override tlsEstablished(secure: tls.TLSSocket): boolean {
    if (this.gate.verify(secure)) return true;
    // EX_LPS_1200 step 1: no session without a valid, unrevoked IGC-Santé AUTH-CLI certificate.
    this.goodbye('421 4.7.0 Client certificate refused', 'refused');
    return false;
  }

  protected override get canAuthenticate(): boolean {
    return this.client.isTls && this.gate.certified;
  }

  protected async authenticate(mechanism: string, initial: string | undefined): Promise<boolean> {
    let mailbox: string | undefined;
    if (mechanism === 'PLAIN') {
      const response = initial ?? (await this.challenge(''));
      if (response === undefined) return true;
      if (response === '*') return this.aborted();
      mailbox = plainLogin(response);
    } else if (mechanism === 'LOGIN') {
      const user = initial ?? (await this.challenge('VXNlcm5hbWU6'));
      if (user === undefined) return true;
      if (user === '*') return this.aborted();
      const password = await this.challenge('UGFzc3dvcmQ6');
      if (password === undefined) return true;
      if (password === '*') return this.aborted();
      mailbox = base64Text(user);
    } else {
      return this.refuseWith('504 5.5.4 Only PLAIN and LOGIN are offered on this entry point');
    }
    if (!mailbox) return this.refuse(false);
    const admission = await this.gate.admit(mailbox);
    // An address over its refusal rate (auth.failedLogins) comes back later; that counts as a refusal of this session.
    if (!admission.ok && admission.reason === 'too-many-failures') return this.refuseWith(SMTP_AUTH_UNAVAILABLE);
    if (!admission.ok) return this.refuse(admission.temporary);
    return this.backendLogin(`AUTH PLAIN ${plainResponse(mailbox.trim().toLowerCase(), admission.ticket)}`);
  }
}
