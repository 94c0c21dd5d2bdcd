// IMAP on the PSC entry point (TM5.3P, port 143). The front answers `AUTHENTICATE XOAUTH2`
// itself so that the LPS reads exactly §6.8.4.1's reply (EX_LPS_0710): `<tag> NO
// [AUTHENTICATIONFAILED] Authentication failed` straight after the initial response. Dovecot
// 2.3's XOAUTH2 mechanism first sends an error challenge (`+ eyJzdGF0dXMi…`) and waits for
// an empty line, whatever the passdb says. EX_LPS_0900 steps 2–4 are done here, steps 5–8
// by the XOAUTH2 checker in-process; an admitted LPS is logged in to Dovecot with
// AUTHENTICATE XOAUTH2 and a one-time ticket (the Lua passdb → the checker redeems it and
// records the login, with the IMAP ID Dovecot retained). Other commands, other mechanisms
// and LOGIN go to Dovecot as sent: its Lua passdb refuses passwords for MSSanté mailboxes
// (EX_LPS_0600) and leaves the site's other users to the site's passdbs.
import type { Evaluation, LoginAttempt } from '../checker.js';
import type { TicketBook } from '../tickets.js';
import { ImapFrontSession, rewriteCapabilities, withoutLiterals } from './imap-front-session.js';
import type { TlsSessionDeps } from './tls-session.js';
import { parseXoauth2, xoauth2Response } from './xoauth2.js';

export interface PscImapSessionDeps extends TlsSessionDeps {
  /** The XOAUTH2 checker (EX_LPS_0900 steps 5–8), called in-process. */
  psc: { evaluate(attempt: LoginAttempt): Promise<Evaluation> };
  tickets: TicketBook;
}

/** The IMAP ID arguments, as Dovecot's imap_id_retain hands them on (`"name" "LPS" …`), bounded. */
function idArguments(rest: string): string | undefined {
  const inner = /^\((.*)\)$/.exec(rest.trim())?.[1]?.trim();
  return inner ? inner.slice(0, 255) : undefined;
}

export class PscImapSession extends ImapFrontSession {
  declare protected readonly deps: PscImapSessionDeps;
  /** EX_GDT_5060: what the LPS said about itself in an IMAP ID before logging in. */
  private clientId: string | undefined;

  protected capabilities(line: string): string {
    return rewriteCapabilities(line, withoutLiterals);
  }

  protected override seen(command: string, rest: string): void {
    if (command === 'ID') this.clientId = idArguments(rest);
  }

  protected async login(tag: string, command: string, rest: string, line: string): Promise<boolean> {
    const [mechanism = '', initial] = rest.split(' ');
    if (command === 'AUTHENTICATE' && mechanism.toUpperCase() === 'XOAUTH2') return this.xoauth2(tag, initial);
    // LOGIN and other mechanisms: Dovecot's to answer (and its Lua passdb's to refuse for an MSSanté mailbox).
    return this.relayLogin(tag, line);
  }

  private async xoauth2(tag: string, initial: string | undefined): Promise<boolean> {
    if (!this.client.isTls) {
      // EX_LPS_0500: STARTTLS before any login (Dovecot's own answer, disable_plaintext_auth).
      this.client.write(`${tag} NO [PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.\r\n`);
      return false;
    }
    const response = await this.clientResponse(tag, initial);
    if (response === 'ended') return true;
    if (response === 'aborted') return false;
    const parsed = parseXoauth2(response === '=' ? '' : response);
    if (!parsed.ok) {
      this.deps.log.info({ session: this.id, rip: this.clientAddress, reason: parsed.reason }, 'malformed XOAUTH2 response');
      if (parsed.reason === 'base64') {
        this.client.write(`${tag} BAD Invalid base64 data\r\n`);
        return false;
      }
      // A malformed response is a refused login too (auth.failedLogins).
      return this.refuse(tag, false);
    }
    // EX_LPS_0710 (§6.8.4.1): the refusal is the tagged NO itself, with no XOAUTH2 error challenge first.
    const { outcome, login } = await this.deps.psc.evaluate({
      user: parsed.user,
      token: parsed.token,
      service: 'imap',
      mechanism: 'XOAUTH2',
      remoteIp: this.clientAddress,
      session: this.id,
      ...(this.clientId ? { client: this.clientId } : {}),
    });
    // An address over its refusal rate (auth.failedLogins) is told to come back later, and that counts as a refusal of this session.
    if (outcome.verdict === 'TEMPFAIL' && outcome.reason === 'too-many-failures') return this.refuse(tag, true, true);
    if (outcome.verdict !== 'OK' || !login) return this.refuse(tag, outcome.verdict === 'TEMPFAIL');
    const ticket = this.deps.tickets.issue({
      mailbox: login.mailbox,
      login: { authType: login.authType, author: login.author, role: login.role, delegateOf: login.delegateOf, client: login.client },
    });
    return this.backendLogin(tag, `${tag} AUTHENTICATE XOAUTH2 ${xoauth2Response(login.mailbox, ticket)}`);
  }

  /** A login Dovecot decides: relayed with its SASL continuations; a success hands the session over. */
  private relayLogin(tag: string, line: string): Promise<boolean> {
    const challenge = async (continuation: string): Promise<string | undefined> => {
      this.client.write(`${continuation}\r\n`);
      return this.client.line();
    };
    return this.loginAtBackend(tag, line, challenge, async (reply) => {
      // EX_LPS_0710: every refusal on this entry point reads the same, and costs the same (auth.failedLogins).
      if (/\[AUTHENTICATIONFAILED\]/i.test(reply)) return this.refuse(tag, false);
      this.client.write(`${reply}\r\n`);
      return false;
    });
  }
}
