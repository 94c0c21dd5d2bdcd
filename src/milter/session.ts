// One milter connection from the MTA: negotiation, then events in order, each answered (when
// the MTA waits for an answer) with the handler's decision. Events are processed strictly one
// after the other, so an async handler cannot reorder replies. Whatever goes wrong stays in
// this connection: a protocol violation closes it (Postfix then applies
// milter_default_action), a handler that throws or times out gets the message temp-failed.
import type net from 'node:net';
import { MssError, asMssError } from '../errors.js';
import type { Logger } from '../log.js';
import { drained } from '../net/drained.js';
import { parseCommandAt, type MilterCommand } from './commands.js';
import { Action, Cmd, commandName } from './constants.js';
import { PacketDecoder } from './framing.js';
import { REPLY_PACKET, type ConnectInfo, type Decision, type EnvelopeAddress, type HeaderField, type MilterHandler, type SessionContext } from './handler.js';
import { formatReply } from './reply.js';
import { Deadlines } from './deadlines.js';
import { EomView } from './eom-context.js';
import { MacroStore } from './macros.js';
import { DEFAULT_MESSAGE_LIMITS, MessageState, parseEnvelope, type MessageLimits } from './message.js';
import { agree, encodeAgreement, type Agreement, type MacroRequest, type Offer, type Wanted } from './negotiation.js';
import { ReplyBatch } from './reply-batch.js';
import { encodeReplyCode, encodeResponse } from './responses.js';

/** Replies not yet taken by the MTA beyond which no further packet is handled (a peer that does not read). */
const REPLY_BACKLOG_BYTES = 64 * 1024;

export interface SessionTimeouts {
  /** Close a connection on which the MTA sent nothing for this long (and we owe nothing). */
  idleMs: number;
  /** Close a connection whose MTA started a packet and did not finish it in this time. */
  packetMs: number;
  /** Temp-fail when a handler callback takes longer (keep it below milter_command_timeout). */
  handlerMs: number;
}

/**
 * What every session of one server shares: made once by the server, not per connection
 * (issue 20: the option objects spread for each connection were part of its set-up cost).
 */
export interface SessionOptions {
  /** What to call the MTA end when the socket has no remote address (a unix socket: the listen path). */
  local: string;
  handler: MilterHandler;
  /** The server's logger; the session's own (with its id) is made the first time it logs. */
  log: Logger;
  maxPacket: number;
  timeouts: SessionTimeouts;
  limits: MessageLimits;
  /** The steps the handler answers and the macros it asks for (wantedSteps). */
  wanted: Wanted;
  /** The server's coarse clock, whose ticks check every session's idle time (checkIdle). */
  clock: IdleClock;
  /** The server's handler deadlines (timeouts.handlerMs after each async decision began). */
  deadlines: Deadlines;
  /** Called after each reply with the command it answers and the time spent (benchmarks, metrics). */
  observe?: (command: string, elapsedNs: number) => void;
}

/**
 * A coarse clock for the sessions' idle timeouts: one timer per server ticks every
 * idleMs / 8 (at most every second) and lets each session check itself, instead of a timer
 * per socket that Node re-arms at every read and write (two dozen times per message;
 * issue 20). A session stamps the tick of its last activity; it is idle once more than
 * idleMs have surely passed since: closed between idleMs and idleMs + 2 ticks after it.
 */
export class IdleClock {
  /** Ticks since the clock started. */
  tick = 0;
  readonly periodMs: number;
  private timer: NodeJS.Timeout | undefined;

  constructor(idleMs: number) {
    this.periodMs = Math.max(1, Math.min(1000, Math.floor(idleMs / 8)));
  }

  /** At least `ms` have passed since `stamp` (a tick read at the time): the tick then may have been almost over. */
  elapsed(stamp: number, ms: number): boolean {
    return (this.tick - stamp - 1) * this.periodMs >= ms;
  }

