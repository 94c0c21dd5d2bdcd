// The rule both engines enforce in the benchmark: at most 40 recipients per message and
// every recipient domain in a list of 50 MSSanté domains. As a milter handler here, as a
// postfwd ruleset in postfwdRules().
import { decide, type MilterHandler } from '../../src/milter/handler.js';

export const MAX_RECIPIENTS = 40;

export const DOMAINS: string[] = [
  'ch.mssante.fr',
  'autre.mssante.fr',
  'interop-mssante.apicrypt.org',
  ...Array.from({ length: 47 }, (_, i) => `etab-${i}.mssante.fr`),
];

/** 10 recipients: 8 in the list, 2 outside it (refused). */
export function recipients(n: number): string[] {
  return Array.from({ length: 10 }, (_, i) => (i === 3 || i === 7 ? `user${n}.${i}@gmail-${i}.com` : `user${n}.${i}@${DOMAINS[(n + i) % DOMAINS.length]}`));
}

export function policyHandler(): MilterHandler {
  const allowed = new Set(DOMAINS);
  return {
    addsHeaders: false,
    rcpt(ctx, r) {
      const domain = r.address.slice(r.address.lastIndexOf('@') + 1).toLowerCase();
      if (!allowed.has(domain)) return decide.reply(550, '5.7.1', `Recipient domain ${domain} is not in the MSSante trust space`);
      if (ctx.message.recipients.length >= MAX_RECIPIENTS) return decide.reply(452, '4.5.3', `Too many recipients (at most ${MAX_RECIPIENTS})`);
      return undefined;
    },
    eom(ctx) {
      return ctx.message.recipients.length > MAX_RECIPIENTS ? decide.reply(452, '4.5.3', 'Too many recipients') : undefined;
    },
  };
}

/** The same policy for postfwd: domain list at RCPT, recipient count at DATA. */
export function postfwdRules(): string {
  const alternation = DOMAINS.map((d) => d.replace(/[.\-]/g, (c) => `\\${c}`)).join('|');
  return [
    `id=DOMAIN; protocol_state==RCPT; recipient_domain!~^(${alternation})$; action=REJECT 5.7.1 Recipient domain not in the MSSante trust space`,
    `id=COUNT; protocol_state==DATA; recipient_count>${MAX_RECIPIENTS}; action=DEFER 4.5.3 Too many recipients`,
    'id=DEFAULT; action=DUNNO',
    '',
  ].join('\n');
}
