// The sandbox Annuaire's batch (§6.4.2.4): feeds are processed in the order they arrived,
// domain by domain: delta against the published table keyed on AdresseBAL, the control
// rules of §9.7.3 (the same code as the client's local validation, plus the rules that
// need the referential), then "annule et remplace" — created, updated, deleted — and a
// report (Tableaux 20–24) zipped with its SHA-256 checksum.
import { createHash } from 'node:crypto';
import { zipSync } from 'fflate';
import { ANOMALY_FIELDS, REPORT_COUNTERS, REPORT_XML, type ReportCounter } from '../../annuaire/contract.js';
import { CONTROL_RULES, nameKey } from '../../annuaire/controls.js';
import { xmlText } from '../../annuaire/feed-xml.js';
import type { FeedRecord } from '../../annuaire/record.js';
import { validateRecord, type Anomaly } from '../../annuaire/validate.js';
import type { WhitelistIndex } from '../../whitelist/whitelist-index.js';
import type { Referential } from './referential.js';
import type { RequestMessage } from './request.js';

export interface QueuedFeed {
  ticket: string;
  /** Canonical DN of the certificate that sent it (the report goes to it only). */
  dn: string;
  receivedAt: Date;
  messages: RequestMessage[];
  status: 'queued' | 'processed';
  report?: { zip: Uint8Array; xmlName: string };
}

/** The published mailboxes, per domain, keyed on AdresseBAL. */
export type Directory = Map<string, Map<string, FeedRecord>>;

interface DomainOutcome {
  domain: string;
  counters: Record<ReportCounter, number>;
  anomalies: Anomaly[];
}

export const RG_CTR_021_TEXT = 'Le contrôle de cohérence vérifie que la première lettre du prénom et les deux premières lettres du nom - après la normalisation (sans : accents-tirets-apostrophe-espaces) - sont identiques aux valeurs connues dans l\'Annuaire Santé.';

function anomaly(domain: string, r: FeedRecord, rule: string, detail: string, annuaire?: Anomaly['annuaire']): Anomaly {
  const c = CONTROL_RULES.get(rule);
  return {
    domain, ...(r.AdresseBAL ? { bal: r.AdresseBAL } : {}), ...(r.TypeBAL ? { typeBal: r.TypeBAL } : {}),
    rule, ...(c?.code ? { code: c.code } : {}), criticality: c?.criticality ?? 'Bloquante', message: c?.message ?? rule, detail,
    ...(annuaire ? { annuaire } : {}),
  };
}

/** The rules that need the Annuaire's data, on a record that passed format/required/nomenclature. */
export function referentialChecks(domain: string, r: FeedRecord, ref: Referential): Anomaly[] {
  const out: Anomaly[] = [];
  if (r.TypeBAL === 'PER' && (r.TypeIdentifiantPP === '8' || r.TypeIdentifiantPP === '0')) {
    const p = ref.person(r.TypeIdentifiantPP, r.IdentifiantPP);
    if (!p) return [anomaly(domain, r, 'RG_CTR_008', `${r.TypeIdentifiantPP}/${r.IdentifiantPP} unknown`)];
    const current = p.rpps ? ref.person('8', p.rpps) ?? p : p;
    if (p.rpps) out.push(anomaly(domain, r, 'RG_CTR_045', `ADELI ${p.id} replaced by RPPS ${p.rpps}`, { nom: current.nom, prenom: current.prenom, typeIdentifiantPP: '8', identifiantPP: p.rpps }));
    if (nameKey(r.NomExercice ?? '', r.PrenomExercice ?? '') !== nameKey(current.nom, current.prenom)) {
      out.push(anomaly(domain, r, 'RG_CTR_021', `${r.NomExercice} ${r.PrenomExercice} vs ${current.nom} ${current.prenom}`, { nom: current.nom, prenom: current.prenom }));
    }
    if (current.student) out.push(anomaly(domain, r, 'RG_CTR_049', `${current.id} is a student's RPPS`));
    if (r.IdentifiantPM && !(current.structures ?? []).includes(r.IdentifiantPM)) out.push(anomaly(domain, r, 'RG_CTR_034', `${r.IdentifiantPM} is not a known practice place of ${current.id}`));
  }
  const mandatoryPm = r.TypeBAL === 'ORG' || r.TypeBAL === 'APP' || (r.TypeBAL === 'PER' && r.TypeIdentifiantPP === '10');
  if (mandatoryPm && r.IdentifiantPM) {
    const s = ref.structure(r.TypeIdentifiantPM, r.IdentifiantPM);
    if (!s) out.push(anomaly(domain, r, 'RG_CTR_016', `${r.TypeIdentifiantPM}/${r.IdentifiantPM} unknown`));
    else if (s.hasFiness && r.TypeIdentifiantPM !== '1') out.push(anomaly(domain, r, 'RG_CTR_033', `${r.IdentifiantPM} belongs to a structure with a FINESS`));
  }
  if (r.TypeBAL === 'CAB') {
    for (const c of r.coHolders ?? []) {
      const p = ref.person(c.TypeIdentifiantPP, c.IdentifiantPP);
      if (!p) out.push(anomaly(domain, r, 'RG_CTR_141', `co-holder ${c.TypeIdentifiantPP}/${c.IdentifiantPP} unknown`));
      else {
        if (nameKey(c.NomExercice ?? '', 'x') !== nameKey(p.nom, 'x')) out.push(anomaly(domain, r, 'RG_CTR_142', `${c.NomExercice} vs ${p.nom}`, { nom: p.nom, prenom: p.prenom }));
        if (nameKey('xx', c.PrenomExercice ?? '') !== nameKey('xx', p.prenom)) out.push(anomaly(domain, r, 'RG_CTR_143', `${c.PrenomExercice} vs ${p.prenom}`, { nom: p.nom, prenom: p.prenom }));
      }
    }
  }
  return out;
}

