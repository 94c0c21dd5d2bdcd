// One-time login tickets between the AUTH-CLI front and the checker. The front has done
// EX_LPS_1200 (certificate, structure, mailbox); it then logs in to Dovecot or Postfix with
// PLAIN, the mailbox and a ticket as password, and the Lua passdb hands the ticket to the
// checker. A ticket names one mailbox, lives a few seconds and opens one session: it proves
// to the checker that the front decided, and is worth nothing to anyone who sees it later.
import { randomBytes } from 'node:crypto';

/** What the Lua passdb recognises as ours (other PLAIN passwords go to the site's passdbs). */
export const TICKET_PREFIX = 'mssac1.';

export interface TicketGrant {
  mailbox: string;
  /** Structure IdNat (the certificate's OU). */
  structureId: string;
  /** Subject DN of the client certificate. */
  certificate: string;
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
