// What a rule answers when a message (or one recipient) breaks it: a refusal of the one SMTP
// vocabulary (src/gate/reply.ts) whose reason is the rule's name and whose ref is the
// Référentiel's ID (or the section when the rule has none), for logs, traces and monitor mode;
// its text says, in ASCII, which address or domain and why.
import { refusal, type Refusal as SmtpRefusal } from '../gate/reply.js';

export { refusal };

export type RuleName =
  | 'authentication'
  | 'local-submission'
  | 'sender-rights'
  | 'mailbox-status'
  | 'trust-space'
  | 'recipient-limit'
  | 'message-size'
  | 'test-mailbox'
  | 'rate-limit'
  | 'rules-unavailable'
  | 'recording';

/** A sending rule's refusal: always names the requirement (or section) it enforces. */
export type Refusal = SmtpRefusal<RuleName> & { readonly ref: string };

/** An address or domain fit for an SMTP reply: printable ASCII, bounded (SMTPUTF8 addresses show as `?`). */
export function shown(value: string, max = 120): string {
  const ascii = value.replace(/[^\x20-\x7e]/g, '?');
  return ascii.length > max ? `${ascii.slice(0, max - 3)}...` : ascii;
}

/** `550 5.7.1 text`, as logs and traces show a refusal. */
export function replyLine(r: Refusal): string {
  return `${r.code} ${r.enhanced} ${r.text}`;
}

/**
 * The refusal for a client that would resend what a temporary answer leaves out: Postfix
 * itself, for local submission and at the outbound gate. EX_GBM_4420's 452 4.5.3 tells an LPS
 * to send the other recipients in another message; Postfix would retry the whole message, or
 * deliver the rest later, so the recipient limit becomes permanent (550 5.5.3) there. Other
 * temporary refusals (no liste blanche yet) stay temporary.
 */
export function permanentForPostfix(r: Refusal): Refusal {
  return r.reason === 'recipient-limit' ? { ...r, code: 550, enhanced: `5${r.enhanced.slice(1)}` } : r;
}
