// A loopback DNS responder (UDP) for the sandbox and the gate tests: MX and A records of
// the simulated operators, so the outbound gate finds receiving connectors exactly as it
// does in production (RFC 5321 §5.1: MX, then A), and the SRV records of TM5.1P (RFC 2782)
// that LPS read, so that `autoconfig check` passes against the sandbox. Answers NXDOMAIN
// for unknown names and an empty answer for a known name without the type asked. Just
// enough of RFC 1035 for that.
import dgram from 'node:dgram';

export interface DnsZone {
  /** name → MX records. */
  mx?: Record<string, Array<{ priority: number; exchange: string }>>;
  /** name → IPv4 addresses. */
  a?: Record<string, string[]>;
  /** name (e.g. _imap._tcp.example.fr) → SRV records. */
  srv?: Record<string, Array<{ priority: number; weight: number; port: number; target: string }>>;
}

const TYPE_A = 1;
const TYPE_MX = 15;
const TYPE_SRV = 33;

function encodeName(name: string): Buffer {
  const parts = name.replace(/\.$/, '').split('.').filter(Boolean);
  return Buffer.concat([...parts.map((p) => Buffer.concat([Buffer.from([p.length]), Buffer.from(p, 'ascii')])), Buffer.from([0])]);
}

function readName(buf: Buffer, offset: number): { name: string; end: number } {
  const labels: string[] = [];
  let i = offset;
  for (;;) {
    const len = buf[i];
    if (len === undefined) throw new Error('truncated name');
    if (len === 0) return { name: labels.join('.').toLowerCase(), end: i + 1 };
    if (len >= 0xc0) throw new Error('compressed names are not expected in questions');
    labels.push(buf.subarray(i + 1, i + 1 + len).toString('ascii'));
    i += 1 + len;
  }
}

function record(type: number, rdata: Buffer): Buffer {
  const head = Buffer.alloc(12);
  head.writeUInt16BE(0xc00c, 0); // pointer to the question's name
  head.writeUInt16BE(type, 2);
  head.writeUInt16BE(1, 4); // IN
  head.writeUInt32BE(60, 6); // TTL
  head.writeUInt16BE(rdata.length, 10);
  return Buffer.concat([head, rdata]);
}

export class DnsResponder {
  private readonly socket = dgram.createSocket('udp4');
  /** Queries received (answered unless silent), for tests and benches. */
  queries: Array<{ name: string; type: number; at: number }> = [];

  /**
   * `silent`: record every question and never answer, like a resolver whose packets are
   * lost; each lookup then waits for the client's whole timeout (bench/lps-login.ts).
   */
  constructor(
    public zone: DnsZone,
    private readonly opts: { silent?: boolean } = {},
  ) {}

  async start(port = 0, host = '127.0.0.1'): Promise<void> {
    this.socket.on('message', (msg, rinfo) => {
      const answer = this.answer(msg);
      if (answer) this.socket.send(answer, rinfo.port, rinfo.address);
    });
    await new Promise<void>((resolve, reject) => {
      this.socket.once('error', reject);
      this.socket.bind(port, host, () => resolve());
    });
  }

  get address(): string {
    const a = this.socket.address();
    return `${a.address}:${a.port}`;
  }

  private answer(msg: Buffer): Buffer | undefined {
    if (msg.length < 12) return undefined;
    let q: { name: string; end: number };
    try {
      q = readName(msg, 12);
    } catch {
      return undefined;
    }
    const type = msg.readUInt16BE(q.end);
    this.queries.push({ name: q.name, type, at: Date.now() });
    if (this.opts.silent) return undefined;
    const question = msg.subarray(12, q.end + 4);
    const mx = this.zone.mx?.[q.name];
    const a = this.zone.a?.[q.name];
    const srv = this.zone.srv?.[q.name];
    const known = mx !== undefined || a !== undefined || srv !== undefined;
    const answers: Buffer[] = [];
    if (type === TYPE_MX && mx) {
      for (const r of mx) {
        const pref = Buffer.alloc(2);
        pref.writeUInt16BE(r.priority, 0);
        answers.push(record(TYPE_MX, Buffer.concat([pref, encodeName(r.exchange)])));
      }
    } else if (type === TYPE_A && a) {
      for (const ip of a) answers.push(record(TYPE_A, Buffer.from(ip.split('.').map(Number))));
    } else if (type === TYPE_SRV && srv) {
      for (const r of srv) {
        const fixed = Buffer.alloc(6);
        fixed.writeUInt16BE(r.priority, 0);
        fixed.writeUInt16BE(r.weight, 2);
        fixed.writeUInt16BE(r.port, 4);
        answers.push(record(TYPE_SRV, Buffer.concat([fixed, encodeName(r.target)])));
      }
    }
    const header = Buffer.alloc(12);
    header.writeUInt16BE(msg.readUInt16BE(0), 0); // id
    // QR, opcode 0, AA, RD copied; RA; rcode NXDOMAIN (3) for unknown names.
    header.writeUInt16BE(0x8400 | (msg.readUInt16BE(2) & 0x0100) | 0x0080 | (known ? 0 : 3), 2);
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(answers.length, 6);
    return Buffer.concat([header, question, ...answers]);
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}
