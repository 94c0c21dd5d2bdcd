// The listener of a TLS-terminating front (PSC submission, AUTH-CLI IMAP and submission):
// one session object per LPS connection, all ended when the front stops.
import type net from 'node:net';
import type { Logger } from '../../log.js';
import type { AdmissionSlot } from '../../net/admission.js';
import { FrontListener, type FrontGuards } from './listener.js';
import type { EndReason, TlsSession } from './tls-session.js';

export interface TlsFrontOptions {
  /** Names the front in logs and errors: `submission`, `authcli-imap`… */
  name: string;
  /** The configuration key of its listener, for the error an operator reads. */
  configKey: string;
  listen: { host: string; port: number };
  protocol: 'imap' | 'smtp';
  /** The pre-login caps shared by every front (auth.connections). */
  guards?: FrontGuards;
  log: Logger;
  session(socket: net.Socket, slot: AdmissionSlot, onEnd: (reason: EndReason, durationMs: number) => void): TlsSession;
}

export class TlsFront extends FrontListener<TlsSession> {
  /** Sessions ended, by reason (for tests and metrics). */
  readonly ended: Partial<Record<EndReason, number>> = {};

  constructor(private readonly opts: TlsFrontOptions) {
    super(opts, { pauseOnConnect: true });
  }

  protected accept(socket: net.Socket, slot: AdmissionSlot): TlsSession {
    const rip = socket.remoteAddress;
    const session = this.opts.session(socket, slot, (reason, durationMs) => {
      this.sessions.delete(session);
      this.ended[reason] = (this.ended[reason] ?? 0) + 1;
      const fields = { front: this.opts.name, session: session.id, rip, reason, durationMs };
      if (reason === 'idle' || reason === 'max-duration') this.opts.log.info(fields, 'session ended by the EX_LPS_1000 limit');
      else if (reason === 'pre-login-idle' || reason === 'evicted' || reason === 'too-many-failures' || reason === 'too-many-commands')
        this.opts.log.info(fields, 'session ended before login (auth.connections, auth.failedLogins)');
      else if (reason === 'backend-unavailable') this.opts.log.error(fields, 'backend unreachable');
      else this.opts.log.debug(fields, 'session ended');
    });
    this.sessions.add(session);
    session.run().catch((err: unknown) => {
      this.opts.log.error({ err, front: this.opts.name, session: session.id }, 'front session failed');
      session.end('error');
    });
    return session;
  }
}
