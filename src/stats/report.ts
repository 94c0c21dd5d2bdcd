// Reports in the ANS's terms: the CompteRendu of getReport (REPORT.ZIP, Tableau 48), and the
// local replay of the same controls turned into the same structure, so that `stats
// validate` and `stats report` print alike and the sandbox SIPIL writes what it checked.
import { MssError } from '../errors.js';
import type { ArchiveCheck } from './archive-check.js';
import { CONNEXIONS_CONTROLS, ECHANGES_CONTROLS, type FileCheck } from './controls.js';
import { parseFileName } from './format.js';
import { CONTROL_CODES, FILE_CODES, reportVerdict, type ReportVerdict } from './sipil-codes.js';
import { parseCompteRendu, type Authentication, type CompteRendu } from './sipil-xml.js';
import { readZip } from './zip.js';

const two = (n: number): string => String(n).padStart(2, '0');
/** DateDebut: dd/MM/AAAA HH:mm:ss; DateFin: AAAA-MM-dd HH:mm:ss (Tableau 48 writes them so). */
export const frDate = (d: Date): string => `${two(d.getUTCDate())}/${two(d.getUTCMonth() + 1)}/${d.getUTCFullYear()} ${d.toISOString().slice(11, 19)}`;
export const isoDate = (d: Date): string => `${d.toISOString().slice(0, 10)} ${d.toISOString().slice(11, 19)}`;

export function fileToReport(f: FileCheck): CompteRendu['files'][number] {
  return {
    nomFichier: f.name,
    dateDebut: frDate(f.startedAt),
    dateFin: isoDate(f.endedAt),
    codeRetour: f.codeRetour,
    controls: f.controls.map((c) => ({
      code: c.code,
      codeRetour: c.retour,
      errors: c.retour === 0 ? [] : c.messages.map((message, i) => ({ message, lines: i === 0 ? c.lines : [] })),
      dateDebut: frDate(c.startedAt),
      dateFin: isoDate(c.endedAt),
    })),
  };
}

/** A local check as a CompteRendu (what the sandbox SIPIL returns). */
export function checkToCompteRendu(check: ArchiveCheck, auth: Authentication, statut: { nomArchive?: string; identifiant?: string }): CompteRendu {
  return { ...auth, ...statut, code: check.code, message: check.message, files: check.files.map(fileToReport) };
}

/** The CompteRendu in a getReport body: REPORT.ZIP (its XML entry), or XML given directly. */
export function readReportBody(body: Uint8Array, zip: boolean, source = 'REPORT.ZIP'): CompteRendu {
  if (!zip) return parseCompteRendu(body, `${source} (XML answer)`);
  const found: Array<{ name: string; chunks: Uint8Array[] }> = [];
  readZip(
    body,
    (name) => {
      if (!name.toLowerCase().endsWith('.xml')) return undefined;
      const entry = { name, chunks: [] as Uint8Array[] };
      found.push(entry);
      return { push: (c) => entry.chunks.push(c), end: () => undefined };
    },
    { maxUncompressedBytes: 256 * 1024 * 1024 },
  );
  const first = found[0];
  if (!first) throw new MssError('STATS_REPORT_EMPTY', `${source} holds no XML compte rendu`, { source });
  return parseCompteRendu(Buffer.concat(first.chunks), `${source}/${first.name}`);
}

export interface ReportOutcome {
  id?: string;
  verdict: ReportVerdict;
  code: number;
  /** How each table reads the global code (they disagree on 1, 2 and 6). */
  readings: string[];
  blockingFiles: string[];
  warningFiles: string[];
  report: CompteRendu;
}

export function interpretReport(report: CompteRendu, id?: string): ReportOutcome {
  const { verdict, readings } = reportVerdict({ code: report.code, fileCodes: report.files.map((f) => f.codeRetour) });
  return {
    ...(id ? { id } : {}),
    verdict,
    code: report.code,
    readings,
    blockingFiles: report.files.filter((f) => f.codeRetour !== 0 && f.codeRetour !== 2).map((f) => f.nomFichier),
    warningFiles: report.files.filter((f) => f.codeRetour === 2).map((f) => f.nomFichier),
    report,
  };
}

function labelOf(fileName: string, code: number): string {
  const defs = parseFileName(fileName)?.kind === 'connexions' ? CONNEXIONS_CONTROLS : ECHANGES_CONTROLS;
  return defs.find((d) => d.code === code)?.label ?? `contrôle ${code}`;
}

const VERDICT_TEXT: Record<ReportVerdict, string> = {
  accepted: 'ACCEPTED: every file OK or Warning',
  rejected: 'REJECTED: blocking errors — fix and resubmit within the first five days (EX_SSU_5820)',
  pending: 'NOT READY: ask again no sooner than 12 hours from now (EX_SSU_5820, §6.9.3.2.2.1)',
  'unknown-id': 'UNKNOWN ID: SIPIL has no archive with this identifier (99)',
  error: 'FAILED: the archive could not be processed',
};

/** Human text of a report (local or from SIPIL). */
export function renderReport(o: ReportOutcome, title: string): string {
  const r = o.report;
  const out: string[] = [];
  out.push(`${title}`);
  if (r.nomArchive || r.identifiant) out.push(`  archive ${r.nomArchive ?? '?'}${r.identifiant ? `, identifiant ${r.identifiant}` : ''}`);
  if (r.identite) out.push(`  identité ${r.identite}${r.domaines.length ? `; domaines gérés: ${r.domaines.join(', ')}` : ''}`);
  out.push(`  CodeRetourGlobal ${r.code}${r.message ? ` « ${r.message} »` : ''}`);
  for (const line of o.readings) out.push(`    ${line}`);
  for (const f of r.files) {
    out.push(`  ${FILE_CODES[f.codeRetour] ?? f.codeRetour}\t${f.nomFichier}${f.dateDebut ? `\t(${f.dateDebut} → ${f.dateFin ?? '?'})` : ''}`);
    for (const c of f.controls) {
      if (c.codeRetour === 0) continue;
      out.push(`    contrôle ${c.code} ${labelOf(f.nomFichier, c.code)}: ${CONTROL_CODES[c.codeRetour] ?? c.codeRetour}`);
      for (const e of c.errors) out.push(`      ${e.message ?? ''}${e.lines.length ? ` — lignes ${e.lines.join(' ')}` : ''}`);
    }
  }
  out.push(`  → ${VERDICT_TEXT[o.verdict]}`);
  return `${out.join('\n')}\n`;
}
