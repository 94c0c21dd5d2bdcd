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
import type { ConnectInfo, Decision, EomContext, MilterHandler, SessionContext } from './handler.js';
import { MacroStore } from './macros.js';
import { MessageState, checkHeader, parseEnvelope, type MessageLimits } from './message.js';
import { agree, encodeAgreement, type Agreement, type MacroRequest } from './negotiation.js';
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
  peer: string;
  handler: MilterHandler;
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
const TEMPFAIL: MilterResponse = { type: 'tempfail' };
const CONTINUE: MilterResponse = { type: 'continue' };

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
  private queue: Packet[] = [];
  private queuedBytes = 0;
  private draining = false;
  private closed = false;
  private packetTimer: NodeJS.Timeout | undefined;
  private readonly log: Logger;

  constructor(
    private readonly socket: net.Socket,
    private readonly opts: SessionOptions,
  ) {
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    this.log = opts.log;
    this.decoder = new PacketDecoder(opts.maxPacket);
    this.message = new MessageState(opts.limits);
    this.ctx = this.makeContext();
    socket.setNoDelay(true);
    socket.setTimeout(opts.timeouts.idleMs);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('timeout', () => {
      if (!this.busy) this.fail(new MssError('MILTER_IDLE_TIMEOUT', `no command from the MTA for ${opts.timeouts.idleMs} ms`));
    });
    socket.on('error', (err) => this.log.debug({ peer: opts.peer, err: err.message }, 'milter socket error'));
    socket.on('close', () => void this.onClose());
  }

  /** A handler call is in flight or events wait for one. */
  get busy(): boolean {
    return this.draining || this.queue.length > 0;
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
      peer: this.opts.peer,
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
      log: this.log,
      get state() {
        return self.state;
      },
    };
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    let packets: Packet[];
    try {
      packets = this.decoder.push(chunk);
    } catch (err) {
      this.fail(err);
      return;
    }
    this.armPacketTimer();
    if (packets.length === 0) return;
    for (const p of packets) {
      this.queue.push(p);
      this.queuedBytes += p.data.length + 5;
    }
    // Only events the MTA sends without waiting (no-reply steps, macros) can pile up; stop
    // reading rather than buffer without bound.
    if (this.queuedBytes > 4 * this.opts.maxPacket) this.socket.pause();
    if (!this.draining) void this.drain();
  }

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

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (!this.closed && this.queue.length > 0) {
        // A peer that does not read our replies is not read either (bounded memory): the
        // next packet waits until what we wrote has gone out.
        if (this.socket.writableLength > REPLY_BACKLOG_BYTES) {
          this.socket.pause();
          await drained(this.socket);
          continue;
        }
        const packet = this.queue.shift() as Packet;
        this.queuedBytes -= packet.data.length + 5;
        if (this.queuedBytes <= this.opts.maxPacket && this.socket.isPaused()) this.socket.resume();
        const started = this.opts.observe ? process.hrtime.bigint() : 0n;
        const pending = this.handle(packet);
        if (pending) await pending;
        if (this.opts.observe) this.opts.observe(packet.code, Number(process.hrtime.bigint() - started));
      }
    } catch (err) {
      this.fail(err);
    } finally {
      this.draining = false;
    }
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
    this.agreement = agree(cmd, {
      connect: !!h.connect,
      helo: !!h.helo,
      mail: !!h.mail,
      rcpt: !!h.rcpt,
      data: !!h.data,
      header: !!h.header,
      eoh: !!h.eoh,
      addHeaders: h.addsHeaders !== false,
      macros: this.opts.macros,
    });
    this.write(encodeAgreement(this.agreement, this.opts.macros));
    this.log.debug({ peer: this.opts.peer, offered: cmd, agreed: { version: this.agreement.version, actions: this.agreement.actions, protocol: this.agreement.protocol } }, 'milter negotiated');
  }

  private dispatch(cmd: MilterCommand, code: string): void | Promise<void> {
    const h = this.opts.handler;
    const ctx = this.ctx;
    switch (cmd.type) {
      case 'optneg':
        throw new MssError('MILTER_PROTOCOL', 'second SMFIC_OPTNEG on one connection');
      case 'macro':
        this.macros.define(cmd.for, cmd.macros);
        return;
      case 'connect':
        this.client = { hostname: cmd.hostname, family: cmd.family, ...(cmd.port !== undefined ? { port: cmd.port } : {}), ...(cmd.address !== undefined ? { address: cmd.address } : {}) };
        return this.decide(code, 'connect', h.connect && (() => h.connect?.(ctx)));
      case 'helo':
        this.heloName = cmd.name;
        return this.decide(code, 'helo', h.helo && (() => h.helo?.(ctx, cmd.name)));
      case 'mail': {
        // A new transaction: whatever the previous one left behind is gone.
        this.startMessage();
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
        this.message.bodyBytes += cmd.chunk.length;
        if (this.expects(code)) this.respond(CONTINUE);
        return;
      case 'eom':
        this.message.bodyBytes += cmd.chunk.length;
        return this.endOfMessage(code);
      case 'abort':
        return this.abortMessage();
      case 'quit':
        this.closed = true;
        this.socket.end();
        return;
      case 'quit-nc':
        // Same connection, next SMTP session: forget everything about the previous one.
        this.client = undefined;
        this.heloName = undefined;
        this.state = new Map();
        this.macros.clearAll();
        this.startMessage();
        return;
      case 'unknown':
        if (this.expects(code)) this.respond(CONTINUE);
        return;
    }
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

  private async settle(stage: Stage, pending: Promise<unknown>, expect: boolean, after?: (d: Decision) => void): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new MssError('MILTER_HANDLER_TIMEOUT', `handler did not decide at ${stage} within ${this.opts.timeouts.handlerMs} ms`)), this.opts.timeouts.handlerMs);
    });
    try {
      const result = await Promise.race([pending, timeout]);
      if (!this.closed) this.conclude(stage, result, expect, after);
    } catch (err) {
      if (!this.closed) this.handlerFailed(stage, err, expect);
    } finally {
      clearTimeout(timer);
    }
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
    else if (decision.action !== 'continue') this.log.warn({ peer: this.opts.peer, stage, decision: decision.action }, 'milter decision ignored: the MTA does not wait for a reply at this stage');
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
    this.log.error({ peer: this.opts.peer, stage, queueId: this.ctx.queueId, code: e.code, err: e.message }, `milter handler failed at ${stage}: temporary failure for this ${CONNECTION_STAGES.has(stage) ? 'connection' : 'message'}`);
    if (!CONNECTION_STAGES.has(stage)) this.messageFailed = true;
    if (expect) this.respond(TEMPFAIL);
  }

  private endOfMessage(code: string): void | Promise<void> {
    const h = this.opts.handler;
    const edits: MilterResponse[] = [];
    let open = true;
    const canAdd = ((this.agreement?.actions ?? 0) & Action.ADDHDRS) !== 0;
    const edit = (r: MilterResponse & { name: string; value: string }): void => {
      if (!open) throw new MssError('MILTER_ACTION_UNAVAILABLE', 'header edits are only possible before the end-of-message decision');
      if (!canAdd) throw new MssError('MILTER_ACTION_UNAVAILABLE', 'the MTA did not grant SMFIF_ADDHDRS (or the handler declared addsHeaders: false)');
      checkHeader(r.name, r.value);
      edits.push(r);
    };
    const eomCtx = Object.create(this.ctx, {
      addHeader: { value: (name: string, value: string) => edit({ type: 'addheader', name, value }) },
      insertHeader: {
        value: (index: number, name: string, value: string) => {
          if (!Number.isInteger(index) || index < 0 || index > 0xffff_ffff) throw new MssError('MILTER_HEADER_INVALID', `header index ${index} is not a non-negative integer`);
          edit({ type: 'insheader', index, name, value });
        },
      },
    }) as EomContext;
    const finish = (d: Decision): void => {
      open = false;
      if (d.action === 'continue' || d.action === 'accept') {
        for (const e of edits) this.respond(e);
      }
    };
    const call = h.eom && (() => h.eom?.(eomCtx));
    const wrapUp = (): void => {
      open = false;
      this.macros.clearMessage();
      this.startMessage();
    };
    this.socket.cork();
    const r = this.decide(code, 'eom', call, finish);
    if (r) return r.finally(() => { this.socket.uncork(); wrapUp(); });
    this.socket.uncork();
    wrapUp();
  }

  private async abortMessage(): Promise<void> {
    const h = this.opts.handler;
    try {
      await h.abort?.(this.ctx);
    } catch (err) {
      this.log.warn({ peer: this.opts.peer, err: asMssError(err).message }, 'milter handler abort callback failed');
    }
    this.macros.clearMessage();
    this.startMessage();
  }

  private respond(r: MilterResponse): void {
    this.write(encodeResponse(r));
  }

  private write(buf: Buffer): void {
    if (!this.socket.destroyed && this.socket.writable) this.socket.write(buf);
  }

  private fail(err: unknown): void {
    if (this.closed && this.socket.destroyed) return;
    const e = asMssError(err, 'MILTER_PROTOCOL');
    this.log.warn({ peer: this.opts.peer, code: e.code, reason: e.message }, 'closing milter connection');
    this.closed = true;
    this.socket.destroy();
  }

  private async onClose(): Promise<void> {
    this.closed = true;
    if (this.packetTimer) clearTimeout(this.packetTimer);
    this.queue = [];
    try {
      await this.opts.handler.close?.(this.ctx);
    } catch (err) {
      this.log.warn({ peer: this.opts.peer, err: asMssError(err).message }, 'milter handler close callback failed');
    }
    this.resolveDone();
  }
}
