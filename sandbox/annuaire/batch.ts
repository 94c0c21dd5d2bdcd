// The sandbox Annuaire's batch (§6.4.2.4): feeds are processed in the order they arrived,
// domain by domain: the delta against the published table keyed on AdresseBAL (« la clé
// fonctionnelle des adresses de BAL »), the controls of §9.7.3 (controls.ts), then « annule
// et remplace » — created, updated, deleted — and the report of §6.4.2.5.1.3 (Tableaux
// 20–24), zipped with deflate next to its SHA-256 (`…_checksum.txt`), named as the text
// names it: `cralimentationmss_<ticket>_AAAAMMJJHHmss.xml`, a 13-character date.
import { createHash } from 'node:crypto';
import { zipSync } from 'fflate';
import { recordFindings, type Finding } from './controls.js';
import type { Referential } from './referential.js';
import type { RequestMessage, SandboxRecord } from './request.js';
import { ANOMALY_LEAVES, COUNTERS, REPORT_XML, RG_CTR_021_TEXT, RULES, type AnomalyLeaf, type Counter } from './spec.js';
import { xmlEscape } from './xml-read.js';
import type { AnsList } from '../whitelist-reader.js';

export interface QueuedFeed {
  ticket: string;
  /** Canonical DN of the certificate that sent it (the report goes to it only). */
  dn: string;
  receivedAt: Date;
  messages: RequestMessage[];
  status: 'queued' | 'processed';
  report?: { zip: Uint8Array; xmlName: string };
}

/** The published mailboxes, per domain, keyed on AdresseBAL (lowercase). */
export type Directory = Map<string, Map<string, SandboxRecord>>;

/** One anomaly of the report (Tableau 24), with the record it is about. */
export interface ReportAnomaly extends Finding {
  record: SandboxRecord;
}

interface DomainOutcome {
  domain: string;
  counters: Record<Counter, number>;
  anomalies: ReportAnomaly[];
}

/** How report names write their date: the text's 13 characters (default) or 14. */
export type NameDigits = 13 | 14;

const same = (a: SandboxRecord, b: SandboxRecord): boolean => JSON.stringify(a) === JSON.stringify(b);

const ruleFinding = (rule: string, detail: string): Finding => {
  const r = RULES[rule] as { code: string; criticite: Finding['criticite']; message: string };
  return { rule, code: r.code, criticite: r.criticite, message: r.message, detail };
};

function processDomain(m: RequestMessage, directory: Directory, ref: Referential, whitelist: AnsList | undefined, seen: Set<string>): DomainOutcome {
  const counters = Object.fromEntries(COUNTERS.map((k) => [k, 0])) as Record<Counter, number>;
  counters.NbBALLus = m.records.length;
  // RG_CTR_000: « le domaine est présent dans la liste blanche »; if not, nothing of it is loaded.
  if (!whitelist?.hasDomain(m.domain)) {
    counters.NbBALErrBlo = m.records.length;
    return { domain: m.domain, counters, anomalies: [{ ...ruleFinding('RG_CTR_000', `${m.domain} is not in the liste blanche`), record: { fields: {} } }] };
  }
  const table = directory.get(m.domain) ?? new Map<string, SandboxRecord>();
  const key = (r: SandboxRecord): string => (r.fields.AdresseBAL ?? '').toLowerCase();
  const fed = new Set(m.records.map(key));
  // « Nombre d'enregistrements en modification (création, modification, suppression) avant contrôle ».
  for (const r of m.records) {
    const old = table.get(key(r));
    if (!old || !same(old, r)) counters.NbBALDelta++;
  }
  for (const address of table.keys()) if (!fed.has(address)) counters.NbBALDelta++;
  const anomalies: ReportAnomaly[] = [];
  const next = new Map<string, SandboxRecord>();
  for (const r of m.records) {
    const k = key(r);
    const found = recordFindings(m.domain, r, ref);
    // RG_CTR_044: « l'unicité de l'adresse BAL MSSanté dans le fichier source » (the whole feed).
    if (seen.has(k)) found.unshift(ruleFinding('RG_CTR_044', `${r.fields.AdresseBAL} appears twice in the feed`));
    seen.add(k);
    for (const f of found) anomalies.push({ ...f, record: r });
    // « Une BAL comportant plusieurs erreurs n'est comptée qu'une seule fois » (Tableau 23).
    if (found.some((f) => f.criticite === 'Bloquante')) {
      counters.NbBALErrBlo++;
      const old = table.get(k);
      if (old) next.set(k, old); // « une criticité bloquante entraîne le rejet de l'enregistrement »
      continue;
    }
    if (found.length > 0) counters.NbBALErrNBlo++;
    const old = table.get(k);
    if (!old) counters.NbBALCrees++;
    else if (!same(old, r)) counters.NbBALMaj++;
    next.set(k, r);
  }
  for (const address of table.keys()) if (!fed.has(address)) counters.NbBALSup++;
  directory.set(m.domain, next);
  return { domain: m.domain, counters, anomalies };
}

