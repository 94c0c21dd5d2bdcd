// The relaying front of an API LPS entry point (IMAP 143; submission 587 has the
// TLS-terminating front of xoauth2-smtp-session.ts, for EX_LPS_0710): it accepts the LPS's
// TCP connection, hands it to Dovecot or Postfix on loopback with a PROXY protocol header,
// and relays bytes both ways without looking inside (TLS stays end to end between the LPS
// and the backend). It exists for EX_LPS_1000, which neither Dovecot 2.3 nor Postfix
// 3.7 can enforce by configuration: a session ends after `idleSeconds` without anything
// from the client (every command is client bytes; server pushes such as IMAP IDLE updates
// do not count) and after `maxSeconds` in any case. EX_LPS_0110: no address filtering.
import net from 'node:net';
import type { Logger } from '../../log.js';
import type { SessionLimits } from '../config.js';
import { SessionLimitTimer } from './limits.js';
import { FrontListener } from './listener.js';
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

export class SessionFront extends FrontListener<Session> {
  /** Sessions ended, by reason (for tests and metrics). */
  readonly closed: Record<CloseReason, number> = { idle: 0, 'max-duration': 0, client: 0, backend: 0, 'backend-unavailable': 0, error: 0, shutdown: 0 };

  constructor(private readonly opts: SessionFrontOptions) {
    super({ name: opts.protocol, configKey: `auth.front.${opts.protocol === 'imap' ? 'imap' : 'submission'}.listen`, listen: opts.listen }, { allowHalfOpen: true, pauseOnConnect: true });
  }

  protected accept(client: net.Socket): void {
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
