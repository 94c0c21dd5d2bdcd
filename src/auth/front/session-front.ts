// The front of an API LPS entry point (IMAP 143 or submission 587): it accepts the LPS's
// TCP connection, hands it to Dovecot or Postfix on loopback with a PROXY protocol header,
// and relays bytes both ways without looking inside (TLS stays end to end between the LPS
// and Dovecot/Postfix). It exists for EX_LPS_1000, which neither Dovecot 2.3 nor Postfix
// 3.7 can enforce by configuration: a session ends after `idleSeconds` without anything
// from the client (every command is client bytes; server pushes such as IMAP IDLE updates
// do not count) and after `maxSeconds` in any case. EX_LPS_0110: no address filtering.
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { MssError } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { SessionLimits } from '../config.js';
import { SessionLimitTimer } from './limits.js';
import { proxyV1Header } from './proxy-protocol.js';

export type FrontProtocol = 'imap' | 'smtp';

export interface SessionFrontOptions {
  protocol: FrontProtocol;
  listen: { host: string; port: number };
  backend: { host: string; port: number };
  limits: SessionLimits;
  log: Logger;
}

export type CloseReason = 'idle' | 'max-duration' | 'client' | 'backend' | 'backend-unavailable' | 'error' | 'shutdown';

/** What the LPS reads when the backend cannot be reached, before the connection closes. */
const UNAVAILABLE: Record<FrontProtocol, string> = {
  imap: '* BYE [UNAVAILABLE] Service temporarily unavailable\r\n',
  smtp: '421 4.3.2 Service temporarily unavailable\r\n',
};

export class SessionFront {
  private server: net.Server | undefined;
  private readonly sessions = new Set<Session>();
  /** Sessions ended, by reason (for tests and metrics). */
  readonly closed: Record<CloseReason, number> = { idle: 0, 'max-duration': 0, client: 0, backend: 0, 'backend-unavailable': 0, error: 0, shutdown: 0 };

  constructor(private readonly opts: SessionFrontOptions) {}

  async start(): Promise<void> {
    const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(new MssError('FRONT_LISTEN', `the ${this.opts.protocol} front cannot listen on ${this.opts.listen.host}:${this.opts.listen.port} (auth.front): ${err.message}`, { ...this.opts.listen }, { cause: err })),
      );
      server.listen(this.opts.listen.port, this.opts.listen.host, () => resolve());
    });
    this.server = server;
  }

  get port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? this.opts.listen.port;
  }

  get activeSessions(): number {
    return this.sessions.size;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const session of [...this.sessions]) session.end('shutdown');
    await closed;
  }

  private accept(client: net.Socket): void {
    const session = new Session(client, this.opts, (reason, durationMs) => {
      this.sessions.delete(session);
      this.closed[reason] += 1;
      const fields = { front: this.opts.protocol, rip: client.remoteAddress, reason, durationMs };
      if (reason === 'idle' || reason === 'max-duration') this.opts.log.info(fields, 'session ended by the EX_LPS_1000 limit');
      else if (reason === 'backend-unavailable') this.opts.log.error({ ...fields, backend: this.opts.backend }, 'backend unreachable');
      else this.opts.log.debug(fields, 'session ended');
    });
    this.sessions.add(session);
  }
}

class Session {
  private readonly backend: net.Socket;
  private readonly limits: SessionLimitTimer;
  private connected = false;
  private ended = false;

  constructor(
    private readonly client: net.Socket,
    private readonly opts: SessionFrontOptions,
    private readonly onEnd: (reason: CloseReason, durationMs: number) => void,
  ) {
    this.limits = new SessionLimitTimer(opts.limits, (reason) => this.end(reason));
    client.on('error', () => this.end('error'));
    client.on('close', () => this.end('client'));
    this.backend = net.connect({ host: opts.backend.host, port: opts.backend.port, allowHalfOpen: true });
    this.backend.on('error', () => this.end(this.connected ? 'error' : 'backend-unavailable'));
    this.backend.once('connect', () => this.relay());
  }

  private relay(): void {
    this.connected = true;
    this.backend.write(proxyV1Header(this.client));
    this.client.on('data', () => this.limits.input());
    this.client.pipe(this.backend);
    this.backend.pipe(this.client);
    // The backend's last words (`* BYE`, `221`) must reach the client before it is closed.
    this.backend.on('close', () => {
      if (this.client.writableEnded && !this.client.writableFinished) {
        this.client.once('finish', () => this.end('backend'));
        setTimeout(() => this.end('backend'), 5000).unref();
      } else this.end('backend');
    });
    this.client.resume();
  }

  end(reason: CloseReason): void {
    if (this.ended) return;
    this.ended = true;
    this.limits.stop();
    if (reason === 'backend-unavailable') this.client.end(UNAVAILABLE[this.opts.protocol], () => this.client.destroy());
    else this.client.destroy();
    this.backend.destroy();
    this.onEnd(reason, Date.now() - this.limits.startedAt);
  }
}
