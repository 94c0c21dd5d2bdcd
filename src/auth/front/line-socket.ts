// A socket read line by line by a TLS-terminating front, that can be upgraded to TLS in
// place (STARTTLS, as server towards the LPS or as client towards Dovecot/Postfix) and
// finally handed over for raw relaying. Bytes received before a TLS upgrade and not yet consumed are discarded: a
// command injected after STARTTLS in the same packet must never be executed inside TLS.
//
// Bounded, with backpressure both ways: a peer that sends faster than the session consumes
// (pipelined commands, a flood of NOOP lines) is paused once QUEUE_HIGH lines wait, and a
// peer that does not read our replies is not read either while more than WRITE_HIGH bytes
// of replies wait for it. Either way the kernel's buffers fill and the peer's writes block;
// what we hold stays a few lines and a few replies, whatever it sends.
import type net from 'node:net';
import tls from 'node:tls';
import { MssError } from '../../errors.js';

/** Lines received and not consumed yet: above, the socket is paused; at or below QUEUE_LOW, resumed. */
const QUEUE_HIGH = 32;
const QUEUE_LOW = 8;
/** Reply bytes not yet taken by the peer's TCP window: above, no next line is read until they drain. */
const WRITE_HIGH = 64 * 1024;

export class LineSocket {
  private buffer: Buffer = Buffer.alloc(0);
  private lines: string[] = [];
  private waiter: (() => void) | undefined;
  private closed = false;
  /** Reading stopped because QUEUE_HIGH lines wait. */
  private paused = false;
  private onData = (chunk: Buffer): void => this.push(chunk);
  private onDrain = (): void => this.wake();
  private onClose = (): void => {
    this.closed = true;
    this.wake();
  };

  constructor(
    public socket: net.Socket | tls.TLSSocket,
    private readonly maxLine: number,
    private readonly onInput: () => void = () => {},
  ) {
    this.attach(socket);
  }

  get isTls(): boolean {
    return this.socket instanceof tls.TLSSocket;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private attach(socket: net.Socket | tls.TLSSocket): void {
    socket.on('data', this.onData);
    socket.on('close', this.onClose);
    socket.on('end', this.onClose);
    socket.on('error', this.onClose);
    socket.on('drain', this.onDrain);
    // A server socket accepted with pauseOnConnect stays paused until told otherwise.
    this.paused = false;
    socket.resume();
  }

  private detachListeners(): void {
    this.socket.off('data', this.onData);
    this.socket.off('close', this.onClose);
    this.socket.off('end', this.onClose);
    this.socket.off('error', this.onClose);
    this.socket.off('drain', this.onDrain);
  }

  private push(chunk: Buffer): void {
    this.onInput();
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    let nl: number;
    while ((nl = this.buffer.indexOf(0x0a)) >= 0) {
      this.lines.push(this.buffer.subarray(0, nl).toString('latin1').replace(/\r$/, ''));
      this.buffer = this.buffer.subarray(nl + 1);
    }
    if (this.buffer.length > this.maxLine) {
      this.socket.destroy();
      this.closed = true;
    }
    // One chunk may hold many lines; the next ones wait in the kernel, not here.
    if (this.lines.length >= QUEUE_HIGH && !this.paused) {
      this.paused = true;
      this.socket.pause();
    }
    this.wake();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  /**
   * The next line without its CRLF (latin1: bytes as they came), or undefined once closed.
   * Not before the peer has read most of our replies (WRITE_HIGH).
   */
  async line(): Promise<string | undefined> {
    for (;;) {
      if (this.closed) {
        const rest = this.lines.shift();
        return rest;
      }
      if (this.socket.writableLength <= WRITE_HIGH) {
        const next = this.lines.shift();
        if (this.paused && this.lines.length <= QUEUE_LOW) {
          this.paused = false;
          this.socket.resume();
        }
        if (next !== undefined) return next;
      }
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
  }

  write(text: string): void {
    if (!this.closed) this.socket.write(text, 'latin1');
  }

  /**
   * STARTTLS as the server: nothing read before the handshake survives it. A client
   * certificate is asked for (`requestCert`, AUTH-CLI) but never required here: the caller
   * checks it and answers with a protocol refusal rather than a handshake failure.
   */
  async upgradeAsServer(context: tls.SecureContext, handshakeMs: number, requestCert: boolean): Promise<tls.TLSSocket> {
    return this.upgrade(
      (plain) => new tls.TLSSocket(plain, { isServer: true, secureContext: context, requestCert, rejectUnauthorized: false }),
      'secure',
      handshakeMs,
    );
  }

  /** STARTTLS as the client of a loopback Dovecot/Postfix; `created` sees the TLS socket before its handshake (its `session` events). */
  async upgradeAsClient(options: tls.ConnectionOptions, handshakeMs: number, created?: (secure: tls.TLSSocket) => void): Promise<tls.TLSSocket> {
    return this.upgrade(
      (plain) => {
        const secure = tls.connect({ ...options, socket: plain });
        created?.(secure);
        return secure;
      },
      'secureConnect',
      handshakeMs,
    );
  }

  private async upgrade(make: (plain: net.Socket) => tls.TLSSocket, event: 'secure' | 'secureConnect', handshakeMs: number): Promise<tls.TLSSocket> {
    this.detachListeners();
    this.buffer = Buffer.alloc(0);
    this.lines = [];
    const secure = make(this.socket as net.Socket);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        secure.destroy();
        reject(new MssError('FRONT_TLS', `TLS handshake not finished within ${handshakeMs} ms`));
      }, handshakeMs);
      secure.once(event, () => {
        clearTimeout(timer);
        resolve();
      });
      secure.once('error', (err) => {
        clearTimeout(timer);
        reject(new MssError('FRONT_TLS', `TLS handshake failed: ${err.message}`, {}, { cause: err }));
      });
    });
    this.socket = secure;
    this.attach(secure);
    return secure;
  }

  /** Stop reading lines; returns the socket and the bytes received but not yet consumed. */
  handOver(): { socket: net.Socket | tls.TLSSocket; pending: Buffer } {
    this.detachListeners();
    const rest = Buffer.concat([...this.lines.map((l) => Buffer.from(`${l}\r\n`, 'latin1')), this.buffer]);
    this.lines = [];
    this.buffer = Buffer.alloc(0);
    return { socket: this.socket, pending: rest };
  }

  destroy(): void {
    this.socket.destroy();
  }
}
