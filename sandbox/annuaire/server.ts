// The Annuaire Santé's SOAP services, simulated on loopback (§6.4.2): WSALIMENTATIONMSS and
// WSCRALIMENTATIONMSS over HTTPS with mutual TLS. Each call goes through the cinématique
// of §6.3.2.2: the client certificate (expired → 401, revoked → certificate_revoked,
// untrusted or not in the liste blanche → WSMSS06), the message's shape (WSMSS12), the
// VIHF token (WSMSS01–22), then the service: a ticket, or the report of a ticket once the
// batch ran. A plain-HTTP control port on loopback drives it:
//   GET  /                       → state (fault, delivery, tickets)
//   POST /batch                  → run the batch now (the real one runs at 02:00–04:00)
//   POST /fault?mode=MODE        → none | sas (WSMSS15) | http500 | down | failed (WSMSS24)
//   POST /delivery?mode=MODE     → inline | mtom: how reports travel
//   POST /report-name?digits=N   → 13 (the text's AAAAMMJJHHmss, default) | 14: report file names
//   GET  /directory?domain=D     → the mailboxes the sandbox Annuaire publishes for D
//   GET  /last-header            → the Header of the last request, as received
// Written from the Référentiel's tables (spec.ts, controls.ts), without the client's
// src/annuaire: an ANS peer that does not share the client's reading of the text.
import type http from 'node:http';
import type { TLSSocket } from 'node:tls';
import { asMssError } from '../../src/errors.js';
import type { Logger } from '../../src/log.js';
import { certInfo, type CertInfo } from '../../src/pki/certificate.js';
import type { RevocationChecker, TrustStore } from '../../src/pki/truststore.js';
import { mssTlsOptions } from '../../src/pki/tls-profile.js';
import { runBatch, type Directory, type NameDigits, type QueuedFeed } from './batch.js';
import { receptionProblem } from './controls.js';
import { checkHeader, type SandboxFault } from './header-checks.js';
import { faultReply, reportReply, ticketReply } from './replies.js';
import type { Referential } from './referential.js';
import { parseRequest, type ParsedRequest } from './request.js';
import { BODY, FEED_NS, FEED_PATH, REPORT_NS, REPORT_PATH, REPORTS_KEPT, SOAP11, SOAP12, type ServiceName } from './spec.js';
import { child, trimmed, XmlRefused } from './xml-read.js';
import { LoopbackService, readRequestBody } from '../loopback-service.js';
import type { AnsList } from '../whitelist-reader.js';

export const ANNUAIRE_FAULTS = ['none', 'sas', 'http500', 'down', 'failed'] as const;
export type AnnuaireFault = (typeof ANNUAIRE_FAULTS)[number];

export { FEED_PATH, REPORT_PATH, REPORTS_KEPT };

export interface AnnuaireServerOptions {
  host: string;
  port?: number;
  controlPort?: number;
  certChainPem: string;
  keyPem: string;
  trust: TrustStore;
  revocation?: RevocationChecker;
  whitelist: () => AnsList | undefined;
  referential: Referential;
  log: Logger;
  maxBytes?: number;
}

class Refusal extends Error {
  constructor(
    readonly fault: SandboxFault,
    readonly status = 500,
  ) {
    super(fault.reason);
  }
}

export class SandboxAnnuaireServer extends LoopbackService {
  private fault: AnnuaireFault = 'none';
  private delivery: 'inline' | 'mtom' = 'inline';
  private nameDigits: NameDigits = 13;
  private readonly queue: QueuedFeed[] = [];
  private readonly directory: Directory = new Map();
  private lastHeader = '';
  private seq = 0;

  constructor(private readonly opts: AnnuaireServerOptions) {
    super({
      host: opts.host,
      ...(opts.port !== undefined ? { port: opts.port } : {}),
      ...(opts.controlPort !== undefined ? { controlPort: opts.controlPort } : {}),
      // Client certificates are asked for but judged here, so that a refusal is a coded answer.
      tls: { ...mssTlsOptions(), cert: opts.certChainPem, key: opts.keyPem, ca: [...opts.trust.pem], requestCert: true, rejectUnauthorized: false },
    });
  }

  get feedUrl(): string {
    return `https://${this.opts.host}:${this.port}${FEED_PATH}`;
  }

  get reportUrl(): string {
    return `https://${this.opts.host}:${this.port}${REPORT_PATH}`;
  }

  /** Run the batch now: every queued feed is processed and its report made available. */
  batch(now = new Date()): number {
    return runBatch(this.queue, this.directory, this.opts.referential, this.opts.whitelist(), now, this.nameDigits);
  }

  private async setFault(mode: AnnuaireFault): Promise<void> {
    this.fault = mode;
    if (mode === 'down') await this.down();
    else await this.up();
  }

