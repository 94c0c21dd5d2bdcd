// SMTP transparency (RFC 5321 §4.5.2) for a message relayed as a stream: a line that
// starts with "." gets one more. A line starts after *any* LF, bare or not, because
// Postfix ends DATA on "<LF>.<CR><LF>" as well as on "<CR><LF>.<CR><LF>": stuffing only
// after CRLF would let a message carry "<LF>.<CR><LF>MAIL FROM:…" and smuggle a second,
// unchecked message into the next hop (SMTP smuggling). Stateful across chunks.

const LF = 0x0a;
const CR = 0x0d;
const DOT = 0x2e;
const DOT_BUFFER = Buffer.from('.');
const CRLF = Buffer.from('\r\n');

export class DotStuffer {
  private atLineStart = true;
  private last = -1;
  private beforeLast = -1;
  /** Bytes of message content seen (before stuffing). */
  bytes = 0;

  /** The chunk with every line-initial dot doubled. */
  push(chunk: Buffer): Buffer {
    if (chunk.length === 0) return chunk;
    this.bytes += chunk.length;
    const parts: Buffer[] = [];
    let from = 0;
    if (this.atLineStart && chunk[0] === DOT) parts.push(DOT_BUFFER);
    let nl = chunk.indexOf(LF);
    while (nl !== -1 && nl + 1 < chunk.length) {
      if (chunk[nl + 1] === DOT) {
        parts.push(chunk.subarray(from, nl + 1), DOT_BUFFER);
        from = nl + 1;
      }
      nl = chunk.indexOf(LF, nl + 1);
    }
    this.atLineStart = chunk[chunk.length - 1] === LF;
    this.beforeLast = chunk.length > 1 ? (chunk[chunk.length - 2] as number) : this.last;
    this.last = chunk[chunk.length - 1] as number;
    if (parts.length === 0) return chunk;
    parts.push(chunk.subarray(from));
    return Buffer.concat(parts);
  }

  /** What ends the DATA: CRLF first if the content did not end with one, then ".CRLF". */
  end(): Buffer {
    const endsWithCrlf = this.beforeLast === CR && this.last === LF;
    return this.bytes === 0 || endsWithCrlf ? Buffer.from('.\r\n') : Buffer.concat([CRLF, Buffer.from('.\r\n')]);
  }
}
