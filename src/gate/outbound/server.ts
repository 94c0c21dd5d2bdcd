// The outbound gate (TM3.2P, §6.7.2.1): an LMTP server on loopback that Postfix's
// mss-gate-out transport delivers to (postfix/master.cf.d/10-gates.cf). LMTP answers per
// recipient, so each recipient of a message ends with its own outcome. Postfix announces
// the queue id with XFORWARD IDENT: delivery events carry it as mailId, like the
// submission milter's submitted events, so the statistics join them.
import { randomBytes } from 'node:crypto';
import cluster from 'node:cluster';
import fs from 'node:fs';
import path from 'node:path';
import { SMTPServer, type SMTPServerAddress, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import { formatListen } from '../../config/listen-spec.js';
import { MssError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { groupId, removeStaleSocket, restrictSocket } from '../../util/unix-socket.js';
import type { GateDeps } from '../deps.js';
import { HeaderSniffer } from '../header-sniffer.js';
import { traceDecision, traceDecisions } from '../record.js';
import { formatReply, replyError, replyMessage, type Refusal, type Reply } from '../reply.js';
import { LocalTtlCache } from '../../auth/local-ttl-cache.js';
import { checkOutboundRecipient, checkOutboundSender } from './checks.js';
import { Delivery, type RecipientResult } from './delivery.js';
import { MxResolver } from './mx.js';
import { SessionCache } from './session-cache.js';
import { instruments, secondsSince } from '../../health/instruments.js';
import { coalesceReplies } from '../reply-coalescing.js';

export class GateOut {
  private readonly server: SMTPServer;
  private readonly mx: MxResolver;
  readonly cache: SessionCache;
  private warnedNoIdent = false;
  /** Messages (queue ids) refused for their recipient count, so their later deliveries are too. */
  private readonly refusedMessages = new LocalTtlCache(10_000);
  private readonly generatedIds = new WeakMap<object, string>();

  constructor(private readonly deps: GateDeps) {
    const cfg = deps.config.gates.out;
    this.mx = new MxResolver(cfg.dns);
    this.cache = new SessionCache(cfg.connectionCache);
    this.server = new SMTPServer({
      lmtp: true,
      name: deps.operator.fqdn,
      banner: 'mss-sidecar gate-out',
      // For Postfix only: no TLS, no AUTH; XFORWARD from the local Postfix. On the unix
      // socket (the default) only Postfix can connect, so every peer is Postfix.
      disabledCommands: ['STARTTLS', 'AUTH'],
      hideSTARTTLS: true,
      authOptional: true,
      useXForward: cfg.listen.endpoint.kind === 'unix' ? true : ['127.0.0.1', '::1'],
      hideDSN: false,
      size: cfg.maxMessageBytes,
      disableReverseLookup: true,
      maxClients: cfg.maxConnections,
      socketTimeout: cfg.timeouts.dataDoneMs + cfg.timeouts.setupMs,
      closeTimeout: 5_000,
      logger: false,
      onMailFrom: (a, s, cb) => cb(this.onMailFrom(a, s)),
      onRcptTo: (a, s, cb) => cb(this.onRcptTo(a, s)),
      onData: (stream, session, cb) =>
        void this.onData(stream, session).then(
          (results) => (cb as (err: Error | null, message: unknown) => void)(null, results),
          (err) => cb(err as Error),
        ),
    });
    this.server.on('error', (err) => this.deps.log.debug({ err }, 'gate-out connection error'));
    coalesceReplies(this.server); // replies of one tick in one write (issue 20)
  }

  /**
   * The LMTP listener. On a unix socket (the default) its mode and group let Postfix's lmtp
   * client in and nobody else: a local process that could reach the gate would hand it mail
   * for other operators that no Postfix service judged (the gate re-checks the sending rules
   * too, checks.ts).
   */
  async start(): Promise<void> {
    const listen = this.deps.config.gates.out.listen;
    const endpoint = listen.endpoint;
    if (endpoint.kind === 'unix') {
      fs.mkdirSync(path.dirname(endpoint.path), { recursive: true, mode: 0o755 });
      // In a worker of a multi-process serve the primary did it: the live socket on the path is ours.
      if (!cluster.isWorker) await removeStaleSocket(endpoint.path, 'GATE_OUT_LISTEN');
    }
    await new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void =>
        reject(
          new MssError(
            'GATE_OUT_LISTEN',
            `cannot listen on ${formatListen(endpoint)} (gates.out.listen): ${err.message}`,
            { listen: formatListen(endpoint) },
            { cause: err },
          ),
        );
      this.server.once('error', onError);
      const ready = (): void => {
        this.server.off('error', onError);
        resolve();
      };
      if (endpoint.kind === 'unix') this.server.listen(endpoint.path, ready);
      else this.server.listen(endpoint.port, endpoint.host, ready);
    });
    if (endpoint.kind === 'unix')
      restrictSocket(endpoint.path, listen.mode, groupId(listen.group, 'gates.out.listen.group', 'GATE_OUT_LISTEN'), 'GATE_OUT_LISTEN');
    this.deps.log.info({ listen: this.address }, 'gate-out listening (LMTP)');
  }

  /** Where the gate listens, in Postfix's notation (the real port when 0 was asked). */
  get address(): string {
    const endpoint = this.deps.config.gates.out.listen.endpoint;
    const a = this.server.server.address();
    return a && typeof a === 'object' && endpoint.kind === 'inet' ? formatListen({ ...endpoint, port: a.port }) : formatListen(endpoint);
  }

  /** The TCP port, when listening on one (tests). */
  get port(): number | undefined {
    const a = this.server.server.address();
    return a && typeof a === 'object' ? a.port : undefined;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await this.cache.closeAll();
  }

  /**
   * The message's Postfix queue id: XFORWARD IDENT, sent by Postfix for mail its smtpd
   * received; else (at DATA) the id in the topmost Received: header, which Postfix wrote
   * (sendmail/pickup mail and Postfix's own bounces come without XFORWARD); else a generated
   * one, the same for the whole transaction.
   */
  private mailId(session: SMTPServerSession, received?: string): string {
    const ident = (session as SMTPServerSession & { xForward?: Map<string, string | false> }).xForward?.get('IDENT');
    if (typeof ident === 'string' && ident) return ident;
    if (received) return received;
    const envelope = session.envelope as object;
    let id = this.generatedIds.get(envelope);
    if (!id) this.generatedIds.set(envelope, (id = `gate-${randomBytes(6).toString('hex')}`));
    return id;
  }

  /** EX_GBM_4420: the refusal of a message (queue id) that had more recipients than allowed, if it is one. */
  private tooMany(mailId: string): Refusal | undefined {
    const refused = this.refusedMessages.getSync(mailId);
    return refused === undefined ? undefined : (JSON.parse(refused) as Refusal);
  }

  private log(session: SMTPServerSession): Logger {
    return this.deps.log.child({ session: session.id });
  }

  private onMailFrom(address: SMTPServerAddress, session: SMTPServerSession): Error | null {
    const index = this.deps.whitelist.index;
    const mailId = this.mailId(session);
    const request = { step: 'MAIL FROM', mailFrom: address.address, mailId };
    if (!index) return this.refuse(session, request, { code: 451, enhanced: '4.7.0', text: 'No verified liste blanche MSSanté is available; will try again' });
    // EX_GBM_4420: a later delivery of a message already refused for its recipient count.
    const over = this.tooMany(mailId);
    if (over) return this.refuse(session, request, over);
    const refused = checkOutboundSender(address.address, index, this.deps.operator, this.deps.registry.current());
    return refused ? this.refuse(session, request, refused) : null;
  }

  private onRcptTo(address: SMTPServerAddress, session: SMTPServerSession): Error | null {
    const index = this.deps.whitelist.index;
    const mailFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
    const mailId = this.mailId(session);
    const request = { step: 'RCPT TO', mailFrom, rcpt: address.address, mailId };
    if (!index) return this.refuse(session, request, { code: 451, enhanced: '4.7.0', text: 'No verified liste blanche MSSanté is available; will try again' });
    const refused = checkOutboundRecipient(
      address.address,
      mailFrom,
      session.envelope.rcptTo.length,
      this.deps.config.submission.maxRecipients,
      index,
      this.deps.registry.current(),
    );
    if (!refused) return null;
    // EX_GBM_4420: the whole message stays, not only the recipients past the limit (the
    // accepted ones are refused at DATA, and any later delivery of it at MAIL).
    if (refused.reason === 'GATE_OUT_TOO_MANY_RECIPIENTS') this.refusedMessages.setSync(mailId, JSON.stringify(refused), 3600);
    // A recipient refused before sending is a bounce the statistics count (events.ts).
    void this.journal(mailId, mailFrom, [{ recipient: address.address, reply: refused, outcome: 'bounced' }]);
    return this.refuse(session, request, refused);
  }

  private refuse(session: SMTPServerSession, request: Record<string, unknown>, r: Reply): Error {
    traceDecision(this.deps.traces, this.log(session), { service: 'gate-out' }, request, r);
    return replyError(r);
  }

  private async onData(stream: SMTPServerDataStream, session: SMTPServerSession): Promise<Array<string | Error>> {
    const mailFrom = session.envelope.mailFrom;
    if (!mailFrom) throw new Error('no MAIL FROM');
    const rcpts = session.envelope.rcptTo;
    const over = this.tooMany(this.mailId(session));
    if (over) {
      stream.resume();
      await new Promise((resolve) => stream.once('end', resolve));
      const log = this.log(session);
      const mailId = this.mailId(session);
      traceDecisions(
        this.deps.traces,
        log,
        rcpts.map((r) => ({
          ctx: { service: 'gate-out' as const },
          request: { step: 'DATA', mailFrom: mailFrom.address, rcpt: r.address, mailId },
          reply: over,
        })),
      );
      await this.journal(
        mailId,
        mailFrom.address,
        rcpts.map((r) => ({ recipient: r.address, reply: over, outcome: 'bounced' as const })),
      );
      return rcpts.map(() => replyError(over));
    }
    const sizeArg = Number((mailFrom.args as Record<string, unknown>).SIZE);
    // The sniffer reads the header as the message streams through to the remote servers.
    const sniffer = new HeaderSniffer();
    const dataStart = performance.now(); // /metrics: DATA to the remote servers' answers
    const results = await new Delivery(
      { mailFrom, rcpts, ...(Number.isFinite(sizeArg) && sizeArg > 0 ? { size: sizeArg } : {}), stream, onChunk: (c) => sniffer.push(c) },
      this.deps,
      this.mx,
      this.cache,
    ).run();
    instruments.gateDuration('out', secondsSince(dataStart));
    sniffer.finish();
    const mailId = this.mailId(session, sniffer.receivedId);
    if (mailId.startsWith('gate-') && !this.warnedNoIdent) {
      this.warnedNoIdent = true;
      this.deps.log.warn(
        'Postfix sends no XFORWARD IDENT and no queue id in its Received: header: set lmtp_send_xforward_command = yes on mss-gate-out (postfix/master.cf.d/10-gates.cf), or delivery events cannot be joined to submissions',
      );
    }
    const log = this.log(session);
    const size = stream.byteLength;
    // One trace write and one journal append for all the recipients of the message (issue 20).
    traceDecisions(
      this.deps.traces,
      log,
      rcpts.map((r, i) => {
        const res = results[i] as RecipientResult;
        return {
          ctx: { service: 'gate-out', ...(res.peer ? { peer: res.peer } : {}), ...(res.remote ? { address: res.remote } : {}) },
          request: { step: 'DATA', mailFrom: mailFrom.address, rcpt: r.address, mailId, outcome: res.outcome },
          reply: res.reply,
          message: { id: mailId, from: mailFrom.address, to: [r.address], ...(sniffer.subject !== undefined ? { subject: sniffer.subject } : {}), size },
        };
      }),
    );
    await this.journal(
      mailId,
      mailFrom.address,
      rcpts.map((r, i) => ({ recipient: r.address, ...(results[i] as RecipientResult) })),
    );
    if (results.some((r) => r.outcome === 'delivered') && this.deps.registry.current().get(mailFrom.address)?.type === 'APP') {
      await this.deps.activity.recordExchangeOrReport(mailFrom.address, new Date(), 'gate-out', this.deps.log);
    }
    return results.map((r) => (r.reply.code < 300 ? replyMessage(r.reply) : replyError(r.reply)));
  }

  /** One delivery event per recipient and attempt (statistics count a message once), in one append. */
  private async journal(
    mailId: string,
    sender: string,
    outcomes: ReadonlyArray<Pick<RecipientResult, 'reply' | 'outcome' | 'remote'> & { recipient: string }>,
  ): Promise<void> {
    try {
      const at = new Date().toISOString();
      await this.deps.journal.record(
        outcomes.map((r) => ({
          type: 'delivery' as const,
          at,
          mailId,
          sender,
          recipient: r.recipient,
          outcome: r.outcome,
          reply: formatReply(r.reply).slice(0, 1000),
          ...(r.remote ? { remote: r.remote.slice(0, 255) } : {}),
        })),
      );
    } catch (err) {
      // One invalid event must not cost the others their record, as when each had its own append.
      if (outcomes.length > 1 && err instanceof MssError && err.code === 'JOURNAL_BAD_EVENT') {
        for (const o of outcomes) await this.journal(mailId, sender, [o]);
        return;
      }
      this.deps.log.error({ err, mailId }, 'gate-out could not record a delivery event');
    }
  }
}
