// The SIPIL statistics service simulated on loopback (§6.9.3.2, codes §9.7.4), written from
// the Référentiel's tables (sipil-spec.ts, sipil-controls.ts, sipil-report.ts) and not from the
// client's src/stats: an ANS peer that does not share the client's reading. HTTPS with mutual
// TLS; access by the client certificate's DN in the sandbox liste blanche (EX_SSU_5810,
// Tableau 60 codes 10/20/30); postFile classic and segmented with the deposit codes of
// §9.7.4.2; the controls of §9.7.4.4 on every file; getReport returning REPORT.ZIP with the
// CompteRendu of Tableau 48. A plain-HTTP control port (loopback) lets tests inject faults:
//   GET  /                      → state
//   POST /fault?mode=MODE       → none | whitelist-down (10) | technical (100) | deposit-error (deposit code 1)
//                                 | pending (report 6) | virus (report 7)
//   POST /refuse?text=T         → control n°7 KO on every line holding T (empty: off), a stand-in
//                                 for a SIPIL control stricter than our local replay
//   POST /clock?offsetMs=N      → shift the server's clock (segments abandoned after 12 h)
import { X509Certificate } from 'node:crypto';
import http from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Logger } from '../src/log.js';
import { dnFromCertificate, formatDn, type Dn } from '../src/pki/dn.js';
import { mssTlsOptions } from '../src/pki/tls-profile.js';
import type { TrustStore } from '../src/pki/truststore.js';
import { LoopbackService, readRequestBody } from './loopback-service.js';
import { checkArchive } from './sipil-controls.js';
import { filePartOf } from './sipil-multipart.js';
import { depotXml, reportZip, type Authentication, type CompteRendu } from './sipil-report.js';
import {
  AUTH_CODES,
  DEPOSIT_CODES,
  GLOBAL_CODES,
  MAX_ARCHIVE_BYTES,
  MAX_PARTS,
  REPORT_PENDING,
  REPORT_UNKNOWN,
  REPORT_VIRUS,
  SEGMENTS_ABANDONED_MS,
} from './sipil-spec.js';
import type { AnsList } from './whitelist-reader.js';
import { AnsWhitelistSource } from './whitelist-source.js';

export const SIPIL_FAULTS = ['none', 'whitelist-down', 'technical', 'deposit-error', 'pending', 'virus'] as const;
export type SipilFault = (typeof SIPIL_FAULTS)[number];

export interface SipilServerOptions {
  host: string;
  port?: number;
  certChainPem: string;
  keyPem: string;
  /** CAs client certificates must chain to (the sandbox IGC-Santé). */
  trust: TrustStore;
  /** The ANS's own liste blanche, unsigned (whitelist-source.ts; read again when it changes). */
  whitelistFile: string;
  log: Logger;
  /** §6.9.3.2.1.1: 70 Mo; smaller in tests so that code 2 and segmentation are cheap to provoke. */
  maxArchiveBytes?: number;
}

interface Segments {
  total: number;
  parts: Map<number, Buffer>;
  firstAt: number;
  email?: string;
}

/** A ZIP local file header, « tout autre format que le format zip » being code 3. */
const isZip = (b: Uint8Array): boolean => b.length >= 4 && b[0] === 0x50 && b[1] === 0x4b && ((b[2] === 3 && b[3] === 4) || (b[2] === 5 && b[3] === 6));

export class SandboxSipilServer extends LoopbackService {
  private fault: SipilFault = 'none';
  private clockOffsetMs = 0;
  private refuseText = '';
  private nextId = 1;
  private readonly reports = new Map<string, { dn: string; zip: Buffer; compteRendu: CompteRendu }>();
  private readonly segments = new Map<string, Segments>();
  private readonly accepted = new Map<string, Set<string>>();
  private readonly list: AnsWhitelistSource;
  /** Deposits seen, for tests: mode, parts, codes. */
  readonly log: Array<{ at: string; dn?: string; code: number; part?: number; total?: number }> = [];

  constructor(private readonly opts: SipilServerOptions) {
    super({
      host: opts.host,
      ...(opts.port !== undefined ? { port: opts.port } : {}),
      // Client certificates are asked but judged here, so that a refusal is a coded answer (Tableau 60).
      tls: { ...mssTlsOptions(), cert: opts.certChainPem, key: opts.keyPem, ca: [...opts.trust.pem], requestCert: true, rejectUnauthorized: false },
    });
    this.list = new AnsWhitelistSource(opts.whitelistFile);
  }

  private now(): number {
    return Date.now() + this.clockOffsetMs;
  }

  get baseUrl(): string {
    return `https://${this.opts.host}:${this.port}/sipil`;
  }

