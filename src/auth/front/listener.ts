// What every front does with its listening socket: listen (with an error that names the
// setting), keep its sessions, and end them all when it stops.
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { MssError } from '../../errors.js';

export interface FrontSession {
  end(reason: 'shutdown'): void;
}

export abstract class FrontListener<S extends FrontSession> {
  private server: net.Server | undefined;
  protected readonly sessions = new Set<S>();

  constructor(
    private readonly where: { name: string; configKey: string; listen: { host: string; port: number } },
    private readonly serverOptions: net.ServerOpts,
  ) {}

  /** A new client connection (paused: the session resumes it when ready). */
  protected abstract accept(socket: net.Socket): void;

  async start(): Promise<void> {
    const { name, configKey, listen } = this.where;
    const server = net.createServer(this.serverOptions, (socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(new MssError('FRONT_LISTEN', `the ${name} front cannot listen on ${listen.host}:${listen.port} (${configKey}): ${err.message}`, { ...listen }, { cause: err })),
      );
      server.listen(listen.port, listen.host, () => resolve());
    });
    this.server = server;
  }

  get port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? this.where.listen.port;
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
}
