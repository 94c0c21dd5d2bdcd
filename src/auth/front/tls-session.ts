// What the TLS-terminating fronts share — the PSC submission front (EX_LPS_0710 replies on
// SMTP) and the AUTH-CLI fronts (EX_LPS_1200): the loopback connection to Dovecot/Postfix
// with a PROXY header, STARTTLS done by the front on both sides, the EX_LPS_1000 limits on
// the whole session, and the raw relay once Dovecot/Postfix accepted the front's login.
// Before login: the short pre-login idle limit and the admission slot (auth.connections),
// and the per-session part of the failed-login policy (auth.failedLogins).
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import type tls from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../log.js';
import type { AdmissionSlot } from '../../net/admission.js';
import type { SessionLimits } from '../config.js';
import type { LoginThrottle } from '../login-throttle.js';
import type { BackendTlsClient } from './backend-tls.js';
import { SessionLimitTimer, type LimitReason } from './limits.js';
import { LineSocket } from './line-socket.js';
import type { FrontGuards } from './listener.js';
import { proxyV1Header, unmapAddress } from './proxy-protocol.js';

export type TlsFrontProtocol = 'imap' | 'smtp';

export interface TlsSessionDeps {
  protocol: TlsFrontProtocol;
  backend: { host: string; port: number };
  /** STARTTLS towards `backend`, one per front: its sessions resume one TLS session (issue 20). */
  backendTls: BackendTlsClient;
  /** The entry point's certificate and key, the six suites (src/pki/tls-profile.ts). */
  serverContext: tls.SecureContext;
  /** Ask the client for a certificate (AUTH-CLI); the PSC entry point does not. */
  requestCert: boolean;
  limits: SessionLimits;
  /** Pre-login idle limit (auth.connections); the admission slot comes with the session. */
  guards?: FrontGuards;
  /** The failed-login policy (auth.failedLogins): delays, and the end of a session after too many refusals. */
  throttle?: LoginThrottle;
  log: Logger;
  handshakeMs?: number;
  maxLine?: number;
}

export type EndReason =
  LimitReason | 'client' | 'backend' | 'refused' | 'backend-unavailable' | 'error' | 'shutdown' | 'evicted' | 'too-many-failures' | 'too-many-commands';

/** Commands a client may send before its login (Postfix's smtpd_junk_command_limit is 100 too). */
export const MAX_PRE_LOGIN_COMMANDS = 100;

export abstract class TlsSession {
  /** Names the session in the front's log lines and the refusal traces. */
  readonly id = randomBytes(9).toString('base64');
  protected readonly client: LineSocket;
  protected backend: LineSocket | undefined;
  protected readonly limits: SessionLimitTimer;
  private ended = false;
  /** Refused logins in this session. */
  private failures = 0;
  /** Commands before login, answered by the front or relayed. */
  protected preLoginCommands = 0;

  constructor(
    clientSocket: net.Socket,
    private readonly slot: AdmissionSlot,
    protected readonly deps: TlsSessionDeps,
    private readonly onEnd: (reason: EndReason, durationMs: number) => void,
  ) {
    this.limits = new SessionLimitTimer(deps.limits, (reason) => this.end(reason), deps.guards?.preLoginIdleSeconds);
    this.client = new LineSocket(clientSocket, deps.maxLine ?? 16_384, () => this.limits.input());
    clientSocket.on('close', () => this.end('client'));
    clientSocket.on('error', () => this.end('error'));
  }

  /** Run the protocol until login (then relay) or refusal. */
  abstract run(): Promise<void>;

  /** The LPS's address, as the PROXY header gives it to Dovecot/Postfix. */
  protected get clientAddress(): string {
    return unmapAddress(this.client.socket.remoteAddress ?? '');
  }

  protected async connectBackend(): Promise<LineSocket | undefined> {
    // noDelay: the PROXY header, EHLO and AUTH are short writes in a row; with Nagle's
    // algorithm each waited for the backend's delayed ACK (40 ms per login; issue 20).
    const socket = net.connect({ host: this.deps.backend.host, port: this.deps.backend.port, noDelay: true });
    const ok = await new Promise<boolean>((resolve) => {
      socket.once('connect', () => resolve(true));
      socket.once('error', () => resolve(false));
    });
    if (!ok) return undefined;
    // Before login the protocol loop sees the backend close (line() ends); then relay() watches it.
    socket.on('error', () => {});
    // The backend sees and logs the LPS's address, not the front's.
    socket.write(proxyV1Header(this.client.socket));
    this.backend = new LineSocket(socket, 1024 * 1024);
    return this.backend;
  }