  /** Tableau 60: who is calling, or the code refusing them. */
  private authenticate(req: http.IncomingMessage): { ok: true; dn: Dn; auth: Authentication; index: AnsList } | { ok: false; code: number } {
    if (this.fault === 'technical') return { ok: false, code: 100 };
    if (this.fault === 'whitelist-down') return { ok: false, code: 10 };
    const socket = req.socket as TLSSocket;
    const peer = socket.getPeerCertificate(false);
    if (!peer || !peer.raw) return { ok: false, code: 20 };
    let dn: Dn;
    try {
      dn = dnFromCertificate(new X509Certificate(peer.raw));
    } catch {
      return { ok: false, code: 20 };
    }
    if (!socket.authorized) return { ok: false, code: 30 };
    let index: AnsList;
    try {
      index = this.list.list();
    } catch (err) {
      // Tableau 60 code 10: the ANS has no list to check the caller against.
      this.opts.log.error({ err }, 'sandbox SIPIL has no liste blanche');
      return { ok: false, code: 10 };
    }
    if (!index.hasDn(dn)) return { ok: false, code: 30 };
    const cn = dn.rdns.flat().find((a) => a.type === 'CN')?.value ?? formatDn(dn);
    return { ok: true, dn, index, auth: { identite: cn, domaines: [...index.domainsOf(dn)] } };
  }

  protected serve(req: http.IncomingMessage, res: http.ServerResponse): void {
    void this.handle(req, res);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://sipil');
    try {
      if (req.method === 'POST' && url.pathname === '/sipil/postFile') return await this.postFile(req, res, url);
      if (req.method === 'GET' && url.pathname === '/sipil/getReport') return this.getReport(req, res, url);
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    } catch (err) {
      this.opts.log.error({ err }, 'sandbox SIPIL failed');
      if (!res.headersSent) this.depot(res, undefined, { code: 1 });
    }
  }

  private depot(
    res: http.ServerResponse,
    auth: Authentication | undefined,
    d: { code: number; id?: string; nomArchive?: string; message?: string },
    part?: { part: number; total: number },
  ): void {
    // Figure 38: « Depot de la partie de l'archive OK : 3 ».
    const message =
      d.message ?? (d.code === 4 && part ? `Depot de la partie de l'archive OK : ${part.part}` : (DEPOSIT_CODES[d.code] ?? AUTH_CODES[d.code] ?? ''));
    this.log.push({ at: new Date(this.now()).toISOString(), code: d.code, ...(auth ? { dn: auth.identite } : {}), ...(part ?? {}) });
    res.writeHead(200, { 'content-type': 'application/xml; charset=UTF-8' }).end(depotXml(auth, { ...d, message }));
  }

  private async postFile(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
    const max = this.opts.maxArchiveBytes ?? MAX_ARCHIVE_BYTES;
    const who = this.authenticate(req);
    const body = await readRequestBody(req, max + 64 * 1024);
    if (!who.ok) return this.depot(res, undefined, { code: who.code });
    const email = url.searchParams.get('email');
    const auth: Authentication = { ...who.auth, ...(email ? { email } : {}) };
    if (!body) return this.depot(res, auth, { code: 2 }); // « La taille de l'archive dépasse 70 Mo »
    if (this.fault === 'deposit-error') return this.depot(res, auth, { code: 1 });
    const part = filePartOf(body, req.headers['content-type']);
    if (!part) return this.depot(res, auth, { code: 1, message: `${DEPOSIT_CODES[1]} (no multipart field « file »)` });
    if (part.data.length > max) return this.depot(res, auth, { code: 2 });
    const totalHeader = req.headers['total-file-parts'];
    if (totalHeader === undefined) {
      if (!isZip(part.data)) return this.depot(res, auth, { code: 3 });
      return this.accept(res, who.dn, who.index, auth, part.filename ?? 'archive.zip', part.data);
    }
    // §6.9.3.2.1.2: segmented deposit.
    const dnKey = formatDn(who.dn);
    const total = Number(totalHeader);
    const n = Number(req.headers['file-part']);
    const drop = (code: number): void => {
      // « Les segments déjà déposés sont supprimés, et l'intégralité du dépôt … doit être relancé ».
      this.segments.delete(dnKey);
      this.depot(res, auth, { code }, { part: n, total });
    };
    if (!Number.isInteger(total) || total > MAX_PARTS) return drop(6);
    let s = this.segments.get(dnKey);
    if (s && this.now() - s.firstAt > SEGMENTS_ABANDONED_MS) {
      this.segments.delete(dnKey);
      s = undefined;
    }
    if (s && s.total !== total) return drop(7);
    if (!Number.isInteger(n) || n < 1 || n > total) return drop(8);
    if (!s) {
      s = { total, parts: new Map(), firstAt: this.now() };
      this.segments.set(dnKey, s);
    }
    // « c'est l'adresse du dernier segment d'archive déposé qui sera prise en compte ».
    if (email) s.email = email;
    const overwritten = s.parts.has(n);
    s.parts.set(n, part.data);
    if (s.parts.size < total) return this.depot(res, auth, { code: overwritten ? 5 : 4 }, { part: n, total });
    this.segments.delete(dnKey);
    const whole = Buffer.concat([...s.parts.entries()].sort((a, b) => a[0] - b[0]).map(([, b]) => b));
    if (!isZip(whole)) return this.depot(res, auth, { code: 3 });
    const name = (part.filename ?? 'archive.zip').replace(/\.part\d+$/, '');
    return this.accept(res, who.dn, who.index, { ...auth, ...(s.email ? { email: s.email } : {}) }, name, whole);
  }

