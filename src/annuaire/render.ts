// Human-readable text for the IT team: the local validation before sending and the
// Annuaire's report, per domain, blocking anomalies first, each with its MSS code, its rule,
// the record and field concerned, and what the Annuaire knows when it says so.
import type { Exclusion } from './feed.js';
import type { Correction } from './corrections.js';
import type { DomainReport, ParsedReport } from './report-parse.js';
import type { Anomaly, ValidationResult } from './validate.js';

export function anomalyLine(a: Anomaly): string {
  const tag = a.criticality === 'Bloquante' ? 'BLOQUANTE' : 'warning  ';
  const where = [a.bal ?? '(domaine)', a.typeBal, a.field].filter(Boolean).join(' ');
  const head = `  ${tag} ${a.code ?? '—'} ${a.rule} ${where}: ${a.message}`;
  const lines = [head];
  if (a.detail) lines.push(`      ${a.detail}`);
  if (a.sent && (a.sent.identifiantPP || a.sent.identifiantPM)) {
    lines.push(
      `      sent: ${[a.sent.identifiantPP ? `PP ${a.sent.typeIdentifiantPP ?? '?'}/${a.sent.identifiantPP}` : '', a.sent.identifiantPM ? `PM ${a.sent.typeIdentifiantPM ?? '?'}/${a.sent.identifiantPM}` : ''].filter(Boolean).join(', ')}`,
    );
  }
  if (a.annuaire) {
    const known = [
      a.annuaire.nom ? `NomExercice ${a.annuaire.nom}` : '',
      a.annuaire.prenom ? `PrenomExercice ${a.annuaire.prenom}` : '',
      a.annuaire.identifiantPP ? `IdentifiantPP ${a.annuaire.typeIdentifiantPP ?? '?'}/${a.annuaire.identifiantPP}` : '',
    ].filter(Boolean);
    if (known.length > 0) lines.push(`      Annuaire Santé knows: ${known.join(', ')}`);
  }
  return lines.join('\n');
}

const blockingFirst = (list: readonly Anomaly[]): Anomaly[] =>
  [...list].sort((a, b) => (a.criticality === b.criticality ? 0 : a.criticality === 'Bloquante' ? -1 : 1));

/** Local validation, grouped per domain (at most `limit` lines per domain, the rest counted). */
export function renderValidation(
  v: ValidationResult,
  domains: ReadonlyArray<{ domain: string; records: number }>,
  excluded: readonly Exclusion[],
  limit = 50,
): string {
  const out: string[] = [];
  for (const d of domains) {
    const mine = blockingFirst(v.anomalies.filter((a) => a.domain === d.domain));
    const b = mine.filter((a) => a.criticality === 'Bloquante').length;
    out.push(`${d.domain}: ${d.records} mailbox(es) to publish, ${b} blocking, ${mine.length - b} warning(s)`);
    for (const a of mine.slice(0, limit)) out.push(anomalyLine(a));
    if (mine.length > limit) out.push(`  … and ${mine.length - limit} more (see --json)`);
  }
  if (excluded.length > 0) {
    const counts = new Map<string, number>();
    for (const e of excluded) counts.set(`${e.reason} (${e.rule})`, (counts.get(`${e.reason} (${e.rule})`) ?? 0) + 1);
    out.push(`not published: ${[...counts].map(([k, n]) => `${n} ${k}`).join(', ')}`);
  }
  return out.join('\n');
}

function domainBlock(d: DomainReport, limit: number): string[] {
  const c = d.counters;
  const out = [
    `${d.domain}: read ${c.NbBALLus}, delta ${c.NbBALDelta} (created ${c.NbBALCrees}, updated ${c.NbBALMaj}, deleted ${c.NbBALSup}), blocking ${c.NbBALErrBlo}, warnings ${c.NbBALErrNBlo}`,
  ];
  for (const a of d.anomalies.slice(0, limit)) out.push(anomalyLine(a));
  if (d.anomalies.length > limit) out.push(`  … and ${d.anomalies.length - limit} more (see the JSON report)`);
  return out;
}

export function renderReport(ticket: string, r: ParsedReport, corrections: readonly Correction[], limit = 200): string {
  const out = [`report of ticket ${ticket}${r.ticket && r.ticket !== ticket ? ` (the file says ${r.ticket})` : ''}`];
  for (const rule of r.rules) out.push(`  reminder ${rule.code}: ${rule.text}`);
  for (const d of r.domains) out.push(...domainBlock(d, limit));
  if (corrections.length > 0) {
    out.push('national identifiers corrected by the Annuaire (EX_PBA_5100):');
    for (const c of corrections)
      out.push(`  ${c.applied ? 'applied' : 'NOT applied'} ${c.bal}: ${c.from} → ${c.to} (${c.code})${c.note ? ` — ${c.note}` : ''}`);
  }
  return out.join('\n');
}
