// What every front does with its listening socket: listen (with an error that names the
// setting), admit each connection under the pre-login caps (src/net/admission.ts: per
// source, all fronts together, a reserve for logged-in sessions), keep its sessions, and
// end them all when it stops.
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { MssError } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { Admission, AdmissionRefusal, AdmissionSlot } from '../../net/admission.js';
import { unmapAddress } from './proxy-protocol.js';

export interface FrontSession {
  /** `evicted`: its pre-login slot was taken back for a newer connection. */
  end(reason: 'shutdown' | 'evicted'): void;
}

/** What the fronts share to bound what clients get before login (auth.connections). */
export interface FrontGuards {
  admission: Admission;
  preLoginIdleSeconds: number;
}

/** A slot that never refuses: fronts built without guards (unit tests of one protocol step). */
const UNGUARDED: AdmissionSlot = { authenticated: () => {}, release: () => {} };

const REFUSED: Record<'imap' | 'smtp', Record<AdmissionRefusal, string>> = {
  imap: {
    'source-limit': '* BYE [UNAVAILABLE] Too many connections from your address not logged in yet, try again later\r\n',
    full: '* BYE [UNAVAILABLE] Too many connections, try again later\r\n',
  },
  smtp: {
    'source-limit': '421 4.7.0 Too many connections from your address not logged in yet, try again later\r\n',
    full: '421 4.3.2 Too many connections, try again later\r\n',
  },
};

export abstract class FrontListener<S extends FrontSession> {
  private server: net.Server | undefined;
  protected readonly sessions = new Set<S>();

  constructor(
    private readonly where: {
      name: string;
      configKey: string;
      listen: { host: string; port: number };
      protocol: 'imap' | 'smtp';
      guards?: FrontGuards;
      log: Logger;
    },
    private readonly serverOptions: net.ServerOpts,
  ) {}

  /** A new client connection (paused: the session resumes it when ready), with its admission slot. */
  protected abstract accept(socket: net.Socket, slot: AdmissionSlot): S;

  /** Idle limit before login for this front's sessions (undefined: the EX_LPS_1000 one from the start). */
  protected get preLoginIdleSeconds(): number | undefined {
    return this.where.guards?.preLoginIdleSeconds;
  }

  private admit(socket: net.Socket): void {
    const admission = this.where.guards?.admission;
    if (!admission) {
      this.accept(socket, UNGUARDED);
      return;
    }
    const source = unmapAddress(socket.remoteAddress ?? '');
    let session: S | undefined; // eslint-disable-line prefer-const -- assigned after the slot that names it in its eviction callback
    const slot = admission.admit(source, () => (session ? session.end('evicted') : socket.destroy()));
    if (typeof slot === 'string') {
      this.where.log.warn({ front: this.where.name, rip: source, refusal: slot }, 'connection refused before login (auth.connections)');
      socket.on('error', () => {});
      socket.end(REFUSED[this.where.protocol][slot], () => socket.destroy());
      setTimeout(() => socket.destroy(), 2000).unref();
      return;
    }
    session = this.accept(socket, slot);
  }

  async start(): Promise<void> {
    const { name, configKey, listen } = this.where;
    // noDelay: a login is a few short lines each way; with Nagle's algorithm a line written
    // while the previous one is unacknowledged waits for the peer's delayed ACK (40 ms on
    // Linux) — every LPS login paid it (issue 20, bench/lps-login.ts).
    const server = net.createServer({ ...this.serverOptions, noDelay: true }, (socket) => this.admit(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          new MssError(
            'FRONT_LISTEN',
            `the ${name} front cannot listen on ${listen.host}:${listen.port} (${configKey}): ${err.message}`,
            { ...listen },
            { cause: err },
          ),
        ),
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