  /**
   * Both TLS handshakes once STARTTLS was agreed on both sides: towards the LPS as the
   * server (EX_LPS_0100, EX_LPS_0200: the six suites of `serverContext`), towards
   * Dovecot/Postfix as a client. The LPS's TLS socket, or undefined when the session ended.
   */
  protected async upgradeBoth(): Promise<tls.TLSSocket | undefined> {
    const handshakeMs = this.deps.handshakeMs ?? 10_000;
    try {
      const [secure] = await Promise.all([
        this.client.upgradeAsServer(this.deps.serverContext, handshakeMs, this.deps.requestCert),
        this.backendTls(handshakeMs),
      ]);
      return this.watchSecure(secure);
    } catch {
      this.end('error');
      return undefined;
    }
  }

  /** STARTTLS towards the LPS only (the backend is connected later, after the login). */
  protected async upgradeClient(): Promise<tls.TLSSocket | undefined> {
    try {
      return this.watchSecure(await this.client.upgradeAsServer(this.deps.serverContext, this.deps.handshakeMs ?? 10_000, this.deps.requestCert));
    } catch {
      this.end('error');
      return undefined;
    }
  }

  private watchSecure(secure: tls.TLSSocket): tls.TLSSocket {
    secure.on('close', () => this.end('client'));
    secure.on('error', () => this.end('error'));
    return secure;
  }

  /** STARTTLS towards Dovecot/Postfix on loopback, resuming the front's TLS session with it (backend-tls.ts). */
  protected async backendTls(handshakeMs = this.deps.handshakeMs ?? 10_000): Promise<void> {
    const secure = await this.deps.backendTls.upgrade(this.backend as LineSocket, handshakeMs);
    secure.on('error', () => {});
  }

  /**
   * One more command before login: false when the client has sent MAX_PRE_LOGIN_COMMANDS
   * already (the session is then ended with `line`). A client that logs in needs a handful.
   */
  protected countPreLoginCommand(line: string): boolean {
    this.preLoginCommands += 1;
    if (this.preLoginCommands <= MAX_PRE_LOGIN_COMMANDS) return true;
    this.goodbye(line, 'too-many-commands');
    return false;
  }

  /**
   * A refused login (auth.failedLogins): the reply waits delayMs·2^(n-1) — this session
   * only, nobody else waits — and after maxPerSession refusals the session ends. Resolves
   * true when the session may go on, false when the caller must send its refusal and `last`.
   */
  protected async failedLogin(): Promise<boolean> {
    this.failures += 1;
    const throttle = this.deps.throttle;
    if (!throttle) return true;
    const delay = throttle.delayMs(this.failures);
    if (delay > 0) await sleep(delay);
    return !throttle.exhausted(this.failures);
  }

  /** Logged in: from now on bytes flow both ways untouched, under the session limits. */
  protected relay(): void {
    this.limits.authenticated();
    this.slot.authenticated();
    const backend = this.backend as LineSocket;
    const c = this.client.handOver();
    const b = backend.handOver();
    c.socket.on('data', () => this.limits.input());
    if (c.pending.length > 0) b.socket.write(c.pending);
    if (b.pending.length > 0) c.socket.write(b.pending);
    c.socket.pipe(b.socket);
    b.socket.pipe(c.socket);
    c.socket.on('close', () => this.end('client'));
    b.socket.on('close', () => {
      if (c.socket.writableEnded && !c.socket.writableFinished) c.socket.once('finish', () => this.end('backend'));
      else this.end('backend');
    });
  }

  end(reason: EndReason): void {
    if (this.ended) return;
    this.ended = true;
    this.limits.stop();
    this.slot.release();
    this.client.destroy();
    this.backend?.destroy();
    this.onEnd(reason, Date.now() - this.limits.startedAt);
  }

  /** Write a last line (if any) and close: refusals, certificate failures, unreachable backend, logout. */
  protected goodbye(line: string | undefined, reason: EndReason): void {
    if (this.ended) return;
    const socket = this.client.socket;
    socket.end(line === undefined ? '' : `${line}\r\n`, () => this.end(reason));
    setTimeout(() => this.end(reason), 2000).unref();
  }
}
