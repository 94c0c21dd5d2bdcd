// What both engines see in the benchmark: one operator domain, 49 other MSSanté domains in
// the liste blanche, and messages of 10 recipients of which 2 are outside it. The milter
// runs the real submission rules (bench/lib/submission-rules.ts); postfwd enforces what a
// policy service can — the recipient count and the domain list — with postfwdRules().
import { DOMAIN } from '../../test/helpers/registry.js';

export const MAX_RECIPIENTS = 40;
/** The sender, logged in as itself. */
export const SENDER = `alice.martin@${DOMAIN}`;

/** Ours first, then the liste blanche's. */
export const DOMAINS: string[] = [DOMAIN, 'autre.mssante.fr', 'interop-mssante.apicrypt.org', ...Array.from({ length: 47 }, (_, i) => `etab-${i}.mssante.fr`)];

/** 10 recipients: 8 in the list, 2 outside it (refused). */
export function recipients(n: number): string[] {
  return Array.from({ length: 10 }, (_, i) => (i === 3 || i === 7 ? `user${n}.${i}@gmail-${i}.com` : `user${n}.${i}@${DOMAINS[(n + i) % DOMAINS.length]}`));
}

/** The same domain list and count for postfwd: domain list at RCPT, recipient count at DATA. */
export function postfwdRules(): string {
  const alternation = DOMAINS.map((d) => d.replace(/[.-]/g, (c) => `\\${c}`)).join('|');
  return [
    `id=DOMAIN; protocol_state==RCPT; recipient_domain!~^(${alternation})$; action=REJECT 5.7.1 Recipient domain not in the MSSante trust space`,
    `id=COUNT; protocol_state==DATA; recipient_count>${MAX_RECIPIENTS}; action=DEFER 4.5.3 Too many recipients`,
    'id=DEFAULT; action=DUNNO',
    '',
  ].join('\n');
}
