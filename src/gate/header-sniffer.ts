// Reads Subject and Message-ID from the start of a message as it streams past, for the
// functional traces (EX_GDT_5050: identifier, addresses, subject, size) — without keeping
// the message: at most the header block, capped, is held.
const MAX_HEADER_BYTES = 64 * 1024;

export class HeaderSniffer {
  private chunks: Buffer[] = [];
  private held = 0;
  private done = false;
  subject: string | undefined;
  messageId: string | undefined;

  push(chunk: Buffer): void {
    if (this.done) return;
    this.chunks.push(chunk);
    this.held += chunk.length;
    const head = Buffer.concat(this.chunks);
    const end = head.indexOf('\r\n\r\n') >= 0 ? head.indexOf('\r\n\r\n') : head.indexOf('\n\n');
    if (end < 0 && this.held < MAX_HEADER_BYTES) return;
    this.parse(head.subarray(0, end < 0 ? MAX_HEADER_BYTES : end).toString('utf8'));
    this.chunks = [];
    this.done = true;
  }

  /** Parse what arrived if the message ended inside its header. */
  finish(): void {
    if (!this.done) this.push(Buffer.from('\r\n\r\n'));
  }

  private parse(header: string): void {
    const unfolded = header.replace(/\r?\n[ \t]+/g, ' ');
    for (const line of unfolded.split(/\r?\n/)) {
      const m = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(line);
      if (!m) continue;
      const name = (m[1] as string).toLowerCase();
      if (name === 'subject' && this.subject === undefined) this.subject = (m[2] as string).slice(0, 998);
      else if (name === 'message-id' && this.messageId === undefined) this.messageId = (m[2] as string).slice(0, 998);
    }
  }
}
