// One-time login tickets between the fronts that decide logins themselves — the AUTH-CLI
// fronts (EX_LPS_1200) and the PSC submission front (EX_LPS_0900 on SMTP) — and the
// checker. The front has decided; it then logs in to Dovecot or Postfix with the mailbox and
// a ticket (the PLAIN password, or the XOAUTH2 token), the Lua passdb hands the ticket to
// the checker, which redeems it and records the login. A ticket names one mailbox, lives a
// few seconds and opens one session: it proves to the checker that the front decided, and
// is worth nothing to anyone who sees it later.
import { randomBytes } from 'node:crypto';
import type { LoginRecord } from './ports.js';

/** What the Lua passdb and the checker recognise as ours (a JWT never starts so). */
export const TICKET_PREFIX = 'mssac1.';

/** Who logs in, and with what client (EX_GDT_5060): recorded when the ticket is redeemed. */
export type TicketLogin = Pick<LoginRecord, 'authType' | 'author' | 'role' | 'delegateOf' | 'certificate' | 'client'>;

export interface TicketGrant {
  mailbox: string;
  login: TicketLogin;
}

interface Entry extends TicketGrant {
  expiresAt: number;
}

export class TicketBook {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly ttlMs = 30_000,
    private readonly now: () => number = Date.now,
  ) {}

  issue(grant: TicketGrant): string {
    this.sweep();
    const ticket = `${TICKET_PREFIX}${randomBytes(32).toString('base64url')}`;
    this.entries.set(ticket, { ...grant, mailbox: grant.mailbox.toLowerCase(), expiresAt: this.now() + this.ttlMs });
    return ticket;
  }

  /** The grant, once: the ticket is spent whether or not the mailbox matches. */
  redeem(ticket: string, mailbox: string): TicketGrant | undefined {
    const entry = this.entries.get(ticket);
    if (!entry) return undefined;
    this.entries.delete(ticket);
    if (entry.expiresAt <= this.now() || entry.mailbox !== mailbox.toLowerCase()) return undefined;
    const { expiresAt: _, ...grant } = entry;
    return grant;
  }

  get size(): number {
    return this.entries.size;
  }

  private sweep(): void {
    const now = this.now();
    for (const [ticket, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(ticket);
  }
}