  start(onTick: () => void): void {
    this.timer ??= setInterval(() => {
      this.tick++;
      onTick();
    }, this.periodMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

/** What a handler answers: the events it has a callback for. */
export function wantedSteps(h: MilterHandler, macros: MacroRequest): Wanted {
  return {
    connect: !!h.connect,
    helo: !!h.helo,
    mail: !!h.mail,
    rcpt: !!h.rcpt,
    data: !!h.data,
    header: !!h.header,
    eoh: !!h.eoh,
    addHeaders: h.addsHeaders !== false,
    macros,
  };
}

type Stage = 'connect' | 'helo' | 'mail' | 'rcpt' | 'data' | 'header' | 'eoh' | 'eom';
/** Stages that concern the connection, not a message: a failure there does not fail a message. */
const connectionStage = (stage: Stage): boolean => stage === 'connect' || stage === 'helo';
/** The replies every message gets, encoded once. */
const TEMPFAIL_REPLY = encodeResponse({ type: 'tempfail' });
const CONTINUE_REPLY = encodeResponse({ type: 'continue' });
const ACCEPT_REPLY = encodeResponse({ type: 'accept' });
const REJECT_REPLY = encodeResponse({ type: 'reject' });
const DISCARD_REPLY = encodeResponse({ type: 'discard' });
const BODYEOB = Cmd.BODYEOB.charCodeAt(0);

/**
 * Agreements already computed, by macro request, then offer and wanted steps: Postfix
 * offers the same on every connection, and computing and encoding it each time was ~1 %
 * of the milter's busy time (issue 20). Agreements are never modified once made.
 */
interface KnownAgreement {
  agreement: Agreement;
  reply: Buffer;
  /** By command byte: 1 when the MTA waits for our reply to it (agreement.replyExpected, and end of message). */
  awaited: Uint8Array;
}
const agreements = new WeakMap<MacroRequest, Map<string, KnownAgreement>>();

function agreementFor(offer: Offer, wanted: Wanted): KnownAgreement {
  let byKey = agreements.get(wanted.macros);
  if (!byKey) agreements.set(wanted.macros, (byKey = new Map()));
  let steps = 0;
  for (const want of [wanted.connect, wanted.helo, wanted.mail, wanted.rcpt, wanted.data, wanted.header, wanted.eoh, wanted.addHeaders])
    steps = (steps << 1) | (want ? 1 : 0);
  const key = `${offer.version}/${offer.actions}/${offer.protocol}/${steps}`;
  let known = byKey.get(key);
  if (!known) {
    // Bounded: an MTA could offer any words, so at most a few dozen are remembered.
    if (byKey.size >= 64) byKey.clear();
    const agreement = agree(offer, wanted);
    const awaited = new Uint8Array(256);
    for (const code of agreement.replyExpected) awaited[code.charCodeAt(0)] = 1;
    awaited[BODYEOB] = 1;
    known = { agreement, reply: encodeAgreement(agreement, wanted.macros), awaited };
    byKey.set(key, known);
  }
  return known;
}

function isPromise<T>(v: unknown): v is Promise<T> {
  return typeof (v as { then?: unknown } | null | undefined)?.then === 'function';
}

/**
 * The context every callback of one connection gets. A small class with plain fields that
 * the session updates (issue 20: an object literal with getters per connection was a V8
 * slow path, ~2.6 % of the session framework's own time); the handler sees it read-only
 * through SessionContext.
 */
class ConnectionContext implements SessionContext {
  client: ConnectInfo | undefined = undefined;
  helo: string | undefined = undefined;
  message: MessageState = NO_MESSAGE;
  state = new Map<string, unknown>();
  readonly macros = new MacroStore();
  private childLog: Logger | undefined = undefined;

  constructor(
    readonly id: string,
    readonly peer: string,
    private readonly baseLog: Logger,
  ) {}

  get queueId(): string | undefined {
    return this.macros.get('i') || undefined;
  }

  /**
   * This connection's logger, made the first time it logs: most connections log nothing,
   * and a pino child per connection was ~1 % of the milter's busy time (issue 20).
   */
  get log(): Logger {
    return (this.childLog ??= this.baseLog.child({ milter: this.id }));
  }
}

/**
 * The message between transactions (before the first MAIL, after an end of message or an
 * abort): nothing in it. Shared, never written: only commands of a transaction touch the
 * message, and a transaction starts with a MessageState of its own (startMessage).
 */
const NO_MESSAGE = new MessageState(DEFAULT_MESSAGE_LIMITS);

export class MilterSession {
  private doneWaiters: Array<() => void> | undefined;
  private ended = false;
  private readonly decoder: PacketDecoder;
  private readonly ctx: ConnectionContext;
  private agreement: Agreement | undefined;
  /** By command byte: the MTA waits for a reply (see KnownAgreement). */
  private awaited: Uint8Array | undefined;
  /** A handler failed during this message: every later answer for it is a temporary failure. */
  private messageFailed = false;
  /** An SMFIC_MAIL opened a transaction that no end of message, abort or SMFIC_QUIT_NC closed. */
  private inTransaction = false;
  /** Replies of the current drain pass: one write when the pass ends or waits (see reply-batch.ts). */
  private readonly replies: ReplyBatch;
  private draining = false;
  /** Waiting for the MTA to read our replies: an idle connection then is the MTA's doing, not ours. */
  private waitingForPeer = false;
  private closed = false;
  private packetTimer: NodeJS.Timeout | undefined;
  /** The command whose callback the pass waits for, and since when (the observer's timing). */
  private waitingCode: string | undefined;
  private waitingSince = 0n;
  /** The clock's tick at the last read or write (checkIdle). */
  private lastActive: number;
  /** The MTA end of the socket, read while the socket is open (logs after its close name it too). */
  private readonly peer: string;

  constructor(
    private readonly socket: net.Socket,
    id: string,
    private readonly opts: SessionOptions,
    /** Called once when the connection has ended and the handler's close callback is done. */
    private readonly onEnd?: (session: MilterSession) => void,
  ) {
    this.peer = socket.remoteAddress ? `${socket.remoteAddress}:${socket.remotePort}` : opts.local;
    this.decoder = new PacketDecoder(opts.maxPacket);
    this.replies = new ReplyBatch(socket);
    this.ctx = new ConnectionContext(id, this.peer, opts.log);
    // Replies are small and awaited one by one: no Nagle delay (there is none on a unix socket).
    if (socket.remoteAddress) socket.setNoDelay(true);
    this.lastActive = opts.clock.tick;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.log.debug({ peer: this.peer, err: err.message }, 'milter socket error'));
    socket.on('close', () => this.onClose());
  }

  /** Settles once the connection has ended and the handler's close callback is done (made when asked: server stop). */
  get done(): Promise<void> {
    if (this.ended) return Promise.resolve();
    return new Promise((resolve) => (this.doneWaiters ??= []).push(resolve));
  }

  private get log(): Logger {
    return this.ctx.log;
  }

  /** A handler call is in flight or events wait for one (received events are always being drained). */
  get busy(): boolean {
    return this.draining;
  }

  /** Close the connection (server stop); Postfix applies milter_default_action to what is in flight. */
  close(): void {
    this.closed = true;
    this.socket.destroy();
  }

  /**
   * The idle check, from the server's IdleClock at each of its ticks (not a socket timer,
   * which every read and write re-arms: issue 20). Closes a connection with no read or
   * write for idleMs: a peer that does not read the replies we wait to write (slow peer),
   * or an MTA that sends nothing while we owe it nothing (idle); not one whose handler is
   * still deciding (it answers, or its handlerMs runs out, first).
   */
  checkIdle(): void {
    if (this.closed || !this.opts.clock.elapsed(this.lastActive, this.opts.timeouts.idleMs)) return;
    if (this.waitingForPeer) this.fail(new MssError('MILTER_SLOW_PEER', `the MTA did not read our replies for ${this.opts.timeouts.idleMs} ms`));
    else if (!this.busy) this.fail(new MssError('MILTER_IDLE_TIMEOUT', `no command from the MTA for ${this.opts.timeouts.idleMs} ms`));
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.lastActive = this.opts.clock.tick;
    // Received bytes wait in the decoder as they came (no object per packet until its turn).
    this.decoder.feed(chunk);
    // Only events the MTA sends without waiting (no-reply steps, macros) can pile up; stop
    // reading rather than buffer without bound.
    if (this.decoder.pending > 4 * this.opts.maxPacket) this.socket.pause();
    if (!this.draining) this.drain();
  }

  /** Called once every complete packet is taken: what the decoder still holds is a partial packet. */
  private armPacketTimer(): void {
    if (this.decoder.pending === 0) {
      if (this.packetTimer) clearTimeout(this.packetTimer);
      this.packetTimer = undefined;
    } else if (!this.packetTimer) {
      this.packetTimer = setTimeout(() => {
        this.fail(new MssError('MILTER_SLOW_PEER', `partial packet (${this.decoder.pending} bytes) not completed within ${this.opts.timeouts.packetMs} ms`));
      }, this.opts.timeouts.packetMs);
      this.packetTimer.unref();
    }
  }

  /**
   * Handle every complete packet received. Synchronous while the handler decides
   * synchronously — a packet costs no promise then (issue 20: one per read, 14 per message,
   * was a measurable part of the milter's time) —; at the first wait (a handler that went
   * async, a peer not reading its replies) the pass stops and what it waits for calls
   * drain again (resume): no promise of ours per wait either (issue 20: the end of message
   * is async whenever the journal's store is: Redis). Either way the replies of the pass
   * leave in one write when it ends or before it waits.
   */
  private drain(): void {
    this.draining = true;
    try {
      if (this.pass()) return;
    } catch (err) {
      this.fail(err);
    }
    this.flush();
    this.draining = false;
  }

  /**
   * What the pass waited for is done: `act` (a decision's answer, the end of an abort) runs,
   * then the packets that wait are handled. A throw in `act` ends the pass as a protocol
   * error would.
   */
  private resume(act: () => void): void {
    try {
      act();
    } catch (err) {
      this.fail(err);
      this.flush();
      this.draining = false;
      return;
    }
    const observe = this.opts.observe;
    if (observe && this.waitingCode !== undefined) observe(this.waitingCode, Number(process.hrtime.bigint() - this.waitingSince));
    this.waitingCode = undefined;
    this.drain();
  }

  /** Take packets until none is complete; true when it stopped to wait (see drain). Throws on protocol errors. */
  private pass(): boolean {
    while (!this.closed) {
      // A peer that does not read our replies is not read either (bounded memory): the
      // next packet waits until what we wrote has gone out.
      if (this.socket.writableLength > REPLY_BACKLOG_BYTES) {
        this.socket.pause();
        this.waitingForPeer = true;
        void drained(this.socket).then(() =>
          this.resume(() => {
            this.waitingForPeer = false;
          }),
        );
        return true;
      }
      const code = this.decoder.peek();
      if (code === undefined) {
        // At most one partial packet is held: read again, whatever paused us.
        if (this.socket.isPaused()) this.socket.resume();
        this.armPacketTimer();
        return false;
      }
      const observe = this.opts.observe;
      if (code === Cmd.BODY && this.agreement) {
        // Body chunks are the bulk of the stream and are only counted: taken from the raw
        // bytes, no object per packet, so a flood of tiny ones does not churn the heap.
        const started = observe ? process.hrtime.bigint() : 0n;
        const bytes = this.decoder.peekedDataLength;
        this.decoder.skip();
        this.resumeReading();
        this.body(code, bytes);
        if (observe) observe(code, Number(process.hrtime.bigint() - started));
        continue;
      }
      const started = observe ? process.hrtime.bigint() : 0n;
      // Parsed where it lies in the received bytes, then dropped: no packet object or view.
      const cmd = parseCommandAt(code, this.decoder.peekedBuffer, this.decoder.peekedStart, this.decoder.peekedEnd);
      this.decoder.skip();
      this.resumeReading();
      if (this.handle(cmd, code) === WAIT) {
        // Nothing answered so far waits for a handler that may take seconds.
        this.flush();
        this.waitingCode = code;
        this.waitingSince = started;
        return true;
      }
      if (observe) observe(code, Number(process.hrtime.bigint() - started));
    }
    return false;
  }

  /** Read again once what we hold is down to about one packet (see onData). */
  private resumeReading(): void {
    if (this.decoder.pending <= this.opts.maxPacket && this.socket.isPaused()) this.socket.resume();
  }

  /** Handle one packet; WAIT when a handler went async (resume goes on). Throws on protocol errors. */
  private handle(cmd: MilterCommand, code: string): Waits {
    if (!this.agreement) {
      if (cmd.type !== 'optneg') throw new MssError('MILTER_PROTOCOL', `expected SMFIC_OPTNEG first, got ${commandName(code)}`);
      return this.negotiate(cmd);
    }
    return this.dispatch(cmd, code);
  }

  private negotiate(cmd: Extract<MilterCommand, { type: 'optneg' }>): void {
    const { agreement, reply, awaited } = agreementFor(cmd, this.opts.wanted);
    this.agreement = agreement;
    this.awaited = awaited;
    this.write(reply);
    // Only when it is written: the connection's logger is made when first used (ConnectionContext.log).
    if (this.opts.log.isLevelEnabled('debug'))
      this.log.debug(
        { peer: this.peer, offered: cmd, agreed: { version: agreement.version, actions: agreement.actions, protocol: agreement.protocol } },
        'milter negotiated',
      );
  }

  private dispatch(cmd: MilterCommand, code: string): Waits {
    const ctx = this.ctx;
    switch (cmd.type) {
      case 'optneg':
        throw new MssError('MILTER_PROTOCOL', 'second SMFIC_OPTNEG on one connection');
      case 'macro':
        ctx.macros.define(cmd.for, cmd.macros);
        return;
      case 'connect':
        ctx.client =
          cmd.port === undefined
            ? { hostname: cmd.hostname, family: cmd.family }
            : { hostname: cmd.hostname, family: cmd.family, port: cmd.port, address: cmd.address ?? '' };
        return this.decide(code, 'connect', undefined);
      case 'helo':
        ctx.helo = cmd.name;
        return this.decide(code, 'helo', cmd.name);
      case 'mail': {
        // A new transaction: whatever the previous one left behind is gone.
        this.startMessage();
        this.inTransaction = true;
        const sender = parseEnvelope(cmd.args);
        ctx.message.sender = sender;
        return this.decide(code, 'mail', sender);
      }
      case 'rcpt':
        this.requireTransaction(code);
        return this.decide(code, 'rcpt', parseEnvelope(cmd.args));
      case 'data':
        this.requireTransaction(code);
        return this.decide(code, 'data', undefined);
      case 'header': {
        this.requireTransaction(code);
        const field = { name: cmd.name, value: cmd.value };
        ctx.message.addHeader(field);
        return this.decide(code, 'header', field);
      }
      case 'eoh':
        this.requireTransaction(code);
        return this.decide(code, 'eoh', undefined);
      case 'body':
        return this.body(code, cmd.chunk.length);
      case 'eom':
        this.requireTransaction(code);
        ctx.message.bodyBytes += cmd.chunk.length;
        return this.decide(code, 'eom', new EomView(ctx, ((this.agreement?.actions ?? 0) & Action.ADDHDRS) !== 0));
      case 'abort':
        return this.abortMessage();
      case 'quit':
        this.closed = true;
        this.flush();
        // The MTA sends nothing after SMFIC_QUIT and reads nothing (milter8.c closes its end):
        // with every reply handed to the kernel, the socket is closed at once, without the
        // half-close of end() — a shutdown(2), the peer's EOF read back, the stream's finish
        // events — once per connection, i.e. per message from Postfix's cleanup (issue 20).
        if (this.socket.writableLength === 0) this.socket.destroy();
        else this.socket.end();
        return;
      case 'quit-nc':
        // Same connection, next SMTP session: forget everything about the previous one.
        ctx.client = undefined;
        ctx.helo = undefined;
        ctx.state = new Map();
        ctx.macros.clearAll();
        this.endMessage();
        return;
      case 'unknown':
        if (this.expects(code)) this.write(CONTINUE_REPLY);
        return;
    }
  }

  /**
   * Postfix sends RCPT, DATA, headers and body only after the MAIL that opens the
   * transaction on this connection (milter8.c sends them in its ENVELOPE/MESSAGE states, the
   * SMTP server only after MAIL; we never negotiate SMFIP_NOMAIL) and ends it with SMFIC_ABORT
   * or end of message. Out of that order the peer is not an MTA in step with us: close rather
   * than answer, e.g. body packets nobody opened.
   */
  private requireTransaction(code: string): void {
    if (!this.inTransaction) {
      throw new MssError(
        'MILTER_PROTOCOL',
        `${commandName(code)} outside a transaction (no SMFIC_MAIL since the last end of message, abort or SMFIC_QUIT_NC)`,
        { command: commandName(code) },
      );
    }
  }

  /** A body chunk: counted (no rule reads the body), answered when the MTA waits for it. */
  private body(code: string, bytes: number): void {
    this.requireTransaction(code);
    this.ctx.message.bodyBytes += bytes;
    if (this.expects(code)) this.write(CONTINUE_REPLY);
  }

  private expects(code: string): boolean {
    return this.awaited ? this.awaited[code.charCodeAt(0)] === 1 : true;
  }

  private startMessage(): void {
    this.ctx.message = new MessageState(this.opts.limits);
    this.messageFailed = false;
  }

  /** The transaction is over (end of message, abort, SMFIC_QUIT_NC): nothing of it stays. */
  private endMessage(): void {
    this.ctx.macros.clearMessage();
    this.ctx.message = NO_MESSAGE;
    this.messageFailed = false;
    this.inTransaction = false;
  }

  /** The handler's callback for a stage, called with what the stage carries; undefined when it has none. */
  private call(stage: Stage, arg: unknown): unknown {
    const h = this.opts.handler;
    const ctx = this.ctx;
    switch (stage) {
      case 'connect':
        return h.connect ? h.connect(ctx) : NO_CALLBACK;
      case 'helo':
        return h.helo ? h.helo(ctx, arg as string) : NO_CALLBACK;
      case 'mail':
        return h.mail ? h.mail(ctx, arg as EnvelopeAddress) : NO_CALLBACK;
      case 'rcpt':
        return h.rcpt ? h.rcpt(ctx, arg as EnvelopeAddress) : NO_CALLBACK;
      case 'data':
        return h.data ? h.data(ctx) : NO_CALLBACK;
      case 'header':
        return h.header ? h.header(ctx, arg as HeaderField) : NO_CALLBACK;
      case 'eoh':
        return h.eoh ? h.eoh(ctx) : NO_CALLBACK;
      case 'eom':
        return h.eom ? h.eom(arg as EomView) : NO_CALLBACK;
    }
  }

  /**
   * Run the handler's callback for one stage and answer with its decision (continue when it
   * has none). `arg` is what the stage carries: the recipient at RCPT (kept when not
   * refused), the end-of-message context at EOM (its header edits leave with the decision,
   * one batch of the drain pass; the message ends once decided, whatever the outcome).
   */
  private decide(code: string, stage: Stage, arg: unknown): Waits {
    const expect = this.expects(code);
    if (this.messageFailed && !connectionStage(stage)) {
      if (expect) this.write(TEMPFAIL_REPLY);
      this.decided(stage, arg);
      return;
    }
    let result: unknown;
    try {
      result = this.call(stage, arg);
    } catch (err) {
      this.handlerFailed(stage, err, expect);
      this.decided(stage, arg);
      return;
    }
    if (result === NO_CALLBACK) result = undefined;
    else if (isPromise(result)) return this.settle(stage, result, expect, arg);
    try {
      this.conclude(stage, result, expect, arg);
    } finally {
      this.decided(stage, arg);
    }
  }

  /** After every decision at a stage, whatever it was: the end of message closes its context (no edit any more) and the message. */
  private decided(stage: Stage, arg: unknown): void {
    if (stage !== 'eom') return;
    (arg as EomView).close();
    this.endMessage();
  }

  /**
   * Wait for an async decision, at most timeouts.handlerMs: a deadline of the server's
   * (deadlines.ts, one timer for all) and the decision's own promise, nothing else (the
   * end of message is async for every message whose journal append is: Redis; with the
   * embedded store it decides synchronously and never comes here). The first of the
   * decision and the timeout wins; a late decision is dropped.
   */
  private settle(stage: Stage, pending: Promise<unknown>, expect: boolean, arg: unknown): Waits {
    let settled = false;
    const answer = (act: () => void): void => {
      settled = true;
      this.resume(() => {
        try {
          if (!this.closed) act();
        } finally {
          this.decided(stage, arg);
        }
      });
    };
    const deadline = this.opts.deadlines.add(() => {
      if (settled) return;
      answer(() =>
        this.handlerFailed(
          stage,
          new MssError('MILTER_HANDLER_TIMEOUT', `handler did not decide at ${stage} within ${this.opts.timeouts.handlerMs} ms`),
          expect,
        ),
      );
    });
    pending.then(
      (result) => {
        if (settled) return;
        this.opts.deadlines.cancel(deadline);
        answer(() => {
          try {
            this.conclude(stage, result, expect, arg);
          } catch (err) {
            this.handlerFailed(stage, err, expect);
          }
        });
      },
      (err: unknown) => {
        if (settled) return;
        this.opts.deadlines.cancel(deadline);
        answer(() => this.handlerFailed(stage, err, expect));
      },
    );
    return WAIT;
  }

  private conclude(stage: Stage, result: unknown, expect: boolean, arg: unknown): void {
    let response: Buffer | undefined;
    let decision: Decision;
    try {
      decision = (result ?? CONTINUE_DECISION) as Decision;
      response = this.toResponse(stage, decision);
    } catch (err) {
      this.handlerFailed(stage, err, expect);
      return;
    }
    const goesOn = decision.action === 'continue' || decision.action === 'accept';
    if (stage === 'rcpt') {
      if (goesOn) this.ctx.message.recipients.push(arg as EnvelopeAddress);
    } else if (stage === 'eom') {
      const eom = arg as EomView;
      eom.close();
      // The header edits and the decision leave together: they are one batch of the drain pass.
      if (goesOn) for (const e of eom.edits) this.write(encodeResponse(e));
    }
    if (expect) this.write(response);
    else if (decision.action !== 'continue')
      this.log.warn({ peer: this.peer, stage, decision: decision.action }, 'milter decision ignored: the MTA does not wait for a reply at this stage');
  }

  /** Map a decision to the wire, refusing what the protocol or Postfix would not accept. */
  private toResponse(stage: Stage, d: Decision): Buffer {
    switch (d?.action) {
      case 'continue':
        return CONTINUE_REPLY;
      case 'accept':
        return ACCEPT_REPLY;
      case 'reject':
        return REJECT_REPLY;
      case 'tempfail':
        return TEMPFAIL_REPLY;
      case 'discard':
        if (connectionStage(stage)) throw new MssError('MILTER_DECISION_INVALID', `discard is not allowed at ${stage} (nothing to discard yet)`);
        return DISCARD_REPLY;
      case 'reply':
        // Made by decide.reply: checked and encoded then; built by hand: checked now.
        return d[REPLY_PACKET] ?? encodeReplyCode(formatReply(d.reply));
      default:
        throw new MssError('MILTER_DECISION_INVALID', `handler returned ${JSON.stringify(d)?.slice(0, 80)} at ${stage}, not a Decision`);
    }
  }

  private handlerFailed(stage: Stage, err: unknown, expect: boolean): void {
    const e = asMssError(err, 'MILTER_HANDLER_FAILED');
    this.log.error(
      { peer: this.peer, stage, queueId: this.ctx.queueId, code: e.code, err: e.message },
      `milter handler failed at ${stage}: temporary failure for this ${connectionStage(stage) ? 'connection' : 'message'}`,
    );
    if (!connectionStage(stage)) this.messageFailed = true;
    if (expect) this.write(TEMPFAIL_REPLY);
  }

  /** The MTA abandoned the message: the handler's abort callback (waited for only when async), then the message ends. */
  private abortMessage(): Waits {
    let aborting: unknown;
    try {
      aborting = this.opts.handler.abort?.(this.ctx);
    } catch (err) {
      this.abortFailed(err);
    }
    if (!isPromise(aborting)) {
      this.endMessage();
      return;
    }
    aborting.then(
      () => this.resume(() => this.endMessage()),
      (err: unknown) =>
        this.resume(() => {
          this.abortFailed(err);
          this.endMessage();
        }),
    );
    return WAIT;
  }

  private abortFailed(err: unknown): void {
    this.log.warn({ peer: this.peer, err: asMssError(err).message }, 'milter handler abort callback failed');
  }

  /** Replies are gathered while a drain pass runs, written at once otherwise. */
  private write(buf: Buffer): void {
    this.replies.add(buf);
    if (!this.draining) this.flush();
  }

  private flush(): void {
    if (this.replies.bytes > 0) this.lastActive = this.opts.clock.tick;
    this.replies.flush();
  }

  private fail(err: unknown): void {
    if (this.closed && this.socket.destroyed) return;
    const e = asMssError(err, 'MILTER_PROTOCOL');
    this.log.warn({ peer: this.peer, code: e.code, reason: e.message }, 'closing milter connection');
    this.closed = true;
    this.socket.destroy();
  }

  /** The connection is gone: the handler's close callback (awaited only when it is async), then the end. */
  private onClose(): void {
    this.closed = true;
    if (this.packetTimer) clearTimeout(this.packetTimer);
    let closing: unknown;
    try {
      closing = this.opts.handler.close?.(this.ctx);
    } catch (err) {
      this.closeFailed(err);
    }
    if (isPromise(closing))
      closing.then(
        () => this.end(),
        (err: unknown) => (this.closeFailed(err), this.end()),
      );
    else this.end();
  }

  private closeFailed(err: unknown): void {
    this.log.warn({ peer: this.peer, err: asMssError(err).message }, 'milter handler close callback failed');
  }

  private end(): void {
    this.ended = true;
    this.onEnd?.(this);
    const waiters = this.doneWaiters;
    this.doneWaiters = undefined;
    if (waiters) for (const w of waiters) w();
  }
}

/** A packet's handling stopped to wait for a callback; resume() goes on. */
const WAIT = true;
type Waits = typeof WAIT | undefined | void;

/** call()'s answer when the handler has no callback for the stage (undefined is "continue" from a callback). */
const NO_CALLBACK = Symbol('no callback');
const CONTINUE_DECISION: Decision = { action: 'continue' };
