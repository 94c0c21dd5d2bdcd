// `annuaire report`: fetch the report of every pending ticket once the Annuaire's batch has
// processed it (§6.4.2.5: after 04:00), with the certificate that published it
// (EX_1.1.1_5020), check it, keep it (XML and JSON), apply the corrected identifiers
// (EX_PBA_5100) and say what to fix (EX_1.1.1_5030). WSMSS17: still pending, next run.
import fs from 'node:fs';
import path from 'node:path';
import { registryChange } from '../cluster/registry-change.js';
import { MssError, asMssError } from '../errors.js';
import { silentLogger } from '../log.js';
import { loadOptionsFrom } from '../registry/open.js';
import { atomicWriteFileSync } from '../util/atomic-write.js';
import { decodeXmlBytes } from '../whitelist/xml.js';
import { applyCorrections, correctionsIn, type Correction } from './corrections.js';
import { loadCredentials, type AnnuaireCredentials } from './credentials.js';
import type { AnnuaireDeps } from './publish.js';
import { parseReportXml, type ParsedReport } from './report-parse.js';
import { openReportZip } from './report-zip.js';
import { reportDueAt } from './schedule.js';
import { requestReport } from './send.js';
import { ANNUAIRE_XML_GUARD } from './soap-response.js';
import { AnnuaireState, reportsDir, type TicketRecord } from './state.js';

export type TicketOutcome = 'done' | 'pending' | 'not-due' | 'lost' | 'error';

export interface TicketResult {
  ticket: string;
  outcome: TicketOutcome;
  dueAt?: string;
  /** For done: the report and what was done with it. */
  report?: ParsedReport;
  delivery?: 'inline' | 'mtom';
  checksum?: 'ok' | 'absent';
  corrections?: Correction[];
  blocking?: number;
  warnings?: number;
  files?: { xml: string; json: string };
  error?: { code: string; message: string };
}

export interface ReportRun {
  now: string;
  tickets: TicketResult[];
}

export interface ReportOptions {
  now: Date;
  /** Only this ticket (still subject to the schedule). */
  ticket?: string;
  /** Override annuaire.applyCorrections. */
  applyCorrections?: boolean;
}

const LOST_CODES = new Set(['ANNUAIRE_TICKET_UNKNOWN', 'ANNUAIRE_FEED_FAILED', 'ANNUAIRE_TICKET_NOT_OURS', 'ANNUAIRE_REPORT_CERT_CHANGED']);

export async function fetchReports(deps: AnnuaireDeps, opts: ReportOptions): Promise<ReportRun> {
  const state = new AnnuaireState(deps.store);
  return state.exclusive(true, async () => {
    // Certificates and the VIHF token live in real time; opts.now is the schedule's clock.
    const creds = loadCredentials(deps.config);
    const out: TicketResult[] = [];
    for (const t of await state.tickets()) {
      if (t.status !== 'pending' || (opts.ticket && t.ticket !== opts.ticket)) continue;
      out.push(await fetchOne(deps, state, creds, t, opts));
    }
    if (opts.ticket && out.length === 0)
      throw new MssError(
        'ANNUAIRE_TICKET_NOT_PENDING',
        `ticket ${opts.ticket} is not a pending ticket of this operator (see \`mss-sidecar annuaire status\`)`,
        { ticket: opts.ticket },
      );
    return { now: opts.now.toISOString(), tickets: out };
  });
}

