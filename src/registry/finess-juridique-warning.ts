// EX_PBA_5011 (§6.4.1.1): a FINESS-registered operator attaches a FINESS géographique (ET)
// to every published BAL, a FINESS juridique (EJ) only to a BAL mutualised across sites. Both
// kinds of number have one shape, so the registry rules (rules.ts) tell them apart only
// through operator.finessJuridique; left empty, a BAL attached to the EJ passes unnoticed.
// `config check` and `status` say so instead of staying silent (here, beside the rule, so that
// neither command group loads the other's module).
import type { Config } from '../config/schema.js';

export const FINESS_JURIDIQUE_EMPTY = 'FINESS_JURIDIQUE_EMPTY';

export interface FinessJuridiqueWarning {
  code: typeof FINESS_JURIDIQUE_EMPTY;
  key: 'operator.finessJuridique';
  requirement: 'EX_PBA_5011';
  detail: string;
}

/** The warning when EX_PBA_5011 cannot be checked (FINESS-registered, no FINESS juridique listed). */
export function finessJuridiqueWarning(operator: Pick<Config['operator'], 'finessRegistered' | 'finessJuridique'>): FinessJuridiqueWarning | undefined {
  if (!operator.finessRegistered || operator.finessJuridique.length > 0) return undefined;
  return {
    code: FINESS_JURIDIQUE_EMPTY,
    key: 'operator.finessJuridique',
    requirement: 'EX_PBA_5011',
    detail:
      "EX_PBA_5011 cannot be checked: operator.finessRegistered is true and operator.finessJuridique is empty, so a BAL attached to a FINESS juridique (EJ) instead of its site's FINESS géographique (ET) goes unnoticed (both numbers have the same shape); list the operator's FINESS juridique numbers in operator.finessJuridique (docs/configuration.md)",
  };
}
