// The SMTP client both gates speak with: gate in to the loopback Postfix (XCLIENT, lockstep
// with the remote client), gate out to the receiving connectors (STARTTLS, mutual TLS).
// Commands as RFC 5321 writes them (EX_3.1_5040, EX_3.2_5070): one command, one reply,
// each under its own deadline; pipelining (RFC 2920) only as an explicit batch. DATA content goes through a DotStuffer and
// respects the socket's backpressure (write() returns false: wait for 'drain').
import net from 'node:net';
import tls from 'node:tls';
import { MssError } from '../errors.js';
import { drained } from '../net/drained.js';
import { DotStuffer } from './dot-stuff.js';
import { parseReplyText, type Reply } from './reply.js';

/** A TCP peer, or a unix socket (the inbound gate's way into Postfix). */
export type SmtpPeer = { host: string; port: number } | { path: string };

export type ConnectOptions = SmtpPeer & {
  connectTimeoutMs: number;
  /** Greeting deadline (defaults to commandTimeoutMs). */
  greetingTimeoutMs?: number;
  commandTimeoutMs: number;
};

// A reply longer than this is a hostile or broken peer, not SMTP.
const MAX_REPLY_BYTES = 64 * 1024;
// Message content is written in pieces of about this size: each write is a system call
// (and a TLS record run); fewer, larger writes cost less CPU (issue 20: 128 KB, so a
// message of up to ~100 KB leaves in one write with its final dot), and this bounds what
// is held per message in transit.
const WRITE_BATCH_BYTES = 128 * 1024;

export class SmtpClient {
  private socket: net.Socket | tls.TLSSocket;
  private buffer: Buffer = Buffer.alloc(0);
  private lines: string[] = [];
  private readonly ready: Reply[] = [];
  private waiter: { resolve: (r: Reply) => void; reject: (e: Error) => void; timer: NodeJS.Timeout } | undefined;
  private failure: MssError | undefined;
  private stuffer: DotStuffer | undefined;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** EHLO keywords (upper case) → their parameters. */
  features = new Map<string, string>();
  greeting!: Reply;

  private constructor(
    socket: net.Socket,
    /** `host:port` or `unix:/path`, in error messages. */
    readonly peer: string,
    private readonly commandTimeoutMs: number,
  ) {
    this.socket = socket;
    this.listen(socket);
  }

