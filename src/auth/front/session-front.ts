// The relaying front of an API LPS entry point (IMAP 143; submission 587 has the
// TLS-terminating front of xoauth2-smtp-session.ts, for EX_LPS_0710): it accepts the LPS's
// TCP connection, hands it to Dovecot or Postfix on loopback with a PROXY protocol header,
// and relays bytes both ways without looking inside (TLS stays end to end between the LPS
// and the backend). It exists for EX_LPS_1000, which neither Dovecot 2.3 nor Postfix
// 3.7 can enforce by configuration: a session ends after `idleSeconds` without anything
// from the client (every command is client bytes; server pushes such as IMAP IDLE updates
// do not count) and after `maxSeconds` in any case. EX_LPS_0110: no address filtering.
//
// Before login (auth.connections): the front cannot see an IMAP login inside the LPS's TLS
// session, so its "pre-login" phase is the cleartext one, up to Dovecot's OK to STARTTLS,
// which it watches in passing: there the short pre-login idle limit and the per-address cap
// apply. Inside TLS, Dovecot's own login limits take over (its login processes drop the
// oldest unauthenticated client when full, and end clients silent for minutes).
import net from 'node:net';
import type { Logger } from '../../log.js';
import type { AdmissionSlot } from '../../net/admission.js';
import type { SessionLimits } from '../config.js';
import { SessionLimitTimer } from './limits.js';
import { FrontListener, type FrontGuards } from './listener.js';
import { proxyV1Header } from './proxy-protocol.js';

export type FrontProtocol = 'imap' | 'smtp';

export interface SessionFrontOptions {
  protocol: FrontProtocol;
  listen: { host: string; port: number };
  backend: { host: string; port: number };
  limits: SessionLimits;
  guards?: FrontGuards;
  log: Logger;
}

export type CloseReason = 'idle' | 'max-duration' | 'pre-login-idle' | 'client' | 'backend' | 'backend-unavailable' | 'error' | 'shutdown' | 'evicted';

/** What the LPS reads when the backend cannot be reached, before the connection closes. */
const UNAVAILABLE: Record<FrontProtocol, string> = {
  imap: '* BYE [UNAVAILABLE] Service temporarily unavailable\r\n',
  smtp: '421 4.3.2 Service temporarily unavailable\r\n',
};

/** Cleartext kept while watching for STARTTLS: IMAP lines before TLS are short. */
const WATCH_BYTES = 4096;

export class SessionFront extends FrontListener<Session> {
  /** Sessions ended, by reason (for tests and metrics). */
  readonly closed: Record<CloseReason, number> = {
    idle: 0,
    'max-duration': 0,
    'pre-login-idle': 0,
    client: 0,
    backend: 0,
    'backend-unavailable': 0,
    error: 0,
    shutdown: 0,
    evicted: 0,
  };

  constructor(private readonly opts: SessionFrontOptions) {
    super(
      {
        name: opts.protocol,
        configKey: `auth.front.${opts.protocol === 'imap' ? 'imap' : 'submission'}.listen`,
        listen: opts.listen,
        protocol: opts.protocol,
        ...(opts.guards ? { guards: opts.guards } : {}),
        log: opts.log,
      },
      { allowHalfOpen: true, pauseOnConnect: true },
    );
  }

  protected accept(client: net.Socket, slot: AdmissionSlot): Session {
    const session = new Session(client, this.opts, slot, (reason, durationMs) => {
      this.sessions.delete(session);
      this.closed[reason] += 1;
      const fields = { front: this.opts.protocol, rip: client.remoteAddress, reason, durationMs };
      if (reason === 'idle' || reason === 'max-duration') this.opts.log.info(fields, 'session ended by the EX_LPS_1000 limit');
      else if (reason === 'pre-login-idle' || reason === 'evicted') this.opts.log.info(fields, 'session ended before login (auth.connections)');
      else if (reason === 'backend-unavailable') this.opts.log.error({ ...fields, backend: this.opts.backend }, 'backend unreachable');
      else this.opts.log.debug(fields, 'session ended');
    });
    this.sessions.add(session);
    return session;
  }
}

class Session {
  private readonly backend: net.Socket;
  private readonly limits: SessionLimitTimer;
  private connected = false;
  private ended = false;
  /** Cleartext watch (IMAP before STARTTLS): the tag of the client's STARTTLS, and unread partial lines. */
  private watching: { startTlsTag?: string; fromClient: string; fromBackend: string } | undefined;

  constructor(
    private readonly client: net.Socket,
    private readonly opts: SessionFrontOptions,
    private readonly slot: AdmissionSlot,
    private readonly onEnd: (reason: CloseReason, durationMs: number) => void,
  ) {
    this.limits = new SessionLimitTimer(opts.limits, (reason) => this.end(reason), opts.guards?.preLoginIdleSeconds);
    if (opts.protocol === 'imap' && opts.guards) this.watching = { fromClient: '', fromBackend: '' };
    else this.loggedIn();
    client.on('error', () => this.end('error'));
    client.on('close', () => this.end('client'));
    // noDelay: the PROXY header and the first command are two short writes; with Nagle's
    // algorithm the second waited for the backend's delayed ACK (40 ms; issue 20).
    this.backend = net.connect({ host: opts.backend.host, port: opts.backend.port, allowHalfOpen: true, noDelay: true });
    this.backend.on('error', () => this.end(this.connected ? 'error' : 'backend-unavailable'));
    this.backend.once('connect', () => this.relay());
  }

  private relay(): void {
    this.connected = true;
    this.backend.write(proxyV1Header(this.client));
    this.client.on('data', (chunk: Buffer) => {
      this.limits.input();
      if (this.watching) this.watchClient(chunk);
    });
    this.backend.on('data', (chunk: Buffer) => {
      if (this.watching) this.watchBackend(chunk);
    });
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

  /** The LPS's cleartext lines: remember the tag of its STARTTLS. */
  private watchClient(chunk: Buffer): void {
    const w = this.watching;
    if (!w) return;
    const lines = (w.fromClient + chunk.toString('latin1')).split('\n');
    w.fromClient = (lines.pop() ?? '').slice(-WATCH_BYTES);
    for (const line of lines) {
      const m = /^(\S+) STARTTLS\r?$/i.exec(line);
      if (m) w.startTlsTag = m[1];
    }
  }

  /** Dovecot's cleartext lines: its OK to the LPS's STARTTLS ends the pre-login phase the front can see. */
  private watchBackend(chunk: Buffer): void {
    const w = this.watching;
    if (!w) return;
    const lines = (w.fromBackend + chunk.toString('latin1')).split('\n');
    w.fromBackend = (lines.pop() ?? '').slice(-WATCH_BYTES);
    if (w.startTlsTag !== undefined && lines.some((l) => l.startsWith(`${w.startTlsTag} OK`))) this.loggedIn();
  }

  /** Past the part of the session the front can judge: the EX_LPS_1000 limits and Dovecot's own take over. */
  private loggedIn(): void {
    this.watching = undefined;
    this.limits.authenticated();
    this.slot.authenticated();
  }

  end(reason: CloseReason): void {
    if (this.ended) return;
    this.ended = true;
    this.limits.stop();
    this.slot.release();
    if (reason === 'backend-unavailable') this.client.end(UNAVAILABLE[this.opts.protocol], () => this.client.destroy());
    else this.client.destroy();
    this.backend.destroy();
    this.onEnd(reason, Date.now() - this.limits.startedAt);
  }
}
