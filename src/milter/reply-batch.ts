// The replies of one drain pass of a milter session, gathered into one buffer and handed to
// the socket with one write. Buffers come from a small process-wide pool and go back to it
// once the socket has written them. A peer that sends tiny packets and reads nothing then
// costs no object per reply (a write request each would live until the kernel takes its
// bytes, long enough to be promoted and make V8 grow its heap) and no new buffer per pass
// (each is memory V8 gives back only at its next collection): issue #21 item 2.
// A pass that answers once — every awaited decision in Postfix's dialogue, 13 per message —
// writes that reply's own buffer as it is (the encoders' cached replies are never
// modified), with no copy, pooled buffer or completion callback: issue 20.
import type net from 'node:net';

/** One batch: the replies to a full 64 KB read of the smallest packets fit in it. */
export const REPLY_BATCH_BYTES = 64 * 1024;
/** Free batches kept for the whole process (a few sessions flushing at once). */
const POOL_MAX = 8;
const pool: Buffer[] = [];

function release(buf: Buffer): void {
  if (pool.length < POOL_MAX) pool.push(buf);
}

export class ReplyBatch {
  private buf: Buffer | undefined;
  private used = 0;
  /** The pass's only reply so far, held as it is; copied into a pooled buffer when a second one comes. */
  private single: Buffer | undefined;

  constructor(private readonly socket: net.Socket) {}

  /** Bytes gathered, not yet handed to the socket. */
  get bytes(): number {
    return this.used + (this.single?.length ?? 0);
  }

  add(reply: Buffer): void {
    if (this.single === undefined && this.buf === undefined && reply.length <= REPLY_BATCH_BYTES) {
      this.single = reply;
      return;
    }
    if (this.single !== undefined) {
      const first = this.single;
      this.single = undefined;
      this.gather(first);
    }
    this.gather(reply);
  }

  private gather(reply: Buffer): void {
    if (this.used + reply.length > REPLY_BATCH_BYTES) this.flush();
    if (reply.length > REPLY_BATCH_BYTES) {
      this.write(reply);
      return;
    }
    this.buf ??= pool.pop() ?? Buffer.allocUnsafeSlow(REPLY_BATCH_BYTES);
    this.used += reply.copy(this.buf, this.used);
  }

  /** Hand what was gathered to the socket; the buffer returns to the pool once written. */
  flush(): void {
    if (this.single !== undefined) {
      // Nothing was gathered beside it (add copies it out when a second reply comes).
      const reply = this.single;
      this.single = undefined;
      this.write(reply);
      return;
    }
    const buf = this.buf;
    const used = this.used;
    this.buf = undefined;
    this.used = 0;
    if (!buf) return;
    if (used === 0 || !this.writable()) {
      release(buf);
      return;
    }
    // The callback runs once the kernel has the bytes, or the write failed: the buffer is free either way.
    this.socket.write(buf.subarray(0, used), () => release(buf));
  }

  private write(reply: Buffer): void {
    if (this.writable()) this.socket.write(reply);
  }

  private writable(): boolean {
    return !this.socket.destroyed && this.socket.writable;
  }
}