  /** §6.3.2.2: the client certificate first. */
  private authenticate(socket: TLSSocket): CertInfo {
    const x509 = socket.getPeerX509Certificate();
    if (!x509) throw new Refusal({ code: 'WSMSS06', reason: 'no client certificate' });
    const cert = certInfo(x509);
    const v = this.opts.trust.validate(cert, this.opts.revocation ? { revocation: this.opts.revocation } : {});
    if (!v.ok && (v.code === 'CERT_EXPIRED' || v.code === 'CERT_NOT_YET_VALID')) throw new Refusal({ code: '401', reason: '401: Authorization Required' }, 401);
    if (!v.ok && v.code === 'CERT_REVOKED') throw new Refusal({ code: 'certificate_revoked', reason: 'certificate_revoked' });
    if (!v.ok) throw new Refusal({ code: 'WSMSS06', reason: `client certificate refused: ${v.message}` });
    if (!this.opts.whitelist()?.hasDn(cert.subject)) throw new Refusal({ code: 'WSMSS06', reason: 'the client certificate DN is not in the liste blanche' });
    return cert;
  }

  protected serve(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.answer(req, res).catch((err: unknown) => {
      this.opts.log.error({ err }, 'sandbox annuaire failed');
      if (!res.headersSent) res.writeHead(500).end();
    });
  }