async function fetchOne(deps: AnnuaireDeps, state: AnnuaireState, creds: AnnuaireCredentials, t: TicketRecord, opts: ReportOptions): Promise<TicketResult> {
  const { config } = deps;
  const log = deps.log ?? silentLogger;
  const due = reportDueAt(Date.parse(t.sentAt), config.annuaire.schedule, config.operator.timeZone);
  // §6.4.2.5: no report before the batch that follows the feed has ended.
  if (opts.now.getTime() < due) return { ticket: t.ticket, outcome: 'not-due', dueAt: new Date(due).toISOString() };
  const attempt = { ...t, attempts: t.attempts + 1, lastAttempt: opts.now.toISOString() };
  try {
    // EX_1.1.1_5020: the report is fetched with the certificate that published the feed.
    if (t.certFingerprint !== creds.fingerprint) {
      throw new MssError(
        'ANNUAIRE_REPORT_CERT_CHANGED',
        `ticket ${t.ticket} was obtained with another certificate (${t.dn}, ${t.certFingerprint.slice(0, 23)}…) than operator.certificate (${creds.fingerprint.slice(0, 23)}…): the Annuaire only gives a report to the certificate that published it (EX_1.1.1_5020); the next publication sends the feed again`,
        { ticket: t.ticket },
      );
    }
    const { zip, delivery } = await requestReport(config, creds, t.ticket, new Date());
    const file = openReportZip(zip, t.ticket, config.annuaire.maxReportBytes);
    const xmlText = decodeXmlBytes(file.xml, file.xmlName, config.annuaire.maxReportBytes, { ...ANNUAIRE_XML_GUARD, limit: 'annuaire.maxReportBytes' });
    const report = parseReportXml(xmlText, file.xmlName);
    const found = correctionsIn(report.domains);
    const apply = opts.applyCorrections ?? config.annuaire.applyCorrections;
    // Several nodes: the corrections are made on the cluster's registry and sent to the others.
    const corrections =
      found.length > 0
        ? await registryChange(deps.store, config.registry.file, config.state.dir, () =>
            applyCorrections(
              { file: config.registry.file, load: loadOptionsFrom(config), traces: deps.traces, actor: deps.actor, means: { service: 'annuaire' } },
              found,
              t.ticket,
              apply,
            ),
          )
        : [];
    const all = report.domains.flatMap((d) => d.anomalies);
    const blocking = all.filter((a) => a.criticality === 'Bloquante').length;
    const result: TicketResult = {
      ticket: t.ticket,
      outcome: 'done',
      report,
      delivery,
      checksum: file.checksum.status,
      corrections,
      blocking,
      warnings: all.length - blocking,
    };
    result.files = saveReport(config.state.dir, t, file.xmlName, file.xml, result);
    await state.putTicket({
      ...attempt,
      status: 'done',
      lastOutcome: 'done',
      reportJson: result.files.json,
      summary: { blocking, warnings: all.length - blocking, corrections: corrections.filter((c) => c.applied).length },
    });
    deps.traces.write({
      action: 'annuaire.report',
      actor: deps.actor,
      means: { service: 'annuaire' },
      request: { ticket: t.ticket, delivery },
      response: {
        ok: true,
        checksum: file.checksum.status,
        blocking,
        warnings: all.length - blocking,
        corrections: corrections.map((c) => ({ bal: c.bal, from: c.from, to: c.to, applied: c.applied })),
        counters: report.domains.map((d) => ({ domain: d.domain, ...d.counters })),
      },
    });
    return result;
  } catch (err) {
    const e = asMssError(err);
    const outcome: TicketOutcome = e.code === 'TEMPORARY_ANNUAIRE_PENDING' ? 'pending' : LOST_CODES.has(e.code) ? 'lost' : 'error';
    await state.putTicket({ ...attempt, status: outcome === 'lost' ? 'lost' : 'pending', lastOutcome: e.code });
    deps.traces.write({
      action: 'annuaire.report',
      actor: deps.actor,
      means: { service: 'annuaire' },
      request: { ticket: t.ticket },
      response: { ok: false, code: e.code, message: e.message },
    });
    if (outcome !== 'pending') log.warn({ code: e.code, ticket: t.ticket }, e.message);
    return { ticket: t.ticket, outcome, error: { code: e.code, message: e.message } };
  }
}

/** The report as received (XML) and as understood (JSON), under state.dir/annuaire/reports. */
function saveReport(stateDir: string, t: TicketRecord, xmlName: string, xml: Buffer, result: TicketResult): { xml: string; json: string } {
  const dir = reportsDir(stateDir);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const safe = t.ticket.replace(/[^A-Za-z0-9._-]/g, '_');
  const xmlFile = path.join(dir, path.basename(xmlName).replace(/[^A-Za-z0-9._-]/g, '_'));
  const jsonFile = path.join(dir, `${safe}.json`);
  atomicWriteFileSync(xmlFile, xml, { mode: 0o600 });
  const json = {
    ticket: t.ticket,
    sentAt: t.sentAt,
    domains: t.domains,
    feedSha256: t.sha256,
    delivery: result.delivery,
    checksum: result.checksum,
    blocking: result.blocking,
    warnings: result.warnings,
    corrections: result.corrections,
    report: result.report,
  };
  atomicWriteFileSync(jsonFile, `${JSON.stringify(json, null, 2)}\n`, { mode: 0o600 });
  return { xml: xmlFile, json: jsonFile };
}
