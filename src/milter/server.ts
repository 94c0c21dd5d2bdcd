// The milter listener: loopback TCP or a unix socket, one MilterSession per connection
// (Postfix opens one per SMTP client connection). Nothing a peer sends can stop the server:
// every failure is contained in its session.
import cluster from 'node:cluster';
import net from 'node:net';
import { MssError } from '../errors.js';
import { groupId, removeStaleSocket, restrictSocket } from '../util/unix-socket.js';
import type { Logger } from '../log.js';
import { formatListen, type ListenSpec } from './config.js';
import { Deadlines } from './deadlines.js';
import type { MilterHandler } from './handler.js';
import { DEFAULT_MESSAGE_LIMITS, type MessageLimits } from './message.js';
import { REQUESTED_MACROS, type MacroRequest } from './negotiation.js';
import { IdleClock, MilterSession, wantedSteps, type SessionOptions, type SessionTimeouts } from './session.js';

export interface MilterServerOptions {
  listen: ListenSpec;
  handler: MilterHandler;
  log: Logger;
  /** Unix socket permissions (default 0660). */
  socketMode?: number;
  /** Unix socket group (name or number; milter.socketGroup); unset: the process's own group. */
  socketGroup?: string;
  maxPacketBytes?: number;
  maxConnections?: number;
  timeouts?: Partial<SessionTimeouts>;
  limits?: Partial<MessageLimits>;
  macros?: MacroRequest;
  observe?: (command: string, elapsedNs: number) => void;
}

const DEFAULT_TIMEOUTS: SessionTimeouts = { idleMs: 900_000, packetMs: 30_000, handlerMs: 10_000 };

export class MilterServer {
  private readonly server: net.Server;
  private readonly sessions = new Set<MilterSession>();
  private nextId = 1;
  private listening = false;
  private observer: ((command: string, elapsedNs: number) => void) | undefined;
  /** The MTA end's name for sessions on a unix socket (no remote address): the listen spec. */
  private readonly local: string;
  /** The sessions' shared options (sessionOptions), made at the first connection. */
  private shared: SessionOptions | undefined;
  private readonly ended = (session: MilterSession): void => void this.sessions.delete(session);
  /** Ticks the sessions' idle checks (see IdleClock). */
  private readonly clock: IdleClock;
  /** Every session's handler deadlines, one timer for all. */
  private readonly deadlines: Deadlines;
  private readonly timeouts: SessionTimeouts;

  constructor(private readonly opts: MilterServerOptions) {
    this.server = net.createServer((socket) => this.accept(socket));
    this.server.maxConnections = opts.maxConnections ?? 1000;
    this.local = formatListen(opts.listen);
    this.observer = opts.observe;
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...opts.timeouts };
    this.clock = new IdleClock(this.timeouts.idleMs);
    this.deadlines = new Deadlines(this.timeouts.handlerMs);
    this.server.on('drop', (d) =>
      opts.log.warn(
        { peer: d ? `${d.remoteAddress}:${d.remotePort}` : undefined, max: this.server.maxConnections },
        'milter connection refused: too many connections',
      ),
    );
  }

  /** Where we listen, in Postfix notation (with the real port when 0 was asked). */
  get address(): string {
    const a = this.server.address();
    if (a && typeof a === 'object') return formatListen({ kind: 'inet', host: a.address, port: a.port });
    return formatListen(this.opts.listen);
  }

  get port(): number | undefined {
    const a = this.server.address();
    return a && typeof a === 'object' ? a.port : undefined;
  }

  /** Time the replies of connections accepted from now on (benchmarks), or stop timing them. */
  observe(observer: ((command: string, elapsedNs: number) => void) | undefined): void {
    this.observer = observer;
    this.shared = undefined;
  }

  get connections(): number {
    return this.sessions.size;
  }

  async start(): Promise<void> {
    const spec = this.opts.listen;
    // In a worker of a multi-process serve the primary did it: the live socket on the path is ours.
    if (spec.kind === 'unix' && !cluster.isWorker) await removeStaleSocket(spec.path, 'MILTER_LISTEN');
    await new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void => {
        reject(new MssError('MILTER_LISTEN', `cannot listen on ${formatListen(spec)}: ${err.message}`, { listen: formatListen(spec) }, { cause: err }));
      };
      this.server.once('error', onError);
      const ready = (): void => {
        this.server.off('error', onError);
        resolve();
      };
      if (spec.kind === 'unix') this.server.listen(spec.path, ready);
      else this.server.listen(spec.port, spec.host, ready);
    });
    this.server.on('error', (err) => this.opts.log.error({ err: err.message }, 'milter listener error'));
    if (spec.kind === 'unix') {
      const group = this.opts.socketGroup;
      const gid = group === undefined ? undefined : groupId(group, 'milter.socketGroup', 'MILTER_LISTEN');
      restrictSocket(spec.path, this.opts.socketMode ?? 0o660, gid, 'MILTER_LISTEN');
    }
    this.listening = true;
    this.clock.start(() => this.checkIdle());
    this.opts.log.info({ listen: this.address }, 'milter listening');
  }

  /** Stop listening and close every connection; Postfix applies milter_default_action to work in flight. */
  async stop(graceMs = 2000): Promise<void> {
    if (!this.listening) return;
    this.listening = false;
    this.clock.stop();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    // Let a decision being computed reach the MTA, but do not wait for idle connections.
    const deadline = Date.now() + graceMs;
    while ([...this.sessions].some((s) => s.busy) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    for (const s of this.sessions) s.close();
    await Promise.all([...this.sessions].map((s) => s.done));
    await closed;
  }

  /** Every session's idle check, once per tick of the shared clock. */
  private checkIdle(): void {
    for (const s of this.sessions) s.checkIdle();
  }

  private accept(socket: net.Socket): void {
    const session = new MilterSession(socket, `m${(this.nextId++).toString(36)}`, (this.shared ??= this.sessionOptions()), this.ended);
    this.sessions.add(session);
  }

  /** What every session shares, made once (and again when observe() changes the observer). */
  private sessionOptions(): SessionOptions {
    const handler = this.opts.handler;
    return {
      local: this.local,
      handler,
      log: this.opts.log,
      maxPacket: this.opts.maxPacketBytes ?? 1024 * 1024,
      timeouts: this.timeouts,
      limits: { ...DEFAULT_MESSAGE_LIMITS, ...this.opts.limits },
      wanted: wantedSteps(handler, this.opts.macros ?? REQUESTED_MACROS),
      clock: this.clock,
      deadlines: this.deadlines,
      ...(this.observer ? { observe: this.observer } : {}),
    };
  }
}