const same = (a: FeedRecord, b: FeedRecord): boolean => JSON.stringify(a) === JSON.stringify(b);

function processDomain(m: RequestMessage, directory: Directory, ref: Referential, whitelist: WhitelistIndex | undefined): DomainOutcome {
  const counters = Object.fromEntries(REPORT_COUNTERS.map((k) => [k, 0])) as Record<ReportCounter, number>;
  counters.NbBALLus = m.records.length;
  // RG_CTR_000: a domain outside the liste blanche is not loaded at all.
  if (!whitelist?.hasDomain(m.domain)) {
    counters.NbBALErrBlo = m.records.length;
    return { domain: m.domain, counters, anomalies: [anomaly(m.domain, {}, 'RG_CTR_000', `${m.domain} is not in the liste blanche`)] };
  }
  const table = directory.get(m.domain) ?? new Map<string, FeedRecord>();
  const fed = new Set(m.records.map((r) => (r.AdresseBAL ?? '').toLowerCase()));
  // Delta before controls (NbBALDelta): creations, updates and deletions the feed asks for.
  for (const r of m.records) {
    const old = table.get((r.AdresseBAL ?? '').toLowerCase());
    if (!old || !same(old, r)) counters.NbBALDelta++;
  }
  for (const address of table.keys()) if (!fed.has(address)) counters.NbBALDelta++;
  const anomalies: Anomaly[] = [];
  const next = new Map<string, FeedRecord>();
  const seen = new Set<string>();
  for (const r of m.records) {
    const key = (r.AdresseBAL ?? '').toLowerCase();
    // The Annuaire's own rules only: our requirements (EX_…) are the operator's business.
    const found = validateRecord(m.domain, r, { finessRegistered: false });
    const list = found.anomalies.filter((a) => a.rule.startsWith('RG_CTR_'));
    if (seen.has(key)) list.push(anomaly(m.domain, r, 'RG_CTR_044', `${r.AdresseBAL} appears twice`));
    seen.add(key);
    if (!found.phase1Blocked) list.push(...referentialChecks(m.domain, r, ref));
    list.sort((a, b) => (a.criticality === b.criticality ? 0 : a.criticality === 'Bloquante' ? -1 : 1));
    anomalies.push(...list);
    if (list.some((a) => a.criticality === 'Bloquante')) {
      counters.NbBALErrBlo++;
      const old = table.get(key);
      if (old) next.set(key, old); // a rejected record leaves the published one as it was
      continue;
    }
    if (list.length > 0) counters.NbBALErrNBlo++;
    const old = table.get(key);
    if (!old) counters.NbBALCrees++;
    else if (!same(old, r)) counters.NbBALMaj++;
    next.set(key, r);
  }
  for (const address of table.keys()) if (!fed.has(address)) counters.NbBALSup++;
  directory.set(m.domain, next);
  return { domain: m.domain, counters, anomalies };
}

