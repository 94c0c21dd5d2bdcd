// A Postfix policy delegation client (the protocol smtpd speaks to check_policy_service), to
// drive postfwd directly: one request, one `action=...` answer, on a kept-open connection
// (as smtpd keeps its policy connection). Lean in the same way as the milter's load
// generator (milter-load.ts; bench/milter.ts, fairness notes): requests come pre-encoded
// (encodeRequest, before the measured phases), a message's requests are sent one after the
// other with one promise per message, and answers are only cut at their blank line and
// checked for REJECT, with no string decoding or copy unless an answer arrives split.
import type net from 'node:net';
import { connectTo, type EngineAddress } from './milter-load.js';

const END = Buffer.from('\n\n');
const REJECT = Buffer.from('action=REJECT');

/** One request as smtpd sends it: `name=value` lines after `request=smtpd_access_policy`, then a blank line. */
export function encodeRequest(attrs: Record<string, string | number>): Buffer {
  return Buffer.from(
    `request=smtpd_access_policy\n${Object.entries(attrs)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n')}\n\n`,
  );
}

export class PolicyClient {
  private held: Buffer | undefined;
  private requests: readonly Buffer[] = [];
  private index = 0;
  private refusals = 0;
  private sent = 0n;
  private latencies: number[] = [];
  private done: ((refusals: number) => void) | undefined;

  private constructor(private readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => {});
  }

  static async connect(address: EngineAddress): Promise<PolicyClient> {
    const socket = connectTo(address);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new PolicyClient(socket);
  }

  /** Send `requests` one after the other, each once the previous is answered; resolves with the REJECT count. */
  runMessage(requests: readonly Buffer[], latencies: number[]): Promise<number> {
    return new Promise((resolve) => {
      this.requests = requests;
      this.index = 0;
      this.refusals = 0;
      this.latencies = latencies;
      this.done = resolve;
      this.next();
    });
  }

  private next(): void {
    const r = this.requests[this.index];
    if (!r) {
      this.done?.(this.refusals);
      return;
    }
    this.sent = process.hrtime.bigint();
    this.socket.write(r);
  }

  private onData(chunk: Buffer): void {
    const buf = this.held ? Buffer.concat([this.held, chunk]) : chunk;
    this.held = undefined;
    let at = 0;
    for (let end = buf.indexOf(END, at); end >= 0; end = buf.indexOf(END, at)) {
      if (end - at >= REJECT.length && buf.compare(REJECT, 0, REJECT.length, at, at + REJECT.length) === 0) this.refusals++;
      at = end + END.length;
      this.latencies.push(Number(process.hrtime.bigint() - this.sent));
      this.index++;
      this.next();
    }
    if (at < buf.length) this.held = buf.subarray(at);
  }

  close(): void {
    this.socket.destroy();
  }
}
