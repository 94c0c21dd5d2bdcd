// The listener of a TLS-terminating front (PSC submission, AUTH-CLI IMAP and submission):
// one session object per LPS connection, all ended when the front stops.
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { MssError } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { EndReason, TlsSession } from './tls-session.js';

export interface TlsFrontOptions {
  /** Names the front in logs and errors: `submission`, `authcli-imap`… */
  name: string;
  /** The configuration key of its listener, for the error an operator reads. */
  configKey: string;
  listen: { host: string; port: number };
  log: Logger;
  session(socket: net.Socket, onEnd: (reason: EndReason, durationMs: number) => void): TlsSession;
}

export class TlsFront {
  private server: net.Server | undefined;
  private readonly sessions = new Set<TlsSession>();
  /** Sessions ended, by reason (for tests and metrics). */
  readonly ended: Partial<Record<EndReason, number>> = {};

  constructor(private readonly opts: TlsFrontOptions) {}

  async start(): Promise<void> {
    const server = net.createServer({ pauseOnConnect: true }, (socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(new MssError('FRONT_LISTEN', `the ${this.opts.name} front cannot listen on ${this.opts.listen.host}:${this.opts.listen.port} (${this.opts.configKey}): ${err.message}`, { ...this.opts.listen }, { cause: err })),
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
    for (const s of [...this.sessions]) s.end('shutdown');
    await closed;
  }

  private accept(socket: net.Socket): void {
    const rip = socket.remoteAddress;
    const session = this.opts.session(socket, (reason, durationMs) => {
      this.sessions.delete(session);
      this.ended[reason] = (this.ended[reason] ?? 0) + 1;
      const fields = { front: this.opts.name, session: session.id, rip, reason, durationMs };
      if (reason === 'idle' || reason === 'max-duration') this.opts.log.info(fields, 'session ended by the EX_LPS_1000 limit');
      else if (reason === 'backend-unavailable') this.opts.log.error(fields, 'backend unreachable');
      else this.opts.log.debug(fields, 'session ended');
    });
    this.sessions.add(session);
    session.run().catch((err: unknown) => {
      this.opts.log.error({ err, front: this.opts.name, session: session.id }, 'front session failed');
      session.end('error');
    });
  }
}