function anomalyXml(a: ReportAnomaly): string {
  const f = a.record.fields;
  // Tableau 24: the identifiers « renseignés avec les valeurs indiquées dans le fichier d'alimentation ».
  const v: Partial<Record<AnomalyLeaf, string>> = {
    CodeMSSO: a.code,
    MotifErreur: a.message,
    CriticiteErreur: a.criticite,
    TypeBAL: f.TypeBAL,
    AdresseBAL: f.AdresseBAL,
    TypIdentifiantPP: f.TypeIdentifiantPP,
    IdentifiantPP: f.IdentifiantPP,
    TypIdentifiantPM: f.TypeIdentifiantPM,
    IdentifiantPM: f.IdentifiantPM,
    NomExerciceAnnuaire: a.annuaire?.nom,
    PrenomExerciceAnnuaire: a.annuaire?.prenom,
    TypIdentifiantPPAnnuaire: a.annuaire?.typeIdentifiantPP,
    IdentifiantPPAnnuaire: a.annuaire?.identifiantPP,
  };
  return `<${REPORT_XML.anomaly}>${ANOMALY_LEAVES.map((k) => (v[k] !== undefined && v[k] !== '' ? `<${k}>${xmlEscape(v[k] as string)}</${k}>` : '')).join('')}</${REPORT_XML.anomaly}>`;
}

export function reportXml(ticket: string, outcomes: readonly DomainOutcome[]): string {
  const X = REPORT_XML;
  const parts = [
    `<?xml version="1.0" encoding="UTF-8"?><${X.root}><${X.header}><${X.ticket}>${xmlEscape(ticket)}</${X.ticket}>`,
    `<${X.rules}><${X.rule}><${X.ruleText}>${xmlEscape(RG_CTR_021_TEXT)}</${X.ruleText}><${X.ruleCode}>MSS020</${X.ruleCode}></${X.rule}></${X.rules}></${X.header}>`,
  ];
  for (const o of outcomes) {
    parts.push(`<${X.domainBlock}><${X.domain}>${xmlEscape(o.domain)}</${X.domain}><${X.stats}>`);
    for (const k of COUNTERS) parts.push(`<${k}>${o.counters[k]}</${k}>`);
    parts.push(`</${X.stats}><${X.anomalies}>`);
    for (const a of o.anomalies) parts.push(anomalyXml(a));
    parts.push(`</${X.anomalies}></${X.domainBlock}>`);
  }
  parts.push(`</${X.root}>`);
  return parts.join('');
}

/**
 * The report's date as the text writes it: « AAAAMMJJHHmss », 13 characters (the minutes'
 * tens digit has no letter in the pattern), or 14 with `digits: 14`. UTC.
 */
export function reportStamp(d: Date, digits: NameDigits = 13): string {
  const full = d.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return digits === 14 ? full : `${full.slice(0, 10)}${full.slice(11)}`;
}

/** Process every queued feed, oldest first; returns how many were processed. */
export function runBatch(
  queue: readonly QueuedFeed[],
  directory: Directory,
  ref: Referential,
  whitelist: AnsList | undefined,
  now: Date,
  digits: NameDigits = 13,
): number {
  let n = 0;
  for (const feed of queue) {
    if (feed.status !== 'queued') continue;
    const seen = new Set<string>();
    const outcomes = feed.messages.map((m) => processDomain(m, directory, ref, whitelist, seen));
    const xml = Buffer.from(reportXml(feed.ticket, outcomes), 'utf8');
    const base = `cralimentationmss_${feed.ticket}_${reportStamp(now, digits)}`;
    const sum = `${createHash('sha256').update(xml).digest('hex')}  ${base}.xml\n`;
    // « un fichier compressé d'extension .zip basé sur l'algorithme deflate ».
    feed.report = { xmlName: `${base}.xml`, zip: zipSync({ [`${base}.xml`]: xml, [`${base}_checksum.txt`]: Buffer.from(sum) }, { level: 6 }) };
    feed.status = 'processed';
    feed.messages = [];
    n++;
  }
  return n;
}