  static async connect(opts: ConnectOptions): Promise<SmtpClient> {
    const socket = 'path' in opts ? net.connect({ path: opts.path }) : net.connect({ host: opts.host, port: opts.port });
    const peer = 'path' in opts ? `unix:${opts.path}` : `${opts.host}:${opts.port}`;
    const where = 'path' in opts ? { path: opts.path } : { host: opts.host, port: opts.port };
    if (!('path' in opts)) socket.setNoDelay(true);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new MssError('SMTP_CONNECT_TIMEOUT', `no connection to ${peer} within ${opts.connectTimeoutMs} ms`, where));
      }, opts.connectTimeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(new MssError('SMTP_UNREACHABLE', `cannot connect to ${peer}: ${err.code ?? err.message}`, where));
      });
    });
    const client = new SmtpClient(socket, peer, opts.commandTimeoutMs);
    client.greeting = await client.read(opts.greetingTimeoutMs ?? opts.commandTimeoutMs);
    return client;
  }

  private listen(socket: net.Socket | tls.TLSSocket): void {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err: NodeJS.ErrnoException) =>
      this.fail(new MssError('SMTP_CONNECTION_LOST', `connection to ${this.peer} failed: ${err.code ?? err.message}`)),
    );
    socket.on('close', () => this.fail(new MssError('SMTP_CONNECTION_LOST', `connection to ${this.peer} closed`)));
  }

  private onData(chunk: Buffer): void {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    for (;;) {
      const nl = this.buffer.indexOf(0x0a);
      if (nl < 0) break;
      const line = this.buffer.subarray(0, nl).toString('utf8').replace(/\r$/, '');
      this.buffer = this.buffer.subarray(nl + 1);
      this.lines.push(line);
      if (line.length < 4 || line[3] !== '-') {
        const code = Number(line.slice(0, 3));
        const texts = this.lines.map((l) => l.slice(4));
        this.lines = [];
        if (!Number.isInteger(code) || code < 200 || code > 599) {
          this.fail(new MssError('SMTP_PROTOCOL', `${this.peer} sent a line that is not an SMTP reply: ${line.slice(0, 80)}`));
          return;
        }
        this.deliver(parseReplyText(code, texts));
      }
    }
    if (this.buffer.length > MAX_REPLY_BYTES) this.fail(new MssError('SMTP_PROTOCOL', `${this.peer} sent a reply longer than ${MAX_REPLY_BYTES} bytes`));
  }

  private deliver(reply: Reply): void {
    const w = this.waiter;
    if (w) {
      this.waiter = undefined;
      clearTimeout(w.timer);
      w.resolve(reply);
    } else this.ready.push(reply);
  }

  private fail(err: MssError): void {
    if (this.failure) return;
    this.failure = err;
    const w = this.waiter;
    this.waiter = undefined;
    if (w) {
      clearTimeout(w.timer);
      w.reject(err);
    }
    this.socket.destroy();
  }

  get closed(): boolean {
    return this.failure !== undefined;
  }

  read(timeoutMs = this.commandTimeoutMs): Promise<Reply> {
    const r = this.ready.shift();
    if (r) return Promise.resolve(r);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        this.fail(new MssError('SMTP_TIMEOUT', `${this.peer} did not answer within ${timeoutMs} ms`));
        reject(this.failure);
      }, timeoutMs);
      this.waiter = { resolve, reject, timer };
    });
  }

  async command(line: string, timeoutMs = this.commandTimeoutMs): Promise<Reply> {
    if (this.failure) throw this.failure;
    this.socket.write(`${line}\r\n`);
    return this.read(timeoutMs);
  }

  /**
   * Several commands in one write (RFC 2920 PIPELINING, when the server announced it; the
   * last one may be DATA), then their replies in order.
   */
  async pipeline(lines: readonly string[], timeoutMs = this.commandTimeoutMs): Promise<Reply[]> {
    if (this.failure) throw this.failure;
    this.socket.write(lines.map((l) => `${l}\r\n`).join(''));
    const replies: Reply[] = [];
    for (let i = 0; i < lines.length; i++) replies.push(await this.read(timeoutMs));
    return replies;
  }

  /** EHLO (LHLO for LMTP); keeps the announced features. */
  async ehlo(name: string, verb: 'EHLO' | 'LHLO' = 'EHLO'): Promise<Reply> {
    const reply = await this.command(`${verb} ${name}`);
    this.features = new Map();
    if (reply.code === 250) {
      // The first line is the server's name; the rest are keywords with parameters.
      for (const line of (reply.lines ?? []).slice(1)) {
        const [keyword, ...params] = line.trim().split(/\s+/);
        if (keyword) this.features.set(keyword.toUpperCase(), params.join(' '));
      }
    }
    return reply;
  }

  /** The parameters of an EHLO keyword, or undefined when not announced. */
  feature(keyword: string): string | undefined {
    return this.features.get(keyword.toUpperCase());
  }

  /** STARTTLS and the handshake; the caller judges the peer certificate before going on. */
  async startTls(options: tls.ConnectionOptions, timeoutMs = this.commandTimeoutMs): Promise<{ reply: Reply; socket?: tls.TLSSocket }> {
    const reply = await this.command('STARTTLS');
    if (reply.code !== 220) return { reply };
    const plain = this.socket as net.Socket;
    plain.removeAllListeners('data');
    plain.removeAllListeners('close');
    plain.removeAllListeners('error');
    const secure = tls.connect({ ...options, socket: plain });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        secure.destroy();
        reject(new MssError('SMTP_TLS_TIMEOUT', `TLS handshake with ${this.peer} did not finish within ${timeoutMs} ms`));
      }, timeoutMs);
      secure.once('secureConnect', () => {
        clearTimeout(timer);
        resolve();
      });
      secure.once('error', (err: Error) => {
        clearTimeout(timer);
        reject(new MssError('SMTP_TLS_FAILED', `TLS handshake with ${this.peer} failed: ${err.message}`));
      });
    });
    this.socket = secure;
    this.buffer = Buffer.alloc(0);
    this.listen(secure);
    return { reply, socket: secure };
  }

  get tlsSocket(): tls.TLSSocket | undefined {
    return this.socket instanceof tls.TLSSocket ? this.socket : undefined;
  }

  /**
   * After a 354: message content, dot-stuffed, written in batches of WRITE_BATCH_BYTES (the
   * last batch goes out with the final dot). false: wait for drain() before writing more.
   */
  writeData(chunk: Buffer): boolean {
    this.stuffer ??= new DotStuffer();
    if (this.failure) return true;
    const stuffed = this.stuffer.push(chunk);
    this.pending.push(stuffed);
    this.pendingBytes += stuffed.length;
    if (this.pendingBytes < WRITE_BATCH_BYTES) return true;
    return this.socket.write(this.takePending());
  }

  private takePending(extra?: Buffer): Buffer {
    const all = extra ? [...this.pending, extra] : this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    return all.length === 1 ? (all[0] as Buffer) : Buffer.concat(all);
  }

  /** Resolves when the socket can take more (or has failed: the final reply will say so). */
  drain(): Promise<void> {
    if (this.failure || !this.socket.writableNeedDrain) return Promise.resolve();
    return drained(this.socket);
  }

  /** The end-of-data dot; resolves with the final reply (per recipient for LMTP: call read() again). */
  async endData(timeoutMs: number): Promise<Reply> {
    const stuffer = this.stuffer ?? new DotStuffer();
    this.stuffer = undefined;
    const last = this.takePending(stuffer.end());
    if (this.failure) throw this.failure;
    this.socket.write(last);
    return this.read(timeoutMs);
  }

  /** QUIT, politely but briefly, then close. */
  async quit(timeoutMs = 2000): Promise<void> {
    if (!this.failure) {
      try {
        await this.command('QUIT', timeoutMs);
      } catch {
        /* closing anyway */
      }
    }
    this.destroy();
  }

  /** Close without a word: an unfinished DATA is then discarded by the server. */
  destroy(): void {
    this.failure ??= new MssError('SMTP_CLOSED', `connection to ${this.peer} closed by this side`);
    this.socket.destroy();
  }
}
