// One milter connection from the MTA: negotiation, then events in order, each answered (when
// the MTA waits for an answer) with the handler's decision. Events are processed strictly one
// after the other, so an async handler cannot reorder replies. Whatever goes wrong stays in
// this connection: a protocol violation closes it (Postfix then applies
// milter_default_action), a handler that throws or times out gets the message temp-failed.
import type net from 'node:net';
import { MssError, asMssError } from '../errors.js';
import type { Logger } from '../log.js';
import { drained } from '../net/drained.js';
import { parseCommand, type MilterCommand } from './commands.js';
import { Action, Cmd, commandName } from './constants.js';
import { PacketDecoder, type Packet } from './framing.js';
import type { ConnectInfo, Decision, MilterHandler, SessionContext } from './handler.js';
import { EomView } from './eom-context.js';
import { MacroStore } from './macros.js';
import { MessageState, parseEnvelope, type MessageLimits } from './message.js';
import { agree, encodeAgreement, type Agreement, type MacroRequest, type Offer, type Wanted } from './negotiation.js';
import { ReplyBatch } from './reply-batch.js';
import { formatReply } from './reply.js';
import { encodeResponse, type MilterResponse } from './responses.js';

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

export interface SessionOptions {
  id: string;
  /** What to call the MTA end when the socket has no remote address (a unix socket: the listen path). */
  local: string;
  handler: MilterHandler;
  /** The server's logger; the session's own (with its id) is made the first time it logs. */
  log: Logger;
  maxPacket: number;
  timeouts: SessionTimeouts;
  limits: MessageLimits;
  macros: MacroRequest;
  /** Called after each reply with the command it answers and the time spent (benchmarks, metrics). */
  observe?: (command: string, elapsedNs: number) => void;
}

type Stage = 'connect' | 'helo' | 'mail' | 'rcpt' | 'data' | 'header' | 'eoh' | 'eom';
const CONNECTION_STAGES = new Set<Stage>(['connect', 'helo']);
/** Commands that belong to a transaction (Sendmail's milter protocol order, as Postfix's milter8.c and cleanup send them). */
const TRANSACTION_COMMANDS = new Set<MilterCommand['type']>(['rcpt', 'data', 'header', 'eoh', 'body', 'eom']);
const TEMPFAIL: MilterResponse = { type: 'tempfail' };
const CONTINUE: MilterResponse = { type: 'continue' };

/**
 * Agreements already computed, by macro request, then offer and wanted steps: Postfix
 * offers the same on every connection, and computing and encoding it each time was ~1 %
 * of the milter's busy time (issue 20). Agreements are never modified once made.
 */
const agreements = new WeakMap<MacroRequest, Map<string, { agreement: Agreement; reply: Buffer }>>();

function agreementFor(offer: Offer, wanted: Wanted): { agreement: Agreement; reply: Buffer } {
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
    known = { agreement, reply: encodeAgreement(agreement, wanted.macros) };
    byKey.set(key, known);
  }
  return known;
}

function isPromise<T>(v: unknown): v is Promise<T> {
  return typeof (v as { then?: unknown } | null | undefined)?.then === 'function';
}

export class MilterSession {
  readonly done: Promise<void>;
  private resolveDone!: () => void;
  private readonly decoder: PacketDecoder;
  private readonly macros = new MacroStore();
  private readonly ctx: SessionContext;
  private agreement: Agreement | undefined;
  private client: ConnectInfo | undefined;
  private heloName: string | undefined;
  private message: MessageState;
  private state = new Map<string, unknown>();
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
  private childLog: Logger | undefined;
  /** The MTA end of the socket, read while the socket is open (logs after its close name it too). */
  private readonly peer: string;

  constructor(
    private readonly socket: net.Socket,
    private readonly opts: SessionOptions,
  ) {
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    this.peer = socket.remoteAddress ? `${socket.remoteAddress}:${socket.remotePort}` : opts.local;
    this.decoder = new PacketDecoder(opts.maxPacket);
    this.replies = new ReplyBatch(socket);
    this.message = new MessageState(opts.limits);
    this.ctx = this.makeContext();
    socket.setNoDelay(true);
    socket.setTimeout(opts.timeouts.idleMs);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('timeout', () => {
      if (this.waitingForPeer) this.fail(new MssError('MILTER_SLOW_PEER', `the MTA did not read our replies for ${opts.timeouts.idleMs} ms`));
      else if (!this.busy) this.fail(new MssError('MILTER_IDLE_TIMEOUT', `no command from the MTA for ${opts.timeouts.idleMs} ms`));
    });
    socket.on('error', (err) => this.log.debug({ peer: this.peer, err: err.message }, 'milter socket error'));
    socket.on('close', () => void this.onClose());
  }

