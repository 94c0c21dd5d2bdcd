// What the Annuaire feed (TM1.1.1P) and the statistics need to know about a mailbox's
// publication, combining the registry (user's choice) and the run-time state (operator
// depublication for inactivity).
import type { Bal } from './registry.js';
import type { BalRuntime } from './runtime.js';

export interface Publication {
  /** Sent to the Annuaire at all: not a test BAL (EX_PBA_5230), not suspended or deleted (EX_PBA_5140). */
  published: boolean;
  /** ListeRouge O/N (EX_PBA_5050). */
  listeRouge: boolean;
  /** Why: the user asked (EX_PBA_5040), or the operator depublished for inactivity (EX_GBM_4440). */
  listeRougeOrigin?: 'user' | 'inactivity';
}

export function publicationOf(bal: Bal, runtime: BalRuntime): Publication {
  const published = !bal.test && bal.status === 'active';
  if (bal.listeRouge) return { published, listeRouge: true, listeRougeOrigin: 'user' };
  if (runtime.depublishedAt) return { published, listeRouge: true, listeRougeOrigin: 'inactivity' };
  return { published, listeRouge: false };
}