  private accept(res: http.ServerResponse, dn: Dn, index: AnsList, auth: Authentication, name: string, bytes: Buffer): void {
    const id = String(this.nextId++);
    const dnKey = formatDn(dn);
    const accepted = this.accepted.get(dnKey) ?? new Set<string>();
    this.accepted.set(dnKey, accepted);
    const outcome = checkArchive(bytes, {
      now: new Date(this.now()),
      manages: (d) => index.allows(dn, d),
      alreadyAccepted: (n) => accepted.has(n),
      ...(this.refuseText ? { refuse: this.refuseText } : {}),
    });
    let cr: CompteRendu;
    if (outcome.kind === 'files') {
      const ko = outcome.files.filter((f) => f.codeRetour === 1).length;
      // Tableau 48: 0 all OK or Warning, 1 all KO, 2 some KO.
      const code = ko === 0 ? 0 : ko === outcome.files.length ? 1 : 2;
      for (const f of outcome.files) if (f.codeRetour !== 1) accepted.add(f.name);
      cr = { auth, nomArchive: name, identifiant: id, code, message: GLOBAL_CODES[code] as string, files: outcome.files };
    } else {
      const code = outcome.kind === 'empty' ? 4 : 5;
      cr = {
        auth,
        nomArchive: name,
        identifiant: id,
        code,
        message: `${GLOBAL_CODES[code]}${outcome.kind === 'unreadable' ? ` (${outcome.why})` : ''}`,
        files: [],
      };
    }
    this.reports.set(id, { dn: dnKey, compteRendu: cr, zip: reportZip(cr) });
    // Figure 37: « <NomArchive>10_bus.dev.mssante.fr.zip » — the Id, then the operator's CN.
    this.depot(res, auth, { code: 0, id, nomArchive: `${id}_${auth.identite}.zip` });
  }

  private getReport(req: http.IncomingMessage, res: http.ServerResponse, url: URL): void {
    const who = this.authenticate(req);
    if (!who.ok) {
      res
        .writeHead(200, { 'content-type': 'application/xml; charset=UTF-8' })
        .end(depotXml(undefined, { code: who.code, message: AUTH_CODES[who.code] ?? '' }));
      return;
    }
    const id = url.searchParams.get('id') ?? '';
    const found = this.reports.get(id);
    let zip: Buffer;
    if (!found || found.dn !== formatDn(who.dn)) zip = reportZip({ auth: who.auth, identifiant: id || 'none', ...REPORT_UNKNOWN, files: [] });
    else if (this.fault === 'pending') zip = reportZip({ auth: who.auth, identifiant: id, ...REPORT_PENDING, files: [] });
    else if (this.fault === 'virus') zip = reportZip({ auth: who.auth, identifiant: id, ...REPORT_VIRUS, files: [] });
    else zip = found.zip;
    res
      .writeHead(200, { 'content-type': 'application/zip', 'content-disposition': 'attachment; filename="REPORT.ZIP"', 'content-length': zip.length })
      .end(zip);
  }

  protected controlRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://control');
    const reply = (status: number, body: unknown): void => void res.writeHead(status, { 'content-type': 'application/json' }).end(`${JSON.stringify(body)}\n`);
    if (req.method === 'GET' && url.pathname === '/')
      return reply(200, {
        fault: this.fault,
        refuse: this.refuseText,
        clockOffsetMs: this.clockOffsetMs,
        reports: [...this.reports.keys()],
        deposits: this.log,
      });
    if (req.method === 'POST' && url.pathname === '/fault') {
      const mode = url.searchParams.get('mode') as SipilFault;
      if (!SIPIL_FAULTS.includes(mode)) return reply(400, { error: `mode must be one of ${SIPIL_FAULTS.join(', ')}` });
      this.fault = mode;
      return reply(200, { fault: mode });
    }
    if (req.method === 'POST' && url.pathname === '/refuse') {
      this.refuseText = url.searchParams.get('text') ?? '';
      return reply(200, { refuse: this.refuseText });
    }
    if (req.method === 'POST' && url.pathname === '/clock') {
      this.clockOffsetMs = Number(url.searchParams.get('offsetMs') ?? 0) || 0;
      return reply(200, { clockOffsetMs: this.clockOffsetMs });
    }
    reply(404, { error: 'unknown control request' });
  }
}

/** Client of the control port, for tests and self-check steps. */
export async function controlSipil(controlUrl: string, path: string): Promise<unknown> {
  const res = await fetch(new URL(path, controlUrl), { method: path === '/' ? 'GET' : 'POST' });
  const json: unknown = await res.json();
  if (!res.ok) throw new Error(`sandbox SIPIL control ${path}: HTTP ${res.status} ${JSON.stringify(json)}`);
  return json;
}
