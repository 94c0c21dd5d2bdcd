// An SMTP reply as our services give and relay it: code, RFC 3463 enhanced status, text. One
// vocabulary for the gates and the sending rules (src/submission/refusal.ts): every refusal of
// ours reads "550 5.7.1 <why, naming the DN, domain, address or list>" and carries a stable
// reason (GATE_… for the gates, the rule's name for the sending rules) and, for a rule of the
// Référentiel, its ID. The gates write the enhanced status into the text themselves
// (smtp-server's automatic one cannot say 5.7.1 or 5.2.1). The text is what the sender reads,
// in the bounce Postfix returns or in the mail client: written for a person (RE_GBM_4410).

export interface Reply {
  code: number;
  /** "5.7.1"; empty when the peer gave none. */
  enhanced: string;
  text: string;
  /** Every line as received, for multi-line replies (EHLO keywords). */
  lines?: readonly string[];
}

export interface Refusal<Reason extends string = string> extends Reply {
  /** Stable identifier (GATE_…, or the sending rule's name), for traces, logs and tests. */
  reason: Reason;
  /** The requirement ID (EX_GBM_4420) or section (§5.4.3) the refusal enforces, when one rule of the Référentiel does. */
  ref?: string;
}

export function refusal<R extends string>(reason: R, code: number, enhanced: string, text: string): Refusal<R>;
export function refusal<R extends string>(reason: R, code: number, enhanced: string, text: string, ref: string): Refusal<R> & { ref: string };
export function refusal<R extends string>(reason: R, code: number, enhanced: string, text: string, ref?: string): Refusal<R> {
  return ref === undefined ? { reason, code, enhanced, text } : { reason, code, enhanced, text, ref };
}

const ENHANCED = /^([245]\.\d{1,3}\.\d{1,3})(?:\s+|$)/;

/** "550 5.7.1 text" on one line (CR/LF of relayed text flattened). */
export function formatReply(r: Reply): string {
  return `${r.code}${r.enhanced ? ` ${r.enhanced}` : ''}${r.text ? ` ${oneLine(r.text)}` : ''}`;
}

/** The message part smtp-server writes after the code (it adds no enhanced status). */
export function replyMessage(r: Reply): string {
  return `${r.enhanced ? `${r.enhanced} ` : ''}${oneLine(r.text)}`;
}

/** An Error smtp-server turns into this reply (responseCode + message). */
export function replyError(r: Reply): Error & { responseCode: number } {
  return Object.assign(new Error(replyMessage(r)), { responseCode: r.code });
}

/**
 * One line of printable ASCII: CR/LF flattened, controls blanked, accents dropped
 * ("MSSanté" → "MSSante", "Rhône" → "Rhone") and anything else non-ASCII as `?`. Without
 * SMTPUTF8 an SMTP reply is ASCII (RFC 5321 §2.4, RFC 6531 §3.7.4.2 only lets UTF-8 through
 * once both sides agreed to it), and the gates' replies name DNs and the liste blanche.
 */
export function oneLine(text: string): string {
  return (
    text
      .replace(/[\r\n]+/g, ' ')
      // eslint-disable-next-line no-control-regex -- control characters never reach a reply line
      .replace(/[\x00-\x1f\x7f]/g, ' ')
      .normalize('NFKD')
      .replace(/[\u0300-\u036f]/g, '')
      .replace(/[^\x20-\x7e]/g, '?')
      .trim()
  );
}

/** Split "5.1.1 text" into enhanced status and text. */
export function parseReplyText(code: number, lines: readonly string[]): Reply {
  const joined = lines
    .map((l) => l.replace(ENHANCED, ''))
    .join(' ')
    .trim();
  const m = ENHANCED.exec(lines[0] ?? '');
  return { code, enhanced: m?.[1] ?? '', text: joined, lines };
}

export const isPositive = (r: Reply): boolean => r.code >= 200 && r.code < 400;
export const isTemporary = (r: Reply): boolean => r.code >= 400 && r.code < 500;
export const isPermanent = (r: Reply): boolean => r.code >= 500;
