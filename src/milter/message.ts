// What a session knows about the message in progress: envelope, headers (bounded, so a
// message with a million headers cannot exhaust memory), and sizes. The body is counted,
// never kept: no rule needs its content and a 10 MB attachment should cost nothing.
import { MssError } from '../errors.js';
import type { EnvelopeAddress, HeaderField, MessageView } from './handler.js';

export interface MessageLimits {
  /** Headers kept per message; later ones are counted, not stored. */
  maxHeaders: number;
  /** Bytes of headers kept per message. */
  maxHeaderBytes: number;
}

export const DEFAULT_MESSAGE_LIMITS: MessageLimits = { maxHeaders: 1000, maxHeaderBytes: 256 * 1024 };

export class MessageState implements MessageView {
  sender: EnvelopeAddress | undefined;
  readonly recipients: EnvelopeAddress[] = [];
  readonly headers: HeaderField[] = [];
  /** The kept headers' names in lower case, in the same order (lookups compare with them). */
  private readonly lowerNames: string[] = [];
  headersTruncated = false;
  headerBytes = 0;
  bodyBytes = 0;
  private keptBytes = 0;

  constructor(private readonly limits: MessageLimits) {}

  /** The message as received: header section, the empty line that ends it, body. */
  get size(): number {
    return this.headerBytes + 2 + this.bodyBytes;
  }

  addHeader(field: HeaderField): void {
    const size = headerLineBytes(field);
    this.headerBytes += size;
    if (this.headers.length >= this.limits.maxHeaders || this.keptBytes + size > this.limits.maxHeaderBytes) {
      this.headersTruncated = true;
      return;
    }
    this.keptBytes += size;
    this.headers.push(field);
    this.lowerNames.push(field.name.toLowerCase());
  }

  // The rules and the recorder look up about ten names per message: each header's name is
  // lowered once, when it comes, not at every lookup (issue 20).
  header(name: string): string | undefined {
    const i = this.lowerNames.indexOf(name.toLowerCase());
    return i < 0 ? undefined : this.headers[i]?.value;
  }

  headerAll(name: string): string[] {
    const lower = name.toLowerCase();
    const out: string[] = [];
    for (let i = 0; i < this.lowerNames.length; i++) if (this.lowerNames[i] === lower) out.push(this.headers[i]?.value ?? '');
    return out;
  }
}

/**
 * Bytes of `Name: value\r\n` on the wire: UTF-8 bytes, and a CRLF where the MTA hands over
 * a folded value joined by a bare LF (the size EX_GBM_4410 and the statistics count).
 */
export function headerLineBytes(field: HeaderField): number {
  let folds = 0;
  for (let i = field.value.indexOf('\n'); i >= 0; i = field.value.indexOf('\n', i + 1)) if (field.value.charCodeAt(i - 1) !== 13) folds++;
  return Buffer.byteLength(field.name) + 2 + Buffer.byteLength(field.value) + folds + 2;
}

/** `<a@b>` plus ESMTP parameters, as Postfix sends MAIL and RCPT arguments. */
export function parseEnvelope(args: readonly string[]): EnvelopeAddress {
  const raw = (args[0] ?? '').trim();
  const address = raw.startsWith('<') && raw.endsWith('>') ? raw.slice(1, -1) : raw;
  const params: Record<string, string | true> = {};
  for (let i = 1; i < args.length; i++) {
    const arg = args[i] as string;
    const eq = arg.indexOf('=');
    if (eq < 0) params[arg.toUpperCase()] = true;
    else params[arg.slice(0, eq).toUpperCase()] = arg.slice(eq + 1);
  }
  return { address, params };
}

// RFC 5322 field name: printable ASCII except colon.
const FIELD_NAME = /^[\x21-\x39\x3b-\x7e]{1,100}$/;
// A value: printable text and tabs; a line break only as folding (followed by space or tab).
const FIELD_VALUE = /^(?:[\t\x20-\x7e\x80-\uffff]|\r?\n[\t ])*$/;
const MAX_VALUE = 64 * 1024;

/** Reject a header a handler wants to add that would corrupt the message or inject lines. */
export function checkHeader(name: string, value: string): void {
  if (!FIELD_NAME.test(name)) throw new MssError('MILTER_HEADER_INVALID', `header name ${JSON.stringify(name.slice(0, 40))} is not an RFC 5322 field name`);
  if (value.length > MAX_VALUE || !FIELD_VALUE.test(value)) {
    throw new MssError('MILTER_HEADER_INVALID', `value of header ${name} has a NUL, a control character or a line break that is not folding`);
  }
}
