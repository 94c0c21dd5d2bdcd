// The outbound gate (TM3.2P, §6.7.2.1): an LMTP server on loopback that Postfix's
// mss-gate-out transport delivers to (postfix/master.cf.d/10-gates.cf). LMTP answers per
// recipient, so each recipient of a message ends with its own outcome. Postfix announces
// the queue id with XFORWARD IDENT: delivery events carry it as mailId, like the
// submission milter's submitted events, so the statistics join them.
import { randomBytes } from 'node:crypto';
import { SMTPServer, type SMTPServerAddress, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import { MssError } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { GateDeps } from '../deps.js';
import { HeaderSniffer } from '../header-sniffer.js';
import { traceDecision, traceDecisions } from '../record.js';
import { formatReply, replyError, replyMessage, type Reply } from '../reply.js';
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

  constructor(private readonly deps: GateDeps) {
    const cfg = deps.config.gates.out;
    this.mx = new MxResolver(cfg.dns);
    this.cache = new SessionCache(cfg.connectionCache);
    this.server = new SMTPServer({
      lmtp: true,
      name: deps.operator.fqdn,
      banner: 'mss-sidecar gate-out',
      // Loopback, for Postfix only: no TLS, no AUTH; XFORWARD from the local Postfix.
      disabledCommands: ['STARTTLS', 'AUTH'],
      hideSTARTTLS: true,
      authOptional: true,
      useXForward: ['127.0.0.1', '::1'],
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

  async start(): Promise<void> {
    const { host, port } = this.deps.config.gates.out.listen;
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.deps.log.info({ host, port: this.port }, 'gate-out listening (LMTP)');
  }

  get port(): number {
    const a = this.server.server.address();
    return a && typeof a === 'object' ? a.port : this.deps.config.gates.out.listen.port;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await this.cache.closeAll();
  }

  private mailId(session: SMTPServerSession): string {
    const ident = (session as SMTPServerSession & { xForward?: Map<string, string | false> }).xForward?.get('IDENT');
    if (typeof ident === 'string' && ident) return ident;
    if (!this.warnedNoIdent) {
      this.warnedNoIdent = true;
      this.deps.log.warn('Postfix sends no XFORWARD IDENT: set lmtp_send_xforward_command = yes on mss-gate-out (postfix/master.cf.d/10-gates.cf), or delivery events cannot be joined to submissions');
    }
    return `gate-${randomBytes(6).toString('hex')}`;
  }

  private log(session: SMTPServerSession): Logger {
    return this.deps.log.child({ session: session.id });
  }

  private onMailFrom(address: SMTPServerAddress, session: SMTPServerSession): Error | null {
    const index = this.deps.whitelist.index;
    const request = { step: 'MAIL FROM', mailFrom: address.address, mailId: this.mailId(session) };
    if (!index) return this.refuse(session, request, { code: 451, enhanced: '4.7.0', text: 'No verified liste blanche MSSanté is available; will try again' });
    const refused = checkOutboundSender(address.address, index, this.deps.operator);
    return refused ? this.refuse(session, request, refused) : null;
  }

  private onRcptTo(address: SMTPServerAddress, session: SMTPServerSession): Error | null {
    const index = this.deps.whitelist.index;
    const mailFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
    const request = { step: 'RCPT TO', mailFrom, rcpt: address.address, mailId: this.mailId(session) };
    if (!index) return this.refuse(session, request, { code: 451, enhanced: '4.7.0', text: 'No verified liste blanche MSSanté is available; will try again' });
    const refused = checkOutboundRecipient(address.address, mailFrom, index, this.deps.registry.current());
    if (!refused) return null;
    // A recipient refused before sending is a bounce the statistics count (events.ts).
    void this.journal(this.mailId(session), mailFrom, [{ recipient: address.address, reply: refused, outcome: 'bounced' }]);
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
    const mailId = this.mailId(session);
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
    await this.journal(mailId, mailFrom.address, rcpts.map((r, i) => ({ recipient: r.address, ...(results[i] as RecipientResult) })));
    if (results.some((r) => r.outcome === 'delivered') && this.deps.registry.current().get(mailFrom.address)?.type === 'APP') {
      await this.deps.activity.recordExchange(mailFrom.address, new Date()).catch(() => undefined);
    }
    return results.map((r) => (r.reply.code < 300 ? replyMessage(r.reply) : replyError(r.reply)));
  }

  /** One delivery event per recipient and attempt (statistics count a message once), in one append. */
  private async journal(mailId: string, sender: string, outcomes: ReadonlyArray<Pick<RecipientResult, 'reply' | 'outcome' | 'remote'> & { recipient: string }>): Promise<void> {
    try {
      const at = new Date().toISOString();
      await this.deps.journal.record(outcomes.map((r) => ({ type: 'delivery' as const, at, mailId, sender, recipient: r.recipient, outcome: r.outcome, reply: formatReply(r.reply).slice(0, 1000), ...(r.remote ? { remote: r.remote.slice(0, 255) } : {}) })));
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
