// Which mailboxes the statistics of month N speak of (EX_PSU_5820, §6.9.3.1 wording):
//   "Toutes boites aux lettres suspendues sauf celles au mois N" and the same for deleted
//   ones, "les boites aux lettres de tests", "les messages d'erreurs de type serveur".
// So a mailbox suspended or deleted before the 1st of N is left out; one suspended or deleted
// during N (or after it, while the file is being built) stays. The §8 table ("suspendues /
// supprimées au mois N-1") and the 2020 guide ("sauf celles des mois M-1 et M") word it
// otherwise; docs/stats.md explains the choice. Null-sender messages are the Echanges
// builder's to drop.
import type { Bal } from '../registry/registry.js';
import { registryDateMs, type MonthRange } from './month.js';

export type Exclusion = 'test' | 'suspended-before' | 'deleted-before' | 'created-after';

export function exclusionOf(bal: Bal, month: MonthRange, timeZone: string): Exclusion | undefined {
  if (bal.test) return 'test'; // EX_PSU_5820: test mailboxes
  if (bal.status === 'deleted' && bal.deletion && registryDateMs(bal.deletion.at, timeZone) < month.startMs) return 'deleted-before'; // EX_PSU_5820
  if (bal.status === 'suspended' && bal.suspension && registryDateMs(bal.suspension.at, timeZone) < month.startMs) return 'suspended-before'; // EX_PSU_5820
  // A mailbox created after the month did not exist in it (EX_SSU_5800: "créées").
  if (registryDateMs(bal.created, timeZone) >= month.endMs) return 'created-after';
  return undefined;
}