/** CodeMSSO of an anomaly; the CAB rules (1xx) have none in the Référentiel: MSS1xx here. */
function codeOf(a: Anomaly): string {
  return a.code ?? `MSS${a.rule.slice(-3)}`;
}

function anomalyXml(a: Anomaly): string {
  const v: Record<string, string | undefined> = {
    CodeMSSO: codeOf(a), MotifErreur: a.message, CriticiteErreur: a.criticality, TypeBAL: a.typeBal, AdresseBAL: a.bal,
    TypIdentifiantPP: a.sent?.typeIdentifiantPP, IdentifiantPP: a.sent?.identifiantPP, TypIdentifiantPM: a.sent?.typeIdentifiantPM, IdentifiantPM: a.sent?.identifiantPM,
    NomExerciceAnnuaire: a.annuaire?.nom, PrenomExerciceAnnuaire: a.annuaire?.prenom, TypIdentifiantPPAnnuaire: a.annuaire?.typeIdentifiantPP, IdentifiantPPAnnuaire: a.annuaire?.identifiantPP,
  };
  return `<${REPORT_XML.anomaly}>${ANOMALY_FIELDS.map((f) => (v[f] !== undefined ? `<${f}>${xmlText(v[f] as string)}</${f}>` : '')).join('')}</${REPORT_XML.anomaly}>`;
}

export function reportXml(ticket: string, outcomes: readonly DomainOutcome[]): string {
  const X = REPORT_XML;
  const parts = [
    `<?xml version="1.0" encoding="UTF-8"?><${X.root}><${X.header}><${X.ticket}>${xmlText(ticket)}</${X.ticket}>`,
    `<${X.rules}><${X.rule}><${X.ruleText}>${xmlText(RG_CTR_021_TEXT)}</${X.ruleText}><${X.ruleCode}>MSS020</${X.ruleCode}></${X.rule}></${X.rules}></${X.header}>`,
  ];
  for (const o of outcomes) {
    parts.push(`<${X.domain}><${X.domainName}>${xmlText(o.domain)}</${X.domainName}><${X.stats}>`);
    for (const k of REPORT_COUNTERS) parts.push(`<${k}>${o.counters[k]}</${k}>`);
    parts.push(`</${X.stats}><${X.anomalies}>`);
    for (const a of o.anomalies) parts.push(anomalyXml(a));
    parts.push(`</${X.anomalies}></${X.domain}>`);
  }
  parts.push(`</${X.root}>`);
  return parts.join('');
}

/** AAAAMMJJHHmmss in UTC. */
export function stamp(d: Date): string {
  return d.toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

/** Echo what was sent, as the report does (TypIdentifiantPP… "renseignés avec les valeurs du fichier"). */
function withSent(outcome: DomainOutcome, records: readonly FeedRecord[]): DomainOutcome {
  const byAddress = new Map(records.map((r) => [r.AdresseBAL, r]));
  for (const a of outcome.anomalies) {
    const r = a.bal ? byAddress.get(a.bal) : undefined;
    if (!r) continue;
    const sent = { typeIdentifiantPP: r.TypeIdentifiantPP, identifiantPP: r.IdentifiantPP, typeIdentifiantPM: r.TypeIdentifiantPM, identifiantPM: r.IdentifiantPM };
    a.sent = Object.fromEntries(Object.entries(sent).filter(([, v]) => v !== undefined));
  }
  return outcome;
}

/** Process every queued feed, oldest first; returns how many were processed. */
export function runBatch(queue: readonly QueuedFeed[], directory: Directory, ref: Referential, whitelist: WhitelistIndex | undefined, now: Date): number {
  let n = 0;
  for (const feed of queue) {
    if (feed.status !== 'queued') continue;
    const outcomes = feed.messages.map((m) => withSent(processDomain(m, directory, ref, whitelist), m.records));
    const xml = Buffer.from(reportXml(feed.ticket, outcomes), 'utf8');
    const base = `cralimentationmss_${feed.ticket}_${stamp(now)}`;
    const sum = `${createHash('sha256').update(xml).digest('hex')}  ${base}.xml\n`;
    feed.report = { xmlName: `${base}.xml`, zip: zipSync({ [`${base}.xml`]: xml, [`${base}_checksum.txt`]: Buffer.from(sum) }, { level: 6 }) };
    feed.status = 'processed';
    feed.messages = [];
    n++;
  }
  return n;
}

