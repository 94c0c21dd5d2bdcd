// The report XML (§6.4.2.5.1.3, Tableaux 20–24), read as a stream: a header (ticket, the
// reminder of RG_CTR_021), then one block per domain with its counters and its anomalies.
// Blocks are recognised by their leaves, not their wrappers (DR3 is not in the seeds):
// a domain block is the element holding a Domaine, an anomaly the element holding a
// CodeMSSO. Anomalies are converted and dropped as they are read, so memory stays small
// for reports of tens of thousands of anomalies.
import { REPORT_COUNTERS, type ReportCounter } from './contract.js';
import { ruleForCode, type Criticality } from './controls.js';
import type { Anomaly } from './validate.js';
import { scanXml, type XElement } from './xml-scanner.js';

export interface DomainReport {
  domain: string;
  counters: Record<ReportCounter, number>;
  anomalies: Anomaly[];
}

export interface ParsedReport {
  ticket?: string;
  rules: Array<{ code: string; text: string }>;
  domains: DomainReport[];
}

const leaves = (el: XElement): Map<string, string> => {
  const m = new Map<string, string>();
  for (const c of el.children) if (c.children.length === 0) m.set(c.local, c.text.trim());
  return m;
};

const codeOf = (f: Map<string, string>): string | undefined => f.get('CodeMSSO') ?? f.get('CodeMSS0');

/** "Bloquante"/"Warning" as written by the Annuaire (any case, "bloquant", "BLOQ…"). */
function criticality(s: string | undefined): Criticality {
  return s && /^b/i.test(s.trim()) ? 'Bloquante' : 'Warning';
}

function toAnomaly(f: Map<string, string>): Anomaly {
  const code = (codeOf(f) ?? '').toUpperCase().replace(/^MSSO/, 'MSS0');
  const rule = ruleForCode(code);
  const opt = (k: string): string | undefined => (f.get(k) ? f.get(k) : undefined);
  const sent = {
    typeIdentifiantPP: opt('TypIdentifiantPP'),
    identifiantPP: opt('IdentifiantPP'),
    typeIdentifiantPM: opt('TypIdentifiantPM'),
    identifiantPM: opt('IdentifiantPM'),
  };
  const annuaire = {
    nom: opt('NomExerciceAnnuaire'),
    prenom: opt('PrenomExerciceAnnuaire'),
    typeIdentifiantPP: opt('TypIdentifiantPPAnnuaire'),
    identifiantPP: opt('IdentifiantPPAnnuaire'),
  };
  const clean = <T extends object>(o: T): T | undefined => {
    const kept = Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
    return Object.keys(kept).length > 0 ? kept : undefined;
  };
  const s = clean(sent);
  const a = clean(annuaire);
  return {
    domain: '',
    ...(opt('AdresseBAL') ? { bal: opt('AdresseBAL') as string } : {}),
    ...(opt('TypeBAL') ? { typeBal: opt('TypeBAL') as string } : {}),
    rule: rule?.rule ?? '?',
    code,
    criticality: criticality(f.get('CriticiteErreur')),
    message: f.get('MotifErreur') ?? rule?.message ?? '',
    ...(s ? { sent: s } : {}),
    ...(a ? { annuaire: a } : {}),
  };
}

function countersIn(el: XElement): Record<ReportCounter, number> {
  const out = Object.fromEntries(REPORT_COUNTERS.map((k) => [k, 0])) as Record<ReportCounter, number>;
  const stack = [el];
  while (stack.length > 0) {
    const e = stack.pop() as XElement;
    for (const c of e.children) {
      if ((REPORT_COUNTERS as readonly string[]).includes(c.local) && c.children.length === 0)
        out[c.local as ReportCounter] = Number.parseInt(c.text.trim(), 10) || 0;
      else stack.push(c);
    }
  }
  return out;
}

export function parseReportXml(text: string, source: string): ParsedReport {
  const report: ParsedReport = { rules: [], domains: [] };
  const collected: Anomaly[] = [];
  const openedAt = new Map<XElement, number>();
  scanXml(text, {
    source,
    code: 'ANNUAIRE_REPORT_MALFORMED',
    onOpen: (el) => {
      openedAt.set(el, collected.length);
    },
    onClose: (el) => {
      const from = openedAt.get(el) ?? 0;
      openedAt.delete(el);
      if (el.children.length === 0) {
        if (el.local === 'Ticket' && report.ticket === undefined && el.text.trim() !== '') report.ticket = el.text.trim();
        return true;
      }
      const f = leaves(el);
      if (codeOf(f) !== undefined && (f.has('MotifErreur') || f.has('CriticiteErreur'))) {
        collected.push(toAnomaly(f));
        return false;
      }
      if (f.has('RegleControle')) {
        report.rules.push({ code: codeOf(f) ?? '', text: f.get('RegleControle') as string });
        return false;
      }
      if (f.has('Domaine')) {
        const domain = f.get('Domaine') as string;
        const anomalies = collected.splice(from);
        for (const a of anomalies) a.domain = domain;
        report.domains.push({ domain, counters: countersIn(el), anomalies });
        return false;
      }
      return true;
    },
  });
  // Anomalies outside any domain block (a flatter layout): the last domain's.
  const last = report.domains[report.domains.length - 1];
  if (collected.length > 0 && last) {
    for (const a of collected) a.domain = last.domain;
    last.anomalies.push(...collected);
  }
  for (const d of report.domains) d.anomalies.sort((a, b) => (a.criticality === b.criticality ? 0 : a.criticality === 'Bloquante' ? -1 : 1));
  return report;
}
