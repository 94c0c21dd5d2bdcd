// EX_PBA_5100: when the Annuaire returns the valid national identifier of a professional
// (IdentifiantPPAnnuaire, e.g. the RPPS of someone published with an ADELI: RG_CTR_045 /
// MSS043), the operator updates it in its mail service. Applied to the registry through
// correctIdNat (validated, written atomically, traced with the ticket), automatically by
// default (annuaire.applyCorrections): the Annuaire is the reference for identities
// (§6.4.1.3), and the login identity (Pro Santé Connect's RPPS) then matches again.
import { asMssError } from '../errors.js';
import { correctIdNat, type EditEnv } from '../registry/operations.js';
import type { DomainReport } from './report-parse.js';

export interface Correction {
  bal: string;
  from: string;
  to: string;
  code: string;
  applied: boolean;
  /** Why it was not applied (error code and message), or "listed only". */
  note?: string;
}

/** The registry IdNat of a (TypeIdentifiantPP, IdentifiantPP) pair: 8 + RPPS, 0 + ADELI. */
function idNatOf(type: string | undefined, id: string | undefined): string | undefined {
  if (!id || (type !== '8' && type !== '0')) return undefined;
  return `${type}${id}`;
}

export function correctionsIn(domains: readonly DomainReport[]): Array<Omit<Correction, 'applied'>> {
  const out: Array<Omit<Correction, 'applied'>> = [];
  const seen = new Set<string>();
  for (const d of domains) {
    for (const a of d.anomalies) {
      const to = idNatOf(a.annuaire?.typeIdentifiantPP, a.annuaire?.identifiantPP);
      const from = idNatOf(a.sent?.typeIdentifiantPP, a.sent?.identifiantPP);
      if (!a.bal || !to || !from || to === from) continue;
      const key = `${a.bal}|${from}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ bal: a.bal, from, to, code: a.code ?? '' });
    }
  }
  return out;
}

export function applyCorrections(env: EditEnv, found: ReadonlyArray<Omit<Correction, 'applied'>>, ticket: string, apply: boolean): Correction[] {
  return found.map((c) => {
    if (!apply) return { ...c, applied: false, note: 'listed only (annuaire.applyCorrections: false): apply with `mss-sidecar bal correct-idnat`' };
    try {
      correctIdNat(env, c.bal, c.from, c.to, { ticket, rule: 'EX_PBA_5100', code: c.code });
      return { ...c, applied: true };
    } catch (err) {
      const e = asMssError(err);
      return { ...c, applied: false, note: `${e.code}: ${e.message.split('\n')[0]}` };
    }
  });
}
