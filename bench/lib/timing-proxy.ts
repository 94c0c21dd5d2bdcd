// A loopback TCP proxy placed between Postfix and a policy engine (reached over TCP or a unix socket) (the milter or postfwd)
// that times each decision where it matters — from the last byte of a request the engine
// must answer to the last byte of its answer — with the same method for both engines, so
// their latencies compare fairly. It understands just enough of each protocol to find
// where requests and answers end.
import net from 'node:net';
import { PacketDecoder } from '../../src/milter/framing.js';

export type Protocol =
  /** Postfix policy delegation: `name=value` lines, a blank line ends a request or an answer. */
  | { kind: 'policy' }
  /** Milter: requests are packets whose code is in `answered`; answers are packets other than edits. */
  | { kind: 'milter'; answered: string };

export class TimingProxy {
  readonly latenciesNs: number[] = [];
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();

  constructor(
    /** The engine: a loopback TCP port or a unix socket's path. */
    private readonly target: number | string,
    private readonly protocol: Protocol,
  ) {
    this.server = net.createServer((client) => this.pipe(client));
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as net.AddressInfo).port;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private pipe(client: net.Socket): void {
    const upstream = typeof this.target === 'number' ? net.connect(this.target, '127.0.0.1') : net.connect(this.target);
    for (const s of [client, upstream]) {
      s.setNoDelay(true);
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
      s.on('error', () => {});
    }
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    const pending: bigint[] = [];
    const requests = this.requestCounter();
    const answers = this.answerCounter();
    client.on('data', (chunk: Buffer) => {
      upstream.write(chunk);
      const now = process.hrtime.bigint();
      for (let n = requests(chunk); n > 0; n--) pending.push(now);
    });
    upstream.on('data', (chunk: Buffer) => {
      client.write(chunk);
      const now = process.hrtime.bigint();
      for (let n = answers(chunk); n > 0; n--) {
        const t = pending.shift();
        if (t !== undefined) this.latenciesNs.push(Number(now - t));
      }
    });
  }

  /** A function counting the requests a chunk completes. */
  private requestCounter(): (chunk: Buffer) => number {
    if (this.protocol.kind === 'policy') return blankLineCounter();
    const decoder = new PacketDecoder(16 * 1024 * 1024);
    const answered = this.protocol.answered;
    return (chunk) => decoder.push(chunk).filter((p) => answered.includes(p.code)).length;
  }

  private answerCounter(): (chunk: Buffer) => number {
    if (this.protocol.kind === 'policy') return blankLineCounter();
    const decoder = new PacketDecoder(16 * 1024 * 1024);
    return (chunk) => decoder.push(chunk).filter((p) => p.code !== 'h' && p.code !== 'i' && p.code !== 'p').length;
  }
}

/** Counts "\n\n" sequences across chunk boundaries. */
function blankLineCounter(): (chunk: Buffer) => number {
  let last = 0;
  return (chunk) => {
    let n = 0;
    for (const byte of chunk) {
      if (byte === 10 && last === 10) n++;
      last = byte;
    }
    return n;
  };
}
