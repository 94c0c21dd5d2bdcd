// A custom SMTP reply a rule sends back through the MTA (SMFIR_REPLYCODE). It is checked
// here, before it reaches the wire, because Postfix treats a malformed reply as a milter
// configuration error (it then applies milter_default_action to the whole session) and a
// CR/LF in a text would let a rule inject SMTP lines.
import { MssError } from '../errors.js';

export interface SmtpReply {
  /** 4xx (temporary) or 5xx (permanent): a milter reply can only refuse. */
  code: number;
  /** RFC 3463 enhanced status whose class matches the code: `5.7.1` with 550. */
  status: string;
  /** One line, or several for a multi-line reply; printable ASCII only. */
  text: string | readonly string[];
}

/** RFC 5321 §4.5.3.1.5: a reply line is at most 512 octets including CRLF. */
const MAX_LINE = 512;
const MAX_LINES = 20;
const STATUS = /^([45])\.[0-9]{1,3}\.[0-9]{1,3}$/;
const PRINTABLE = /^[\x20-\x7e]*$/;

function invalid(why: string, reply: SmtpReply): MssError {
  return new MssError('MILTER_REPLY_INVALID', `invalid SMTP reply from the milter handler: ${why}`, { code: reply.code, status: reply.status });
}

/**
 * The SMFIR_REPLYCODE text for a reply: `550 5.7.1 text`, or
 * `550-5.7.1 first\r\n550 5.7.1 last` for several lines. Throws MILTER_REPLY_INVALID.
 */
export function formatReply(reply: SmtpReply): string {
  const { code, status } = reply;
  if (!Number.isInteger(code) || code < 400 || code > 599) throw invalid(`code ${String(code)} is not 4xx or 5xx`, reply);
  const m = STATUS.exec(status);
  if (!m) throw invalid(`enhanced status "${status}" is not of the form 4.x.y or 5.x.y`, reply);
  if (m[1] !== String(code)[0]) throw invalid(`enhanced status ${status} does not match the class of ${code}`, reply);
  // One line, the usual case (every refusal of the rules), without the array and joins
  // (issue 20: this runs twice per refusal, at the decision and on the wire).
  if (typeof reply.text === 'string') return replyLine(reply, code, status, reply.text, true);
  const lines = [...reply.text];
  if (lines.length === 0) throw invalid('no text', reply);
  if (lines.length > MAX_LINES) throw invalid(`${lines.length} lines, at most ${MAX_LINES}`, reply);
  return lines.map((line, i) => replyLine(reply, code, status, line, i === lines.length - 1)).join('\r\n');
}

function replyLine(reply: SmtpReply, code: number, status: string, line: string, last: boolean): string {
  if (!PRINTABLE.test(line)) throw invalid('text must be printable ASCII without CR, LF or NUL', reply);
  // Postfix, like Sendmail, reads the reply as a format string: '%' must be doubled.
  const escaped = line.includes('%') ? line.replace(/%/g, '%%') : line;
  const out = `${code}${last ? ' ' : '-'}${status} ${escaped}`;
  if (out.length + 2 > MAX_LINE) throw invalid(`a line of ${line.length} characters is longer than an SMTP reply line allows`, reply);
  return out;
}

/** The inverse of formatReply, for tests and tools that play the MTA. */
export function parseReplyText(wire: string): SmtpReply {
  const lines = wire.split('\r\n');
  const first = /^([45][0-9]{2})[ -]([45]\.[0-9]{1,3}\.[0-9]{1,3}) /.exec(lines[0] ?? '');
  if (!first) throw new MssError('MILTER_REPLY_INVALID', `not an SMTP reply: ${JSON.stringify(wire.slice(0, 80))}`);
  const prefix = (first[1] ?? '').length + 1 + (first[2] ?? '').length + 1;
  const text = lines.map((l) => l.slice(prefix).replace(/%%/g, '%'));
  return { code: Number(first[1]), status: first[2] ?? '', text: text.length === 1 ? (text[0] ?? '') : text };
}
