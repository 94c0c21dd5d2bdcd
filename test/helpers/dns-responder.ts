// A tiny authoritative DNS server on loopback UDP for tests: answers SRV questions from a
// table, NXDOMAIN for unknown names, and can be told to fail (SERVFAIL) or to stay silent.
import dgram from 'node:dgram';

export interface Srv {
  priority: number;
  weight: number;
  port: number;
  target: string;
}

export class DnsResponder {
  readonly records = new Map<string, Srv[]>();
  mode: 'answer' | 'servfail' | 'silent' = 'answer';
  private socket = dgram.createSocket('udp4');
  port = 0;

  async start(): Promise<void> {
    this.socket.on('message', (msg, rinfo) => {
      const reply = this.answer(msg);
      if (reply) this.socket.send(reply, rinfo.port, rinfo.address);
    });
    await new Promise<void>((resolve) => this.socket.bind(0, '127.0.0.1', resolve));
    this.port = this.socket.address().port;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }

  set(name: string, srv: Srv[]): this {
    this.records.set(name.toLowerCase(), srv);
    return this;
  }

  private answer(query: Buffer): Buffer | undefined {
    if (this.mode === 'silent' || query.length < 12) return undefined;
    let offset = 12;
    const labels: string[] = [];
    while (offset < query.length && query[offset] !== 0) {
      const len = query[offset] as number;
      labels.push(query.subarray(offset + 1, offset + 1 + len).toString('ascii'));
      offset += len + 1;
    }
    const questionEnd = offset + 5;
    const qtype = query.readUInt16BE(offset + 1);
    const name = labels.join('.').toLowerCase();
    const srv = qtype === 33 ? this.records.get(name) : undefined;
    const rcode = this.mode === 'servfail' ? 2 : this.records.has(name) ? 0 : 3;
    const header = Buffer.alloc(12);
    query.copy(header, 0, 0, 2);
    header.writeUInt16BE(0x8400 | (query.readUInt16BE(2) & 0x0100) | 0x0080 | rcode, 2);
    header.writeUInt16BE(1, 4);
    const answers = rcode === 0 && srv ? srv.map((r) => record(r)) : [];
    header.writeUInt16BE(answers.length, 6);
    return Buffer.concat([header, query.subarray(12, questionEnd), ...answers]);
  }
}

function encodeName(name: string): Buffer {
  const parts = name.replace(/\.$/, '').split('.').filter(Boolean);
  return Buffer.concat([...parts.map((p) => Buffer.concat([Buffer.from([p.length]), Buffer.from(p, 'ascii')])), Buffer.from([0])]);
}

function record(r: Srv): Buffer {
  const target = encodeName(r.target);
  const fixed = Buffer.alloc(12 + 6);
  fixed.writeUInt16BE(0xc00c, 0); // the question's name
  fixed.writeUInt16BE(33, 2); // SRV
  fixed.writeUInt16BE(1, 4); // IN
  fixed.writeUInt32BE(300, 6);
  fixed.writeUInt16BE(6 + target.length, 10);
  fixed.writeUInt16BE(r.priority, 12);
  fixed.writeUInt16BE(r.weight, 14);
  fixed.writeUInt16BE(r.port, 16);
  return Buffer.concat([fixed, target]);
}
