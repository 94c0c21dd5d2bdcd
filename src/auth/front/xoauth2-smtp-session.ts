// SMTP submission on the PSC entry point (TM5.2P/TM5.3P, port 587). The front answers
// `AUTH XOAUTH2` itself so that the LPS reads exactly RFC 4954's replies (EX_LPS_0710):
// Postfix 3.7 would print `535 5.7.8 Error: authentication failed: <reason>` (Dovecot 2.3
// drops the passdb's reason) and turns Dovecot's temporary failure into a 535 too.
// EX_LPS_0900 steps 2–4 are done here, steps 5–8 by the same XOAUTH2 checker the Lua passdb
// asks for IMAP. An admitted LPS is then logged in to Postfix with AUTH XOAUTH2 and a
// one-time ticket (the Lua passdb → the checker redeems it and records the login), so
// Postfix's SASL state, logs and milter macros show the LPS's mailbox and XOAUTH2.
import type { Evaluation, LoginAttempt } from '../checker.js';
import type { TicketBook } from '../tickets.js';
import { SMTP_AUTH_FAILED, SMTP_AUTH_UNAVAILABLE, SmtpFrontSession, type SmtpFrontDeps } from './smtp-session.js';
import { parseXoauth2, xoauth2Response } from './xoauth2.js';

export interface PscSmtpSessionDeps extends SmtpFrontDeps {
  /** The XOAUTH2 checker (EX_LPS_0900 steps 5–8), called in-process. */
  psc: { evaluate(attempt: LoginAttempt): Promise<Evaluation> };
  tickets: TicketBook;
}

export class PscSmtpSession extends SmtpFrontSession {
  /** EX_LPS_0700: XOAUTH2 is the PSC entry point's mechanism; PLAIN belongs to AUTH-CLI. */
  protected readonly mechanisms = 'XOAUTH2';
  declare protected readonly deps: PscSmtpSessionDeps;

  protected async authenticate(mechanism: string, initial: string | undefined): Promise<boolean> {
    if (mechanism !== 'XOAUTH2') return this.refuseWith('504 5.5.4 Only XOAUTH2 is offered on this entry point');
    // RFC 4954: without an initial response, an empty challenge asks for it; `=` is an empty one.
    const response = initial ?? (await this.challenge(''));
    if (response === undefined) return true;
    if (response === '*') return this.aborted();
    const parsed = parseXoauth2(response === '=' ? '' : response);
    if (!parsed.ok) {
      this.deps.log.info({ session: this.id, rip: this.clientAddress, reason: parsed.reason }, 'malformed XOAUTH2 response');
      // A malformed response is a refused login too (auth.failedLogins): it costs the client the same delay.
      return this.refuseWith(parsed.reason === 'base64' ? '501 5.5.2 Invalid base64 data' : SMTP_AUTH_FAILED);
    }
    // EX_LPS_0710, RFC 4954: a refusal is a direct 535 (or 454), without the XOAUTH2 error
    // challenge Google's servers send first: the Référentiel's example, and JavaMail reads a
    // 334 after its initial response as a broken exchange (docs/auth.md).
    const { outcome, login } = await this.deps.psc.evaluate({
      user: parsed.user,
      token: parsed.token,
      service: 'smtp',
      mechanism: 'XOAUTH2',
      remoteIp: this.clientAddress,
      session: this.id,
      ...(this.clientName ? { client: this.clientName } : {}),
    });
    // An address over its refusal rate (auth.failedLogins) is told to come back later, and that counts as a refusal of this session.
    if (outcome.verdict === 'TEMPFAIL' && outcome.reason === 'too-many-failures') return this.refuseWith(SMTP_AUTH_UNAVAILABLE);
    if (outcome.verdict !== 'OK' || !login) return this.refuse(outcome.verdict === 'TEMPFAIL');
    const ticket = this.deps.tickets.issue({
      mailbox: login.mailbox,
      login: { authType: login.authType, author: login.author, role: login.role, delegateOf: login.delegateOf, client: login.client },
    });
    return this.backendLogin(`AUTH XOAUTH2 ${xoauth2Response(login.mailbox, ticket)}`);
  }
}
