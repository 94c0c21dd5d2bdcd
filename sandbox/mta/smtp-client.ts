// A deliberately raw SMTP/LMTP test driver: one command, one reply, so tests and the sandbox
// self-check see the exact lines a server answered at each step. Not the product's client
// (src/gate/smtp-client.ts, which the sandbox's gate checks use too): this one does what a
// product client must never do, on purpose — write any bytes (a bare LF, a 24 MB flood, a
// PROXY header of the fronts), never enforce a deadline per command, and answer a closed
// connection with a pseudo-reply (code 0) instead of an error, so a test asserts on what the
// server did rather than on how a client gave up. Supports STARTTLS with a client
// certificate, AUTH PLAIN and DATA.
import net from 'node:net';
import tls from 'node:tls';
import { upgradeToTls } from '../../src/net/client-tls.js';

/** A reply as the server wrote it, unparsed (the product's parsed one: src/gate/reply.ts Reply). */
export interface RawReply {
  code: number;
  /** Every line of the reply, without the code and separator. */
  lines: string[];
  text: string;
}

export class SmtpClient {
  private socket: net.Socket | tls.TLSSocket;
  private buffer = '';
  private waiters: Array<(r: RawReply) => void> = [];
  private replies: RawReply[] = [];
  private closed = false;
  greeting!: RawReply;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    this.attach(socket);
  }

  /**
   * `proxy`: send a PROXY protocol v1 header first, as the mss-sidecar fronts do, for a
   * listener with `smtpd_upstream_proxy_protocol = haproxy` (the shipped submission service).
   */
  static async connect(port: number, host = '127.0.0.1', timeoutMs = 10_000, opts: { proxy?: boolean } = {}): Promise<SmtpClient> {
    const socket = net.connect({ host, port });
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`SMTP client timeout after ${timeoutMs} ms`)));
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    if (opts.proxy) socket.write(`PROXY TCP4 ${socket.localAddress} ${socket.remoteAddress} ${socket.localPort} ${socket.remotePort}\r\n`);
    const client = new SmtpClient(socket);
    client.greeting = await client.read();
    return client;
  }

  private attach(socket: net.Socket | tls.TLSSocket): void {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      this.parse();
    });
    socket.on('close', () => {
      this.closed = true;
      // Wake readers with a pseudo-reply so a test sees "connection closed" instead of hanging.
      for (const w of this.waiters.splice(0)) w({ code: 0, lines: ['connection closed'], text: 'connection closed' });
    });
    socket.on('error', () => {});
  }

  private parse(): void {
    let current: string[] = [];
    for (;;) {
      const nl = this.buffer.indexOf('\n');
      if (nl < 0) return;
      const line = this.buffer.slice(0, nl).replace(/\r$/, '');
      this.buffer = this.buffer.slice(nl + 1);
      current.push(line);
      if (line.length < 4 || line[3] !== '-') {
        const code = Number(line.slice(0, 3));
        const lines = current.map((l) => l.slice(4));
        const reply = { code, lines, text: lines.join('\n') };
        current = [];
        const w = this.waiters.shift();
        if (w) w(reply);
        else this.replies.push(reply);
      }
    }
  }

  read(): Promise<RawReply> {
    const r = this.replies.shift();
    if (r) return Promise.resolve(r);
    if (this.closed) return Promise.resolve({ code: 0, lines: ['connection closed'], text: 'connection closed' });
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  async command(line: string): Promise<RawReply> {
    this.socket.write(`${line}\r\n`);
    return this.read();
  }

  /** STARTTLS then a TLS handshake with the given options (client cert, ciphers, versions...). */
  async startTls(options: tls.ConnectionOptions = {}): Promise<{ reply: RawReply; socket: tls.TLSSocket }> {
    const reply = await this.command('STARTTLS');
    if (reply.code !== 220) throw new Error(`STARTTLS refused: ${reply.code} ${reply.text}`);
    const secure = await upgradeToTls(this.socket as net.Socket, options);
    this.socket = secure;
    this.buffer = '';
    this.attach(secure);
    return { reply, socket: secure };
  }

  /** AUTH PLAIN with an initial response (RFC 4954), no authorization identity. */
  authPlain(user: string, password: string): Promise<RawReply> {
    return this.command(`AUTH PLAIN ${Buffer.from(`\0${user}\0${password}`).toString('base64')}`);
  }

  /** DATA, the message (dot-stuffed here), and the final reply. Returns [354 reply, final reply]. */
  async data(message: string | Buffer): Promise<[RawReply, RawReply]> {
    const go = await this.command('DATA');
    if (go.code !== 354) return [go, go];
    const text = Buffer.isBuffer(message) ? message.toString('binary') : message;
    const body = text.replace(/\r?\n/g, '\r\n').replace(/^\./gm, '..');
    this.socket.write(body.endsWith('\r\n') ? body : `${body}\r\n`, 'binary');
    this.socket.write('.\r\n');
    return [go, await this.read()];
  }

  /** Write raw bytes (for streaming large bodies in tests); the caller reads the reply. */
  write(chunk: string | Buffer): boolean {
    return this.socket.write(chunk);
  }

  get tlsSocket(): tls.TLSSocket | undefined {
    return this.socket instanceof tls.TLSSocket ? this.socket : undefined;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  async quit(): Promise<void> {
    if (!this.closed) {
      this.socket.write('QUIT\r\n');
      await Promise.race([this.read(), new Promise((r) => setTimeout(r, 500))]);
    }
    this.socket.destroy();
  }
}

/** A minimal RFC 5322 message. */
export function message(opts: { from: string; to: string[]; subject?: string; headers?: Record<string, string>; body?: string }): string {
  const lines = [
    `From: <${opts.from}>`,
    `To: ${opts.to.map((t) => `<${t}>`).join(', ')}`,
    `Subject: ${opts.subject ?? 'test'}`,
    `Date: ${new Date().toUTCString()}`,
    `Message-ID: <${Math.random().toString(36).slice(2)}@test>`,
    ...Object.entries(opts.headers ?? {}).map(([k, v]) => `${k}: ${v}`),
    '',
    opts.body ?? 'hello',
  ];
  return `${lines.join('\r\n')}\r\n`;
}
