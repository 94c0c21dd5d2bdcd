// What a rule answers when a message (or one recipient) breaks it: the SMTP reply the sender
// sees, in ASCII, saying which address or domain and why, and the rule it comes from (the
// Référentiel's ID, or the section when the rule has none), for logs, traces and monitor mode.

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

export interface Refusal {
  readonly rule: RuleName;
  /** Requirement ID (EX_GBM_4420) or section (§5.4.3) the rule enforces. */
  readonly ref: string;
  readonly code: number;
  readonly status: string;
  readonly text: string;
}

export function refusal(rule: RuleName, ref: string, code: number, status: string, text: string): Refusal {
  return { rule, ref, code, status, text };
}

/** An address or domain fit for an SMTP reply: printable ASCII, bounded (SMTPUTF8 addresses show as `?`). */
export function shown(value: string, max = 120): string {
  const ascii = value.replace(/[^\x20-\x7e]/g, '?');
  return ascii.length > max ? `${ascii.slice(0, max - 3)}...` : ascii;
}

/** `550 5.7.1 text`, as logs and traces show a refusal. */
export function replyLine(r: Refusal): string {
  return `${r.code} ${r.status} ${r.text}`;
}

/**
 * The refusal for a client that would resend what a temporary answer leaves out: Postfix
 * itself, for local submission and at the outbound gate. EX_GBM_4420's 452 4.5.3 tells an LPS
 * to send the other recipients in another message; Postfix would retry the whole message, or
 * deliver the rest later, so the recipient limit becomes permanent (550 5.5.3) there. Other
 * temporary refusals (no liste blanche yet) stay temporary.
 */
export function permanentForPostfix(r: Refusal): Refusal {
  return r.rule === 'recipient-limit' ? { ...r, code: 550, status: `5${r.status.slice(1)}` } : r;
}
