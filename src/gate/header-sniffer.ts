// Reads Subject and Message-ID from the start of a message as it streams past, for the
// functional traces (EX_GDT_5050: identifier, addresses, subject, size) — without keeping
// the message: at most the header block, capped, is held. Also the queue id in the topmost
// Received: header, which the local Postfix wrote (`… (Postfix…) id 4B1C2D3E; …`): Postfix
// sends no XFORWARD IDENT for mail that did not come through its smtpd (sendmail/pickup,
// its own bounces), and the outbound gate still records such mail under its queue id.
const MAX_HEADER_BYTES = 64 * 1024;

export class HeaderSniffer {
  private chunks: Buffer[] = [];
  private held = 0;
  private done = false;
  subject: string | undefined;
  messageId: string | undefined;
  /** The queue id of the first Received: header, if Postfix wrote it. */
  receivedId: string | undefined;
  private sawReceived = false;

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
      else if (name === 'received' && !this.sawReceived) {
        this.sawReceived = true;
        this.receivedId = /\(Postfix[^)]*\)(?:.*?)\sid ([0-9A-Za-z]{6,})\b/.exec(m[2] as string)?.[1];
      }
    }
  }
}
