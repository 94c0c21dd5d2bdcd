// The inbound gate (TM3.1P, §6.7.1.1) on the MSSanté MX port: STARTTLS required before
// MAIL (EX_3.1_5020), a client certificate required and judged at the end of the
// handshake (steps 3–4, peer.ts), the sender judged at MAIL (steps 5–6), each recipient at
// RCPT, then at DATA the whole transaction relayed to the loopback Postfix (before-queue
// proxy): the remote client gets 250 only once Postfix answered 250 and holds the message
// (DESIGN principle 1); any failure on the way is a 4xx, never a 250.
//
// Postfix sees complete transactions only — MAIL, RCPTs, DATA, content — never the
// remote's RSET, NOOP, abandoned transactions or junk, which the gate answers itself: no
// Postfix limit (smtpd_junk_command_limit, error counts) becomes a limit on a listed peer
// (EX_3.1_5010, EX_3.1_5015). Before its certificate passed, a session is held to the
// caps of src/net/admission.ts and a deadline; after, only gates.in.maxConnections.
import { SMTPServer, type SMTPServerAddress, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { asMssError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { Admission, type AdmissionSlot } from '../../net/admission.js';
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
import { instruments, secondsSince } from '../../health/instruments.js';
import { coalesceReplies } from '../reply-coalescing.js';
import { nodeName } from '../../cluster/identity.js';
import { InboundDedupe, MessageDigest, type Claim } from './dedupe.js';
import { embeddedStoreDir } from '../../store/open.js';

interface SessionState {
  peer?: PeerIdentity;
  postfix?: PostfixSession;
  /** Closes an idle Postfix session (gates.in.postfix.keepIdleMs after its last message). */
  postfixIdle?: NodeJS.Timeout;
  trace: TraceContext;
  log: Logger;
  /** The session's place under the limits before verification (src/net/admission.ts). */
  slot?: AdmissionSlot;
  /** Ends the session if no verified certificate by gates.in.verifyWithinSeconds. */
  verifyDeadline?: NodeJS.Timeout;
}

/** The part of smtp-server's SMTPConnection the gate reaches into (SIZE= check, closing a session from outside). */
interface GateConnection {
  id?: string;
  session?: SMTPServerSession;
  _validateMailParams?: (
    parsed: { address?: string; args?: Record<string, unknown> } | undefined,
  ) => { code: number; message: string; enhancedCode: string | null } | null;
  send?: (code: number, text: string) => void;
}

export class GateIn {
  private readonly server: SMTPServer;
  private readonly sessions = new Map<string, SessionState>();
  private readonly cfg: GateInConfig;
  readonly hostname: string;
  /** Sessions before their certificate passed: per source, all together, a reserve for verified ones. */
  readonly admission: Admission;
  /** Copies of one message retried after a lost 250 are delivered once (dedupe.ts). */
  private readonly dedupe: InboundDedupe | undefined;

  constructor(private readonly deps: GateDeps) {
    this.cfg = deps.config.gates.in;
    this.dedupe =
      this.cfg.duplicateWindowHours > 0
        ? new InboundDedupe(deps.store, {
            node: nodeName(deps.config.cluster),
            windowMs: this.cfg.duplicateWindowHours * 3_600_000,
            dataDoneTimeoutMs: this.cfg.postfix.dataDoneTimeoutMs,
            storeWaitMs: this.cfg.duplicateCheckWaitMs,
            // One node, no server: this node's digest log, one append per claim and commit (issue 20).
            ...(deps.store.backend === 'embedded' ? { logDir: path.join(embeddedStoreDir(deps.config.state), 'gate-in') } : {}),
          })
        : undefined;
    this.hostname = this.cfg.hostname ?? deps.operator.fqdn;
    this.admission = new Admission({
      maxPreLoginPerSource: this.cfg.maxUnverifiedPerSource,
      maxSessions: this.cfg.maxConnections,
      authenticatedReserve: this.cfg.verifiedReserve,
    });
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
      onMailFrom: (address, session, cb) =>
        void this.onMailFrom(address, session).then(
          () => cb(),
          (err) => cb(this.answer(session, err)),
        ),
      onRcptTo: (address, session, cb) =>
        void this.onRcptTo(address, session).then(
          () => cb(),
          (err) => cb(this.answer(session, err)),
        ),
      onData: (stream, session, cb) =>
        void this.onData(stream, session).then(
          (m) => cb(null, m),
          (err) => cb(this.answer(session, err)),
        ),
      onClose: (session) => this.onClose(session),
    });
    this.server.on('error', (err) => this.deps.log.debug({ err }, 'gate-in connection error'));
    coalesceReplies(this.server); // replies of one tick in one write (issue 20)
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

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.dedupe?.close();
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
    return this.refuse(
      session,
      { step: 'internal', code: err.code },
      refusal('GATE_TEMPORARY', 451, '4.3.0', `Mail system of ${this.hostname} temporarily unavailable (${err.code}); try again later`),
    );
  }

  private onConnect(session: SMTPServerSession, cb: (err?: Error | null) => void): void {
    const s = this.state(session);
    s.log.debug('gate-in connection');
    const slot = this.admission.admit(session.remoteAddress, () =>
      this.closeSession(session, '421 4.7.0 Too many connections not verified yet; this one is closed for a newer one, try again'),
    );
    if (typeof slot === 'string') {
      s.log.warn({ refusal: slot }, 'gate-in connection refused before verification');
      cb(
        replyError(
          slot === 'source-limit'
            ? refusal(
                'GATE_UNVERIFIED_LIMIT',
                421,
                '4.7.0',
                `Too many sessions from ${session.remoteAddress} without a verified certificate yet; try again later`,
              )
            : refusal('GATE_FULL', 421, '4.3.2', 'Too many connections; try again later'),
        ),
      );
      return;
    }
    s.slot = slot;
    // A verified certificate within verifyWithinSeconds, or the session goes (it holds nothing of Postfix meanwhile).
    s.verifyDeadline = setTimeout(
      () =>
        this.closeSession(
          session,
          `421 4.7.0 No verified certificate within ${this.cfg.verifyWithinSeconds} s (STARTTLS with an IGC-Sante certificate), closing`,
        ),
      this.cfg.verifyWithinSeconds * 1000,
    );
    s.verifyDeadline.unref();
    this.judgeDeclaredSize(session);
    cb();
  }

  /** smtp-server's connection object of a session (it exposes no other way to reach it). */
  private connectionOf(session: SMTPServerSession): GateConnection | undefined {
    const connections = (this.server as unknown as { connections?: Set<GateConnection> }).connections;
    return [...(connections ?? [])].find((c) => c.session === session || c.id === session.id);
  }

  /** End a session from outside its dialogue: a 421 (smtp-server closes the connection after any 421). */
  private closeSession(session: SMTPServerSession, reply: string): void {
    const connection = this.connectionOf(session);
    const [code = '421', ...text] = reply.split(' ');
    if (connection?.send) connection.send(Number(code), text.join(' '));
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
    const connection = this.connectionOf(session);
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
    const check = checkPeer(
      peerLeaf(socket),
      tlsInfo,
      { trust: this.deps.trust, revocation: this.deps.revocation, index: this.deps.whitelist.index, log: s.log },
      'sending',
    );
    if (!check.ok) {
      // EX_OPE_5040: validation failed, the session is interrupted (with the reason).
      if (check.dn) s.trace.peer = check.dn;
      cb(this.refuse(session, { step: 'tls', ...tlsInfo }, check.refusal));
      return;
    }
    s.peer = check.peer;
    s.trace.peer = check.peer.dn;
    // Verified: out of the pre-verification limits; a listed peer has no limit of its own (EX_3.1_5010).
    clearTimeout(s.verifyDeadline);
    s.slot?.authenticated();
    s.log.debug({ peer: check.peer.dn, ...tlsInfo }, 'gate-in peer verified');
    cb();
  }

  private async onMailFrom(address: SMTPServerAddress, session: SMTPServerSession): Promise<void> {
    const s = this.state(session);
    const request = { step: 'MAIL FROM', mailFrom: address.address };
    // §6.7.1.1 step 2: only STARTTLS sessions (EX_3.1_5020).
    if (!session.secure || !s.peer)
      throw this.refuse(
        session,
        request,
        refusal('GATE_TLS_REQUIRED', 530, '5.7.0', 'Must issue a STARTTLS command first: MSSanté mail is accepted over mutual TLS only (EX_3.1_5020)'),
      );
    const index = this.deps.whitelist.index;
    if (!index)
      throw this.refuse(
        session,
        request,
        refusal('GATE_NO_WHITELIST', 451, '4.7.0', 'No verified liste blanche MSSanté is available on this side right now; try again later'),
      );
    const refused = checkSender(address.address, s.peer, index);
    if (refused) throw this.refuse(session, request, refused);
  }

  private async onRcptTo(address: SMTPServerAddress, session: SMTPServerSession): Promise<void> {
    const s = this.state(session);
    const mailFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
    const request = { step: 'RCPT TO', mailFrom, rcpt: address.address };
    // RFC 5321 §4.5.3.1.10: too many recipients is a temporary refusal; the sender sends the rest in another transaction.
    if (session.envelope.rcptTo.length >= this.cfg.maxRecipients) {
      throw this.refuse(
        session,
        request,
        refusal('GATE_TOO_MANY_RECIPIENTS', 452, '4.5.3', `Too many recipients: at most ${this.cfg.maxRecipients} per message on ${this.hostname}`),
      );
    }
    const refused = checkRecipient(address.address, mailFrom, this.deps.registry.current());
    if (refused) throw this.refuse(session, request, refused);
    s.log.debug({ rcpt: address.address }, 'gate-in recipient accepted; Postfix hears of it at DATA');
  }

  /** The Postfix session of this remote session, opened when a transaction is complete (EHLO, XCLIENT, EHLO). */
  private async postfixFor(session: SMTPServerSession, s: SessionState): Promise<PostfixSession> {
    clearTimeout(s.postfixIdle);
    if (!s.postfix || s.postfix.closed) {
      s.postfix = await PostfixSession.open(this.cfg.postfix, this.hostname, {
        address: session.remoteAddress,
        port: session.remotePort,
        helo: session.hostNameAppearsAs,
      });
    }
    return s.postfix;
  }

  /** Drop the Postfix session of a transaction that did not end in 250 (an unfinished DATA is discarded by Postfix). */
  private dropPostfix(s: SessionState): void {
    clearTimeout(s.postfixIdle);
    s.postfix?.destroy();
    s.postfix = undefined;
  }

  /** After a message: keep the Postfix session for the next one, briefly (gates.in.postfix.keepIdleMs). */
  private keepPostfix(s: SessionState): void {
    const pf = s.postfix;
    if (!pf) return;
    s.postfixIdle = setTimeout(() => {
      if (s.postfix === pf) s.postfix = undefined;
      void pf.quit();
    }, this.cfg.postfix.keepIdleMs);
    s.postfixIdle.unref();
  }

  /**
   * The envelope to Postfix in one go (pipelined when it offers PIPELINING), then DATA.
   * Undefined when Postfix took it (354); otherwise the reply for the remote client. The
   * gate already accepted every recipient; if Postfix refuses some of them, the whole
   * message is deferred (451) rather than delivered to a part silently: the registry and
   * Postfix disagree on a mailbox, which is logged as an error for the operator.
   */
  private async openTransaction(s: SessionState, pf: PostfixSession, session: SMTPServerSession): Promise<Reply | Refusal | undefined> {
    const has = (k: string): boolean => pf.client.feature(k) !== undefined;
    const from = session.envelope.mailFrom || { address: '', args: {} };
    const commands = [mailCommand(from, has), ...session.envelope.rcptTo.map((r) => rcptCommand(r, has)), 'DATA'];
    let replies: Reply[];
    if (has('PIPELINING')) replies = await pf.client.pipeline(commands);
    else {
      replies = [];
      for (const c of commands) {
        const r = await pf.client.command(c);
        replies.push(r);
        if (c === commands[0] && r.code !== 250) break;
      }
    }
    const [mail, ...rest] = replies;
    const rcpts = rest.slice(0, session.envelope.rcptTo.length);
    const data = rest[session.envelope.rcptTo.length];
    if (!mail || mail.code !== 250) return mail ?? { code: 451, enhanced: '4.3.0', text: 'no reply to MAIL' };
    const refusedRcpts = rcpts.map((r, i) => ({ r, to: session.envelope.rcptTo[i]?.address ?? '' })).filter(({ r }) => r.code !== 250 && r.code !== 251);
    if (refusedRcpts.length === rcpts.length) {
      // Every recipient refused: Postfix's reply (permanent only if all are).
      return refusedRcpts.find(({ r }) => r.code < 500)?.r ?? refusedRcpts[0]?.r ?? { code: 451, enhanced: '4.3.0', text: 'no recipient' };
    }
    if (refusedRcpts.length > 0) {
      const which = refusedRcpts.map(({ r, to }) => `<${to}>: ${formatReply(r)}`).join('; ');
      s.log.error({ refused: which }, 'Postfix refused recipients the gate had accepted (registry and Postfix disagree): the message is deferred');
      return refusal('GATE_POSTFIX_PARTIAL', 451, '4.3.0', `Mail system of ${this.hostname} could not take every recipient (${which}); try again later`);
    }
    if (!data || data.code !== 354) return data ?? { code: 451, enhanced: '4.3.0', text: 'no reply to DATA' };
    return undefined;
  }

  /** Postfix refused: its permanent answers reach the client as they are, the rest is 451 4.3.0. */
  private relayed(session: SMTPServerSession, request: Record<string, unknown>, reply: Reply): Error {
    if (reply.code >= 500) return this.refuse(session, request, { ...reply, reason: 'GATE_POSTFIX_REFUSED' } as Refusal);
    return this.refuse(
      session,
      request,
      refusal('GATE_POSTFIX_TEMPORARY', 451, '4.3.0', `Mail system of ${this.hostname} temporarily unavailable (${formatReply(reply)}); try again later`),
    );
  }

  private async onData(stream: SMTPServerDataStream, session: SMTPServerSession): Promise<string> {
    const s = this.state(session);
    const mailFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
    const rcpts = session.envelope.rcptTo.map((r) => r.address);
    const request = { step: 'DATA', mailFrom, rcpts };
    const drain = (): Promise<void> => new Promise((resolve) => stream.on('end', resolve).resume());
    let pf: PostfixSession;
    try {
      pf = await this.postfixFor(session, s);
      const refusedBy = await this.openTransaction(s, pf, session);
      if (refusedBy) {
        await drain();
        this.dropPostfix(s);
        throw 'reason' in refusedBy ? this.refuse(session, request, refusedBy) : this.relayed(session, request, refusedBy);
      }
    } catch (err) {
      if (!(err instanceof Error && 'responseCode' in err)) {
        await drain();
        this.dropPostfix(s);
      }
      throw this.answer(session, err);
    }
    const dataStart = performance.now(); // /metrics: DATA to Postfix's answer
    const sniffer = new HeaderSniffer();
    const peer = s.peer as PeerIdentity;
    pf.client.writeData(
      receivedHeader({
        helo: session.hostNameAppearsAs,
        address: session.remoteAddress,
        by: this.hostname,
        protocol: peer.protocol,
        cipher: peer.cipher,
        dn: peer.dn,
        id: session.id,
      }),
    );
    let oversized = false;
    const digest = this.dedupe ? new MessageDigest(peer.dn, mailFrom, rcpts) : undefined;
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
      digest?.push(chunk);
      if (!pf.client.writeData(chunk)) await pf.client.drain();
    }
    sniffer.finish();
    if (oversized || stream.sizeExceeded) {
      pf.destroy();
      s.postfix = undefined;
      throw this.refuse(session, request, this.tooBig());
    }
    const size = stream.byteLength;
    const subject = sniffer.subject !== undefined ? { subject: sniffer.subject } : {};
    // Before the final dot: is this a copy of a message Postfix already holds (dedupe.ts)?
    const claim = digest ? await this.claimDigest(s, digest.hex()) : undefined;
    if (claim?.kind === 'committed' || claim?.kind === 'in-flight') {
      this.dropPostfix(s); // the final dot is never sent: Postfix discards this copy
      if (claim.kind === 'in-flight') {
        throw this.refuse(
          session,
          { ...request, digest: claim.digest, holder: claim.holder },
          refusal('GATE_DUPLICATE_IN_FLIGHT', 451, '4.3.0', `The same message is being received by ${this.hostname} on another connection; try again later`),
        );
      }
      const ok = { code: 250, enhanced: '2.0.0', text: `Ok: queued as ${claim.mailId} (already received)` };
      traceDecision(this.deps.traces, s.log, s.trace, { ...request, messageId: sniffer.messageId, digest: claim.digest, duplicateOf: claim.mailId }, ok, {
        id: claim.mailId,
        from: mailFrom,
        to: rcpts,
        ...subject,
        size,
      });
      // Written again with the same id and time: the store keeps it once (the first copy's
      // node may have died between its commit and its journal write).
      await this.recordReceived(s, claim.mailId, mailFrom, rcpts, size, { at: new Date(claim.at), id: claim.digest, activity: false });
      return `${ok.enhanced} ${ok.text}`;
    }
    let final: Reply;
    try {
      final = await pf.client.endData(this.cfg.postfix.dataDoneTimeoutMs);
      instruments.gateDuration('in', secondsSince(dataStart));
    } catch (err) {
      // No answer: Postfix may hold the message; the claim stays until its holder is gone.
      throw this.internal(session, err);
    }
    if (final.code !== 250) {
      this.dropPostfix(s);
      if (claim?.kind === 'new')
        await claim.release().catch((err: unknown) => s.log.warn({ err: asMssError(err).message }, 'gate-in could not release a digest'));
      throw this.relayed(session, request, final);
    }
    this.keepPostfix(s);
    const queueId = /queued as ([0-9A-Za-z]+)/.exec(final.text)?.[1] ?? 'unknown';
    // Postfix holds it: from now on a copy of it is answered 250 and not delivered again.
    // RFC 1047: the window left runs from the final dot to this store write (docs/gates.md,
    // "Retries and duplicates"): Postfix queues a message whose dot it read, gate or no gate.
    if (claim?.kind === 'new')
      await claim.commit(queueId).catch((err: unknown) => s.log.warn({ err: asMssError(err).message, mailId: queueId }, 'gate-in could not commit a digest'));
    const message = { id: queueId, from: mailFrom, to: rcpts, ...subject, size };
    const ok = { code: 250, enhanced: '2.0.0', text: `Ok: queued as ${queueId}` };
    traceDecision(this.deps.traces, s.log, s.trace, { ...request, messageId: sniffer.messageId, ...duplicateCheck(claim) }, ok, message);
    const event = claim?.kind === 'new' ? { at: new Date(claim.at), id: claim.digest } : claim ? { id: claim.digest } : {};
    await this.recordReceived(s, queueId, mailFrom, rcpts, size, event);
    return `${ok.enhanced} ${ok.text}`;
  }

  /** The digest's claim; a store that does not answer lets the message through (logged). */
  private async claimDigest(s: SessionState, digest: string): Promise<Claim | undefined> {
    const claim = await (this.dedupe as InboundDedupe).claim(digest);
    if (claim.kind === 'unchecked')
      s.log.warn({ err: asMssError(claim.error).message, digest }, 'gate-in could not check the message digest: delivered without the duplicate check');
    if (claim.kind === 'new' && claim.tookOverFrom)
      s.log.warn({ digest, from: claim.tookOverFrom }, 'gate-in: a copy of this message was claimed by a process that is gone; delivered again (counted once)');
    return claim;
  }

  /**
   * Journal (statistics) and APP BAL activity; Postfix holds the message whatever happens
   * here. `id` and `at`: the message digest and its first copy's time, the same for every
   * copy of it, so that the journal counts it once (EX_PSU_5830).
   */
  private async recordReceived(
    s: SessionState,
    mailId: string,
    sender: string,
    recipients: string[],
    size: number,
    event: { at?: Date; id?: string; activity?: boolean } = {},
  ): Promise<void> {
    const at = event.at ?? new Date();
    try {
      await this.deps.journal.record(
        {
          type: 'received',
          at: at.toISOString(),
          mailId,
          sender,
          recipients,
          size,
          ...(s.peer ? { peer: s.peer.dn } : {}),
          ...(s.trace.address ? { client: s.trace.address } : {}),
        },
        event.id ? { ids: [`received:${event.id}`] } : {},
      );
      if (event.activity === false) return;
      const registry = this.deps.registry.current();
      // RE_SSU_5800: Postfix holds the message; each APP recipient's last exchange that cannot
      // be recorded is logged with its code and counted, and the others are still recorded.
      for (const r of recipients) if (registry.get(r)?.type === 'APP') await this.deps.activity.recordExchangeOrReport(r, at, 'gate-in', s.log);
    } catch (err) {
      s.log.error({ err: asMssError(err).message, mailId }, 'gate-in could not record the received message (it is queued in Postfix)');
    }
  }

  private onClose(session: SMTPServerSession): void {
    const s = this.sessions.get(session.id);
    this.sessions.delete(session.id);
    if (!s) return;
    clearTimeout(s.verifyDeadline);
    clearTimeout(s.postfixIdle);
    s.slot?.release();
    if (s.postfix) void s.postfix.quit();
  }
}

/**
 * What the trace of a delivered copy says of its duplicate check: the digest (the `received`
 * event's id), and why a copy was delivered without the check proving it the first — its
 * store did not answer, or it took over the claim of a process that is gone (docs/gates.md,
 * "Retries and duplicates"): an operator finds why a message arrived twice from the trace.
 */
function duplicateCheck(claim: Claim | undefined): Record<string, string> {
  if (!claim) return {};
  if (claim.kind === 'unchecked') return { digest: claim.digest, duplicateCheck: 'unchecked' };
  if (claim.kind === 'new' && claim.tookOverFrom) return { digest: claim.digest, duplicateCheck: 'took-over', tookOverFrom: claim.tookOverFrom };
  return { digest: claim.digest };
}
