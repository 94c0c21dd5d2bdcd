// The beginning of a message read from Postfix while the outbound gate waits for the remote
// servers' 354 (issue 20). smtp-server stops reading its socket once 16 KB of content wait
// unread; Postfix's lmtp client then blocks on its own writes, and after the 354 the rest
// comes through a ping-pong of wake-ups between Postfix and the gate (5–20 ms per message
// on a loaded machine, measured with the gate's phase timings). Reading up to `maxBytes`
// meanwhile lets Postfix write a whole ordinary message at once, and the gate send it on in
// one write as soon as the 354 comes. Bounded: at most `maxBytes` per delivery are held
// (the rest is read as it is sent, as before); nothing is sent or answered earlier.
import type { Readable } from 'node:stream';

export class ContentPrefetch {
  private readonly chunks: Buffer[] = [];
  private bytes = 0;
  private stopped = false;
  private finished = false;
  private failure: unknown;
  private readonly pulling: Promise<void>;
  private readonly iterator: AsyncIterator<Buffer>;

  /** Starts reading `stream` at once; `onChunk` sees every chunk in order, as it is read. */
  constructor(
    stream: Readable,
    private readonly maxBytes: number,
    private readonly onChunk?: (chunk: Buffer) => void,
  ) {
    this.iterator = (stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
    this.pulling = this.pull();
  }

  private async pull(): Promise<void> {
    try {
      while (!this.stopped && this.bytes < this.maxBytes) {
        const next = await this.iterator.next();
        if (next.done) {
          this.finished = true;
          return;
        }
        this.onChunk?.(next.value);
        this.chunks.push(next.value);
        this.bytes += next.value.length;
      }
    } catch (err) {
      this.failure = err;
    }
  }

  /** Read the rest and drop it (no session to send it to): smtp-server answers once the content has ended. */
  async discard(): Promise<void> {
    const rest = this.content();
    while (!(await rest.next()).done);
  }

  /**
   * Stop reading ahead (a read under way completes), then the chunks read so far, followed
   * by the rest of the stream as it comes (each rest chunk also goes to `onChunk`).
   */
  async *content(): AsyncGenerator<Buffer> {
    this.stopped = true;
    await this.pulling;
    if (this.failure !== undefined) throw this.failure;
    yield* this.chunks.splice(0);
    if (this.finished) return;
    for (;;) {
      const next = await this.iterator.next();
      if (next.done) return;
      this.onChunk?.(next.value);
      yield next.value;
    }
  }
}
