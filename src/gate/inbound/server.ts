// The inbound gate (TM3.1P, §6.7.1.1) on the MSSanté MX port: STARTTLS required before
// MAIL (EX_3.1_5020), a client certificate required and judged at the end of the
// handshake (steps 3–4, peer.ts), the sender judged at MAIL (steps 5–6), each recipient at
// RCPT, then the message relayed to the loopback Postfix in lockstep (before-queue proxy):
// the remote client gets 250 only once Postfix answered 250 and holds the message
// (DESIGN principle 1); any failure on the way is a 4xx, never a 250.
import { SMTPServer, type SMTPServerAddress, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import type { TLSSocket } from 'node:tls';
import { asMssError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { mssTlsOptions } from '../../pki/tls-profile.js';
import type { GateInConfig } from '../config.js';
import type { GateDeps } from '../deps.js';
import { mailCommand, rcptCommand } from '../envelope.js';
import { HeaderSniffer } from '../header-sniffer.js';
import { checkPeer, peerLeaf, tlsInfoOf, type PeerIdentity } from '../peer.js';
import { traceDecision, type TraceContext } from '../record.js';
import { formatReply, refusal, replyError, type Refusal, type Reply } from '../reply.js';
import { checkRecipient, checkSender } from './checks.js';
import { PostfixSession } from './postfix-session.js';
import { receivedHeader } from './received-header.js';

interface SessionState {
  peer?: PeerIdentity;
  postfix?: PostfixSession;
  trace: TraceContext;
  log: Logger;
}

/** The part of smtp-server's SMTPConnection the SIZE= check goes through (see judgeDeclaredSize). */
interface SizeCheckedConnection {
  id?: string;
  session?: SMTPServerSession;
  _validateMailParams?: (parsed: { address?: string; args?: Record<string, unknown> } | undefined) => { code: number; message: string; enhancedCode: string | null } | null;
}

export class GateIn {
  private readonly server: SMTPServer;
  private readonly sessions = new Map<string, SessionState>();
  private readonly cfg: GateInConfig;
  readonly hostname: string;

  constructor(private readonly deps: GateDeps) {
    this.cfg = deps.config.gates.in;
    this.hostname = this.cfg.hostname ?? deps.operator.fqdn;
    this.server = new SMTPServer({
      // EX_OPE_5010 / RE_OPE_5015: TLS 1.2 with the six suites, TLS 1.3, >= 2048-bit DH,
      // >= 256-bit curves; the operator's own certificate (never smtp-server's built-in one).
      ...mssTlsOptions(),
      key: deps.operator.keyPem,
      cert: deps.operator.certPem,
      // The CA names sent in the CertificateRequest help the client pick its certificate;
      // trust is decided by checkPeer() against the store alone, whatever OpenSSL thinks.
      ca: [...deps.trust.pem],
      requestCert: true,
      rejectUnauthorized: false,
      secure: false,
      name: this.hostname,
      banner: 'MSSante connector',
      size: this.cfg.maxMessageBytes, // EX_GBM_4410: SIZE announced, >= 10 Mo
      hideDSN: false,
      authOptional: true,
      disabledCommands: ['AUTH'],
      disableReverseLookup: true,
      maxClients: this.cfg.maxConnections,
      socketTimeout: this.cfg.idleTimeoutMs,
      closeTimeout: 5_000,
      logger: false,
      onConnect: (session, cb) => this.onConnect(session, cb),
      onSecure: (socket, session, cb) => this.onSecure(socket as TLSSocket, session, cb),
      onMailFrom: (address, session, cb) => void this.onMailFrom(address, session).then(() => cb(), (err) => cb(this.answer(session, err))),
      onRcptTo: (address, session, cb) => void this.onRcptTo(address, session).then(() => cb(), (err) => cb(this.answer(session, err))),
      onData: (stream, session, cb) => void this.onData(stream, session).then((m) => cb(null, m), (err) => cb(this.answer(session, err))),
      onClose: (session) => this.onClose(session),
    });
    this.server.on('error', (err) => this.deps.log.debug({ err }, 'gate-in connection error'));
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.cfg.listen.port, this.cfg.listen.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.deps.log.info({ host: this.cfg.listen.host, port: this.port, hostname: this.hostname }, 'gate-in listening');
  }

  get port(): number {
    const a = this.server.server.address();
    return a && typeof a === 'object' ? a.port : this.cfg.listen.port;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private state(session: SMTPServerSession): SessionState {
    let s = this.sessions.get(session.id);
    if (!s) {
      const address = `${session.remoteAddress}:${session.remotePort}`;
      s = { trace: { service: 'gate-in', address }, log: this.deps.log.child({ session: session.id, client: address }) };
      this.sessions.set(session.id, s);
    }
    return s;
  }

  private refuse(session: SMTPServerSession, request: Record<string, unknown>, r: Refusal | Reply): Error {
    const s = this.state(session);
    traceDecision(this.deps.traces, s.log, s.trace, request, r);
    return replyError(r);
  }

  /** A decided reply goes out as it is; anything else thrown is our failure. */
  private answer(session: SMTPServerSession, err: unknown): Error {
    return err instanceof Error && 'responseCode' in err ? err : this.internal(session, err);
  }

  /** Our side failed (Postfix unreachable, a bug): temporary, so the sender retries. */
  private internal(session: SMTPServerSession, thrown: unknown): Error {
    const err = asMssError(thrown);
    const s = this.state(session);
    s.log.error({ code: err.code, err: err.message }, 'gate-in temporary failure');
    s.postfix?.destroy();
    s.postfix = undefined;
    return this.refuse(session, { step: 'internal', code: err.code }, refusal('GATE_TEMPORARY', 451, '4.3.0', `Mail system of ${this.hostname} temporarily unavailable (${err.code}); try again later`));
  }

  private onConnect(session: SMTPServerSession, cb: (err?: Error | null) => void): void {
    this.state(session).log.debug('gate-in connection');
    this.judgeDeclaredSize(session);
    cb();
  }

  /** The refusal of a message over gates.in.maxMessageBytes, at MAIL (SIZE=) or at the final dot. */
  private tooBig(declared?: number): Refusal {
    const what = declared === undefined ? 'Message' : `Declared message size ${declared} bytes (SIZE=)`;
    return refusal('GATE_TOO_BIG', 552, '5.3.4', `${what} exceeds the size limit of ${this.cfg.maxMessageBytes} bytes of ${this.hostname} (EX_GBM_4410)`);
  }

  /**
   * EX_GBM_4410: smtp-server checks MAIL's SIZE= itself, before onMailFrom, and answers a
   * bare "552 Error: message exceeds fixed maximum message size". Its check is taken over
   * for this session's connection (smtp-server is pinned; gate-in.test.ts pins the reply) so
   * the sender reads "552 5.3.4" with the limit, and the refusal is traced like the others.
   */
  private judgeDeclaredSize(session: SMTPServerSession): void {
    const connections = (this.server as unknown as { connections?: Set<SizeCheckedConnection> }).connections;
    const connection = [...(connections ?? [])].find((c) => c.session === session || c.id === session.id);
    const original = connection?._validateMailParams;
    if (!connection || typeof original !== 'function') {
      this.state(session).log.warn('gate-in cannot take over the SIZE= check of smtp-server: oversized SIZE= gets its generic 552');
      return;
    }
    connection._validateMailParams = (parsed) => {
      const declared = parsed?.args?.SIZE;
      if (typeof declared === 'string' && /^\d{1,20}$/.test(declared) && Number(declared) > this.cfg.maxMessageBytes) {
        const request = { step: 'MAIL FROM', mailFrom: parsed?.address ?? '', size: Number(declared) };
        const err = this.refuse(session, request, this.tooBig(Number(declared)));
        return { code: 552, message: err.message, enhancedCode: null };
      }
      return original.call(connection, parsed);
    };
  }

  private onSecure(socket: TLSSocket, session: SMTPServerSession, cb: (err?: Error | null) => void): void {
    const s = this.state(session);
    const tlsInfo = tlsInfoOf(socket);
    const check = checkPeer(peerLeaf(socket), tlsInfo, { trust: this.deps.trust, revocation: this.deps.revocation, index: this.deps.whitelist.index, log: s.log }, 'sending');
    if (!check.ok) {
      // EX_OPE_5040: validation failed, the session is interrupted (with the reason).
      if (check.dn) s.trace.peer = check.dn;
      cb(this.refuse(session, { step: 'tls', ...tlsInfo }, check.refusal));
      return;
    }
    s.peer = check.peer;
    s.trace.peer = check.peer.dn;
    s.log.debug({ peer: check.peer.dn, ...tlsInfo }, 'gate-in peer verified');
    cb();
  }

  private async onMailFrom(address: SMTPServerAddress, session: SMTPServerSession): Promise<void> {
    const s = this.state(session);
    const request = { step: 'MAIL FROM', mailFrom: address.address };
    // §6.7.1.1 step 2: only STARTTLS sessions (EX_3.1_5020).
    if (!session.secure || !s.peer) throw this.refuse(session, request, refusal('GATE_TLS_REQUIRED', 530, '5.7.0', 'Must issue a STARTTLS command first: MSSanté mail is accepted over mutual TLS only (EX_3.1_5020)'));
    const index = this.deps.whitelist.index;
    if (!index) throw this.refuse(session, request, refusal('GATE_NO_WHITELIST', 451, '4.7.0', 'No verified liste blanche MSSanté is available on this side right now; try again later'));
    const refused = checkSender(address.address, s.peer, index);
    if (refused) throw this.refuse(session, request, refused);
    if (!s.postfix || s.postfix.closed) {
      s.postfix = await PostfixSession.open(this.cfg.postfix, this.hostname, { address: session.remoteAddress, port: session.remotePort, helo: session.hostNameAppearsAs });
    }
    const pf = s.postfix;
    const reply = await pf.mail(mailCommand(address, (k) => pf.client.feature(k) !== undefined));
    if (reply.code !== 250) throw this.relayed(session, request, reply);
  }

  private async onRcptTo(address: SMTPServerAddress, session: SMTPServerSession): Promise<void> {
    const s = this.state(session);
    const mailFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
    const request = { step: 'RCPT TO', mailFrom, rcpt: address.address };
    const refused = checkRecipient(address.address, mailFrom, this.deps.registry.current());
    if (refused) throw this.refuse(session, request, refused);
    const pf = s.postfix;
    if (!pf) throw this.internal(session, new Error('no Postfix session for this transaction'));
    const reply = await pf.rcpt(rcptCommand(address, (k) => pf.client.feature(k) !== undefined));
    if (reply.code !== 250 && reply.code !== 251) throw this.relayed(session, request, reply);
  }

  /** Postfix refused: its permanent answers reach the client as they are, the rest is 451 4.3.0. */
  private relayed(session: SMTPServerSession, request: Record<string, unknown>, reply: Reply): Error {
    if (reply.code >= 500) return this.refuse(session, request, { ...reply, reason: 'GATE_POSTFIX_REFUSED' } as Refusal);
    return this.refuse(session, request, refusal('GATE_POSTFIX_TEMPORARY', 451, '4.3.0', `Mail system of ${this.hostname} temporarily unavailable (${formatReply(reply)}); try again later`));
  }

  private async onData(stream: SMTPServerDataStream, session: SMTPServerSession): Promise<string> {
    const s = this.state(session);
    const mailFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
    const rcpts = session.envelope.rcptTo.map((r) => r.address);
    const request = { step: 'DATA', mailFrom, rcpts };
    const pf = s.postfix;
    const drain = (): Promise<void> => new Promise((resolve) => stream.on('end', resolve).resume());
    try {
      if (!pf) throw new Error('no Postfix session for this transaction');
      const go = await pf.client.command('DATA');
      if (go.code !== 354) {
        await drain();
        pf.inTransaction = false;
        throw this.relayed(session, request, go);
      }
    } catch (err) {
      if (!(err instanceof Error && 'responseCode' in err)) await drain();
      throw this.answer(session, err);
    }
    const sniffer = new HeaderSniffer();
    const peer = s.peer as PeerIdentity;
    pf.client.writeData(receivedHeader({ helo: session.hostNameAppearsAs, address: session.remoteAddress, by: this.hostname, protocol: peer.protocol, cipher: peer.cipher, dn: peer.dn, id: session.id }));
    let oversized = false;
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (oversized) continue;
      if (stream.sizeExceeded) {
        // EX_GBM_4410 limit passed: Postfix must not queue a truncated message, so its
        // session is dropped before the final dot (an unfinished DATA is discarded).
        oversized = true;
        pf.destroy();
        s.postfix = undefined;
        continue;
      }
      sniffer.push(chunk);
      if (!pf.client.writeData(chunk)) await pf.client.drain();
    }
    sniffer.finish();
    if (oversized || stream.sizeExceeded) {
      pf.destroy();
      s.postfix = undefined;
      throw this.refuse(session, request, this.tooBig());
    }
    let final: Reply;
    try {
      final = await pf.client.endData(this.cfg.postfix.dataDoneTimeoutMs);
    } catch (err) {
      throw this.internal(session, err);
    } finally {
      pf.inTransaction = false;
    }
    if (final.code !== 250) throw this.relayed(session, request, final);
    const queueId = /queued as ([0-9A-Za-z]+)/.exec(final.text)?.[1] ?? 'unknown';
    const size = stream.byteLength;
    const message = { id: queueId, from: mailFrom, to: rcpts, ...(sniffer.subject !== undefined ? { subject: sniffer.subject } : {}), size };
    const ok = { code: 250, enhanced: '2.0.0', text: `Ok: queued as ${queueId}` };
    traceDecision(this.deps.traces, s.log, s.trace, { ...request, messageId: sniffer.messageId }, ok, message);
    await this.recordReceived(s, queueId, mailFrom, rcpts, size);
    return `${ok.enhanced} ${ok.text}`;
  }

  /** Journal (statistics) and APP BAL activity; Postfix holds the message whatever happens here. */
  private async recordReceived(s: SessionState, mailId: string, sender: string, recipients: string[], size: number): Promise<void> {
    const at = new Date();
    try {
      await this.deps.journal.record({ type: 'received', at: at.toISOString(), mailId, sender, recipients, size, ...(s.peer ? { peer: s.peer.dn } : {}), ...(s.trace.address ? { client: s.trace.address } : {}) });
      const registry = this.deps.registry.current();
      for (const r of recipients) if (registry.get(r)?.type === 'APP') await this.deps.activity.recordExchange(r, at);
    } catch (err) {
      s.log.error({ err: asMssError(err).message, mailId }, 'gate-in could not record the received message (it is queued in Postfix)');
    }
  }

  private onClose(session: SMTPServerSession): void {
    const s = this.sessions.get(session.id);
    this.sessions.delete(session.id);
    if (s?.postfix) void s.postfix.quit();
  }
}