  private async answer(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'https://sandbox').pathname;
    const service: ServiceName | undefined = path === FEED_PATH ? 'feed' : path === REPORT_PATH ? 'report' : undefined;
    if (req.method !== 'POST' || !service) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    const body = await readRequestBody(req, this.opts.maxBytes ?? 512 * 1024 * 1024);
    try {
      const client = this.authenticate(req.socket as TLSSocket);
      if (this.fault === 'http500') {
        res.writeHead(500, { 'content-type': 'text/plain' }).end('simulated server error\n');
        return;
      }
      if (body === undefined) throw new Refusal({ code: 'WSMSS12', reason: 'message too large' });
      const reply = service === 'feed' ? this.feed(body, client) : this.report(body, client);
      res.writeHead(200, { 'content-type': reply.contentType, 'content-length': reply.body.length }).end(reply.body);
    } catch (err) {
      const r = err instanceof Refusal ? err : new Refusal({ code: 'WSMSS12', reason: asMssError(err).message });
      this.opts.log.info({ service, code: r.fault.code, reason: r.fault.reason }, 'sandbox annuaire refused a call');
      if (r.status === 401) {
        res.writeHead(401, { 'content-type': 'text/plain' }).end('401: Authorization Required\n');
        return;
      }
      const xml = Buffer.from(faultReply(r.fault.code, r.fault.reason), 'utf8');
      res.writeHead(r.status, { 'content-type': 'text/xml; charset=utf-8', 'content-length': xml.length }).end(xml);
    }
  }

  private parse(body: Buffer, service: ServiceName, client: CertInfo): ParsedRequest & { messageId?: string } {
    // §6.3.2.1: UTF-8.
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(body);
    } catch {
      throw new Refusal({ code: 'WSMSS12', reason: 'the message is not UTF-8' });
    }
    let parsed: ParsedRequest;
    try {
      parsed = parseRequest(text);
    } catch (err) {
      throw new Refusal({ code: 'WSMSS12', reason: err instanceof XmlRefused ? `not well-formed XML: ${err.message}` : (err as Error).message });
    }
    if (parsed.header) this.lastHeader = text.slice(parsed.header.start, parsed.header.end);
    if (parsed.envelopeNs !== SOAP11 && parsed.envelopeNs !== SOAP12)
      throw new Refusal({ code: 'WSMSS12', reason: `envelope namespace ${parsed.envelopeNs}, expected ${SOAP11}` });
    const fault = checkHeader(parsed.header, { service, client, whitelist: this.opts.whitelist(), now: new Date(), text });
    if (fault) throw new Refusal(fault);
    const op = service === 'feed' ? { ns: FEED_NS, local: BODY.feedOperation } : { ns: REPORT_NS, local: BODY.reportOperation };
    if (parsed.operation?.ns !== op.ns || parsed.operation.local !== op.local)
      throw new Refusal({ code: 'WSMSS12', reason: `the Body holds ${parsed.operation?.local ?? 'nothing'}, expected {${op.ns}}${op.local}` });
    if (parsed.schemaErrors.length > 0) throw new Refusal({ code: 'WSMSS12', reason: parsed.schemaErrors.join('; ') });
    const messageId = trimmed(child(parsed.header, 'MessageID'));
    return { ...parsed, ...(messageId ? { messageId } : {}) };
  }

  private feed(body: Buffer, client: CertInfo): { contentType: string; body: Buffer } {
    const req = this.parse(body, 'feed', client);
    if (req.messages.length === 0) throw new Refusal({ code: 'WSMSS12', reason: `no ${BODY.message} in the feed` });
    const wl = this.opts.whitelist();
    for (const m of req.messages) {
      // Tableau 57 (the schema check at reception): any record out of it refuses the message.
      for (const r of m.records) {
        const bad = receptionProblem(r);
        if (bad) throw new Refusal({ code: 'WSMSS12', reason: `${m.domain} ${r.fields.AdresseBAL ?? '(no address)'}: ${bad}` });
      }
      // SA4: « Si le domaine et/ou le DN ne sont pas référencés dans la liste blanche » → WSMSS 6.
      if (wl?.hasDomain(m.domain) && !wl.allows(client.subject, m.domain))
        throw new Refusal({ code: 'WSMSS06', reason: `the liste blanche does not list this DN for ${m.domain}` });
    }
    if (this.fault === 'sas') throw new Refusal({ code: 'WSMSS15', reason: 'Le message ne peut pas être déposé dans le SAS de stockage pour être traité' });
    const now = new Date();
    // « Génère un ticket horodaté »; the stored file's name holds the date as aaaammjjhhmmss.
    const ticket = `${now.toISOString().replace(/[-:T]/g, '').slice(0, 14)}${String(++this.seq).padStart(4, '0')}`;
    this.queue.push({ ticket, dn: client.subject.canonical, receivedAt: now, messages: req.messages, status: 'queued' });
    this.opts.log.info(
      { ticket, domains: req.messages.map((m) => m.domain), records: req.messages.reduce((n, m) => n + m.records.length, 0) },
      'sandbox annuaire: feed stored in the SAS',
    );
    return { contentType: 'text/xml; charset=utf-8', body: Buffer.from(ticketReply(ticket, req.messageId), 'utf8') };
  }

  private report(body: Buffer, client: CertInfo): { contentType: string; body: Buffer } {
    const req = this.parse(body, 'report', client);
    if (!req.ticket) throw new Refusal({ code: 'WSMSS12', reason: `no ${BODY.ticket} in the request` });
    const feed = this.queue.find((q) => q.ticket === req.ticket);
    if (!feed) throw new Refusal({ code: 'WSMSS23', reason: `Le numéro de ticket ${req.ticket} n'existe pas` });
    if (feed.dn !== client.subject.canonical)
      throw new Refusal({ code: 'WSMSS16', reason: "Le numéro de ticket ne correspond pas au DN du certificat d'authentification de l'Opérateur" });
    if (this.fault === 'failed') throw new Refusal({ code: 'WSMSS24', reason: "La demande d'alimentation est en échec" });
    if (feed.status === 'queued' || !feed.report) {
      throw new Refusal({
        code: 'WSMSS17',
        reason: `Le flux d'alimentation rattaché au ticket ${feed.ticket} n'a pas été traité. Veuillez essayer ultérieurement`,
      });
    }
    const mine = this.queue.filter((q) => q.dn === feed.dn && q.status === 'processed');
    if (mine.indexOf(feed) < mine.length - REPORTS_KEPT)
      throw new Refusal({ code: 'WSMSS25', reason: "Le fichier du compte-rendu de l'alimentation n'existe pas" });
    return reportReply(feed.ticket, feed.report.zip, this.delivery, req.messageId);
  }

  protected controlRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://control');
    const reply = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(`${JSON.stringify(body)}\n`);
    };
    const route = `${req.method} ${url.pathname}`;
    if (route === 'GET /') {
      reply(200, {
        fault: this.fault,
        delivery: this.delivery,
        feedUrl: this.feedUrl,
        reportUrl: this.reportUrl,
        tickets: this.queue.map((q) => ({ ticket: q.ticket, status: q.status, receivedAt: q.receivedAt.toISOString() })),
      });
    } else if (route === 'POST /batch') {
      reply(200, { processed: this.batch() });
    } else if (route === 'POST /fault') {
      const mode = url.searchParams.get('mode') as AnnuaireFault;
      if (!ANNUAIRE_FAULTS.includes(mode)) return reply(400, { error: `mode must be one of ${ANNUAIRE_FAULTS.join(', ')}` });
      this.setFault(mode).then(
        () => reply(200, { fault: mode }),
        (err: Error) => reply(500, { error: err.message }),
      );
    } else if (route === 'POST /delivery') {
      const mode = url.searchParams.get('mode');
      if (mode !== 'inline' && mode !== 'mtom') return reply(400, { error: 'mode must be inline or mtom' });
      this.delivery = mode;
      reply(200, { delivery: mode });
    } else if (route === 'POST /report-name') {
      const digits = Number(url.searchParams.get('digits'));
      if (digits !== 13 && digits !== 14) return reply(400, { error: 'digits must be 13 or 14' });
      this.nameDigits = digits;
      reply(200, { digits });
    } else if (route === 'GET /directory') {
      const domain = (url.searchParams.get('domain') ?? '').toLowerCase();
      reply(200, {
        domain,
        mailboxes: [...(this.directory.get(domain)?.values() ?? [])].map((r) => ({ ...r.fields, ...(r.coHolders ? { coHolders: r.coHolders } : {}) })),
      });
    } else if (route === 'GET /last-header') {
      res.writeHead(200, { 'content-type': 'text/xml; charset=utf-8' }).end(this.lastHeader);
    } else reply(404, { error: 'unknown control request' });
  }
}