  /**
   * This connection's logger, made the first time it logs: most connections log nothing,
   * and a pino child per connection was ~1 % of the milter's busy time (issue 20).
   */
  private get log(): Logger {
    return (this.childLog ??= this.opts.log.child({ milter: this.opts.id }));
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

  private makeContext(): SessionContext {
    const self = this;
    return {
      id: this.opts.id,
      peer: this.peer,
      get client() {
        return self.client;
      },
      get helo() {
        return self.heloName;
      },
      macros: this.macros,
      get queueId() {
        return self.macros.get('i') || undefined;
      },
      get message() {
        return self.message;
      },
      get log() {
        return self.log;
      },
      get state() {
        return self.state;
      },
    };
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
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
   * was a measurable part of the milter's time) —; from the first wait on (a handler that
   * went async, a peer not reading its replies) it goes on in drainLater. Either way the
   * replies of the pass leave in one write when it ends or before it waits.
   */
  private drain(): void {
    this.draining = true;
    let waiting: Promise<void> | undefined;
    try {
      waiting = this.pass();
    } catch (err) {
      this.fail(err);
    }
    if (waiting) {
      void this.drainLater(waiting);
      return;
    }
    this.flush();
    this.draining = false;
  }

  private async drainLater(waiting: Promise<void>): Promise<void> {
    try {
      for (let w: Promise<void> | undefined = waiting; w; w = this.pass()) await w;
    } catch (err) {
      this.fail(err);
    } finally {
      this.flush();
      this.draining = false;
    }
  }

  /** Take packets until none is complete; returns what must be awaited before the next one, if anything. Throws on protocol errors. */
  private pass(): Promise<void> | undefined {
    while (!this.closed) {
      // A peer that does not read our replies is not read either (bounded memory): the
      // next packet waits until what we wrote has gone out.
      if (this.socket.writableLength > REPLY_BACKLOG_BYTES) {
        this.socket.pause();
        this.waitingForPeer = true;
        return drained(this.socket).then(() => {
          this.waitingForPeer = false;
        });
      }
      const code = this.decoder.peek();
      if (code === undefined) {
        // At most one partial packet is held: read again, whatever paused us.
        if (this.socket.isPaused()) this.socket.resume();
        this.armPacketTimer();
        return undefined;
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
      const packet = this.decoder.next() as Packet;
      this.resumeReading();
      const started = observe ? process.hrtime.bigint() : 0n;
      const pending = this.handle(packet);
      if (pending) {
        // Nothing answered so far waits for a handler that may take seconds.
        this.flush();
        return observe ? pending.then(() => observe(packet.code, Number(process.hrtime.bigint() - started))) : pending;
      }
      if (observe) observe(packet.code, Number(process.hrtime.bigint() - started));
    }
    return undefined;
  }

  /** Read again once what we hold is down to about one packet (see onData). */
  private resumeReading(): void {
    if (this.decoder.pending <= this.opts.maxPacket && this.socket.isPaused()) this.socket.resume();
  }

  /** Handle one packet; returns a promise only when a handler went async. Throws on protocol errors. */
  private handle(packet: Packet): void | Promise<void> {
    const cmd = parseCommand(packet);
    if (!this.agreement) {
      if (cmd.type !== 'optneg') throw new MssError('MILTER_PROTOCOL', `expected SMFIC_OPTNEG first, got ${commandName(packet.code)}`);
      return this.negotiate(cmd);
    }
    return this.dispatch(cmd, packet.code);
  }

  private negotiate(cmd: Extract<MilterCommand, { type: 'optneg' }>): void {
    const h = this.opts.handler;
    const wanted: Wanted = {
      connect: !!h.connect,
      helo: !!h.helo,
      mail: !!h.mail,
      rcpt: !!h.rcpt,
      data: !!h.data,
      header: !!h.header,
      eoh: !!h.eoh,
      addHeaders: h.addsHeaders !== false,
      macros: this.opts.macros,
    };
    const { agreement, reply } = agreementFor(cmd, wanted);
    this.agreement = agreement;
    this.write(reply);
    this.log.debug(
      { peer: this.peer, offered: cmd, agreed: { version: this.agreement.version, actions: this.agreement.actions, protocol: this.agreement.protocol } },
      'milter negotiated',
    );
  }

  private dispatch(cmd: MilterCommand, code: string): void | Promise<void> {
    const h = this.opts.handler;
    const ctx = this.ctx;
    if (TRANSACTION_COMMANDS.has(cmd.type)) this.requireTransaction(code);
    switch (cmd.type) {
      case 'optneg':
        throw new MssError('MILTER_PROTOCOL', 'second SMFIC_OPTNEG on one connection');
      case 'macro':
        this.macros.define(cmd.for, cmd.macros);
        return;
      case 'connect':
        this.client = {
          hostname: cmd.hostname,
          family: cmd.family,
          ...(cmd.port !== undefined ? { port: cmd.port } : {}),
          ...(cmd.address !== undefined ? { address: cmd.address } : {}),
        };
        return this.decide(code, 'connect', h.connect && (() => h.connect?.(ctx)));
      case 'helo':
        this.heloName = cmd.name;
        return this.decide(code, 'helo', h.helo && (() => h.helo?.(ctx, cmd.name)));
      case 'mail': {
        // A new transaction: whatever the previous one left behind is gone.
        this.startMessage();
        this.inTransaction = true;
        const sender = parseEnvelope(cmd.args);
        this.message.sender = sender;
        return this.decide(code, 'mail', h.mail && (() => h.mail?.(ctx, sender)));
      }
      case 'rcpt': {
        const rcpt = parseEnvelope(cmd.args);
        return this.decide(code, 'rcpt', h.rcpt && (() => h.rcpt?.(ctx, rcpt)), (d) => {
          if (d.action === 'continue' || d.action === 'accept') this.message.recipients.push(rcpt);
        });
      }
      case 'data':
        return this.decide(code, 'data', h.data && (() => h.data?.(ctx)));
      case 'header': {
        const field = { name: cmd.name, value: cmd.value };
        this.message.addHeader(field);
        return this.decide(code, 'header', h.header && (() => h.header?.(ctx, field)));
      }
      case 'eoh':
        return this.decide(code, 'eoh', h.eoh && (() => h.eoh?.(ctx)));
      case 'body':
        return this.body(code, cmd.chunk.length);
      case 'eom':
        this.message.bodyBytes += cmd.chunk.length;
        return this.endOfMessage(code);
      case 'abort':
        return this.abortMessage();
      case 'quit':
        this.closed = true;
        this.flush();
        this.socket.end();
        return;
      case 'quit-nc':
        // Same connection, next SMTP session: forget everything about the previous one.
        this.client = undefined;
        this.heloName = undefined;
        this.state = new Map();
        this.macros.clearAll();
        this.startMessage();
        this.inTransaction = false;
        return;
      case 'unknown':
        if (this.expects(code)) this.respond(CONTINUE);
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
    this.message.bodyBytes += bytes;
    if (this.expects(code)) this.respond(CONTINUE);
  }

  private expects(code: string): boolean {
    return code === Cmd.BODYEOB || (this.agreement?.replyExpected.has(code) ?? true);
  }

  private startMessage(): void {
    this.message = new MessageState(this.opts.limits);
    this.messageFailed = false;
  }

  /**
   * Run one callback and answer with its decision. `call` is undefined when the handler has
   * no callback for the stage. `after` sees the decision actually sent.
   */
  private decide(code: string, stage: Stage, call: (() => unknown) | undefined, after?: (d: Decision) => void): void | Promise<void> {
    const expect = this.expects(code);
    if (this.messageFailed && !CONNECTION_STAGES.has(stage)) {
      if (expect) this.respond(TEMPFAIL);
      return;
    }
    if (!call) {
      after?.({ action: 'continue' });
      if (expect) this.respond(CONTINUE);
      return;
    }
    let result: unknown;
    try {
      result = call();
    } catch (err) {
      this.handlerFailed(stage, err, expect);
      return;
    }
    if (isPromise(result)) return this.settle(stage, result, expect, after);
    this.conclude(stage, result, expect, after);
  }

  /**
   * Wait for an async decision, at most timeouts.handlerMs. One timer and one promise per
   * decision (the end of message is async for every message: the journal append), not a
   * race between two promises.
   */
  private settle(stage: Stage, pending: Promise<unknown>, expect: boolean, after?: (d: Decision) => void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      // The first of the decision and the timeout wins; what the winner does may throw
      // (as it would out of an await), which the drain loop handles.
      const finish = (act: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        try {
          act();
          resolve();
        } catch (err) {
          reject(err);
        }
      };
      const failed = (err: unknown): void => finish(() => !this.closed && this.handlerFailed(stage, err, expect));
      const timer = setTimeout(
        () => failed(new MssError('MILTER_HANDLER_TIMEOUT', `handler did not decide at ${stage} within ${this.opts.timeouts.handlerMs} ms`)),
        this.opts.timeouts.handlerMs,
      );
      pending.then(
        (result) =>
          finish(() => {
            if (this.closed) return;
            try {
              this.conclude(stage, result, expect, after);
            } catch (err) {
              this.handlerFailed(stage, err, expect);
            }
          }),
        failed,
      );
    });
  }

  private conclude(stage: Stage, result: unknown, expect: boolean, after?: (d: Decision) => void): void {
    let response: MilterResponse;
    let decision: Decision;
    try {
      decision = (result ?? { action: 'continue' }) as Decision;
      response = this.toResponse(stage, decision);
    } catch (err) {
      this.handlerFailed(stage, err, expect);
      return;
    }
    after?.(decision);
    if (expect) this.respond(response);
    else if (decision.action !== 'continue')
      this.log.warn({ peer: this.peer, stage, decision: decision.action }, 'milter decision ignored: the MTA does not wait for a reply at this stage');
  }

  /** Map a decision to the wire, refusing what the protocol or Postfix would not accept. */
  private toResponse(stage: Stage, d: Decision): MilterResponse {
    switch (d?.action) {
      case 'continue':
      case 'accept':
      case 'reject':
      case 'tempfail':
        return { type: d.action };
      case 'discard':
        if (CONNECTION_STAGES.has(stage)) throw new MssError('MILTER_DECISION_INVALID', `discard is not allowed at ${stage} (nothing to discard yet)`);
        return { type: 'discard' };
      case 'reply':
        return { type: 'replycode', reply: formatReply(d.reply) };
      default:
        throw new MssError('MILTER_DECISION_INVALID', `handler returned ${JSON.stringify(d)?.slice(0, 80)} at ${stage}, not a Decision`);
    }
  }

  private handlerFailed(stage: Stage, err: unknown, expect: boolean): void {
    const e = asMssError(err, 'MILTER_HANDLER_FAILED');
    this.log.error(
      { peer: this.peer, stage, queueId: this.ctx.queueId, code: e.code, err: e.message },
      `milter handler failed at ${stage}: temporary failure for this ${CONNECTION_STAGES.has(stage) ? 'connection' : 'message'}`,
    );
    if (!CONNECTION_STAGES.has(stage)) this.messageFailed = true;
    if (expect) this.respond(TEMPFAIL);
  }

  private endOfMessage(code: string): void | Promise<void> {
    const h = this.opts.handler;
    const eomCtx = new EomView(this.ctx, ((this.agreement?.actions ?? 0) & Action.ADDHDRS) !== 0);
    const finish = (d: Decision): void => {
      eomCtx.close();
      if (d.action === 'continue' || d.action === 'accept') {
        for (const e of eomCtx.edits) this.respond(e);
      }
    };
    const call = h.eom && (() => h.eom?.(eomCtx));
    const wrapUp = (): void => {
      eomCtx.close();
      this.macros.clearMessage();
      this.startMessage();
      this.inTransaction = false;
    };
    // The header edits and the decision leave together: they are one batch of the drain pass.
    const r = this.decide(code, 'eom', call, finish);
    if (r) return r.finally(wrapUp);
    wrapUp();
  }

  private async abortMessage(): Promise<void> {
    const h = this.opts.handler;
    try {
      await h.abort?.(this.ctx);
    } catch (err) {
      this.log.warn({ peer: this.peer, err: asMssError(err).message }, 'milter handler abort callback failed');
    }
    this.macros.clearMessage();
    this.startMessage();
    this.inTransaction = false;
  }

  private respond(r: MilterResponse): void {
    this.write(encodeResponse(r));
  }

  /** Replies are gathered while a drain pass runs, written at once otherwise. */
  private write(buf: Buffer): void {
    this.replies.add(buf);
    if (!this.draining) this.replies.flush();
  }

  private flush(): void {
    this.replies.flush();
  }

  private fail(err: unknown): void {
    if (this.closed && this.socket.destroyed) return;
    const e = asMssError(err, 'MILTER_PROTOCOL');
    this.log.warn({ peer: this.peer, code: e.code, reason: e.message }, 'closing milter connection');
    this.closed = true;
    this.socket.destroy();
  }

  private async onClose(): Promise<void> {
    this.closed = true;
    if (this.packetTimer) clearTimeout(this.packetTimer);
    try {
      await this.opts.handler.close?.(this.ctx);
    } catch (err) {
      this.log.warn({ peer: this.peer, err: asMssError(err).message }, 'milter handler close callback failed');
    }
    this.resolveDone();
  }
}
