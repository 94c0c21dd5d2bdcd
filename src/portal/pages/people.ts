// Names of the people of a mailbox, for labels ("pour le compte de Jean Dupont").
import type { Bal } from '../../registry/registry.js';

/** The holder, the responsible and the co-holders: who a delegate may act for (§5.4.2). */
export function principalsOf(bal: Bal): Array<{ idNat: string; label: string }> {
  const out: Array<{ idNat: string; label: string }> = [];
  const add = (idNat: string | undefined, label: string): void => {
    if (idNat && !out.some((p) => p.idNat === idNat)) out.push({ idNat, label: `${label} (${idNat})` });
  };
  if (bal.holder) add(bal.holder.idNat, `${bal.holder.firstName} ${bal.holder.lastName}`);
  if (bal.responsible?.idNat) add(bal.responsible.idNat, bal.responsible.name);
  for (const c of bal.coHolders) add(c.idNat, `${c.firstName} ${c.lastName}`);
  return out;
}

export function personLabel(bal: Bal, idNat: string): string {
  return principalsOf(bal).find((p) => p.idNat === idNat)?.label ?? idNat;
}
