// The establishment's local directory for choosing a delegate (EX_GBM_5411: « identifiés
// dans l'Annuaire Santé ou dans un annuaire local »): the people the registry knows —
// holders of personal mailboxes and co-holders of organisational ones — found by a part of
// their name (accents and case ignored). At most `limit` answers, never the whole list.
import { normaliseName } from '../registry/names.js';
import type { Registry } from '../registry/registry.js';

export interface DirectoryPerson {
  idNat: string;
  name: string;
}

export const MIN_QUERY = 3;

export function searchDirectory(registry: Registry, query: string, limit = 20): DirectoryPerson[] {
  const q = normaliseName(query);
  if (q.length < MIN_QUERY) return [];
  const found = new Map<string, DirectoryPerson>();
  const consider = (idNat: string, first: string, last: string): void => {
    if (found.has(idNat)) return;
    if (normaliseName(`${first} ${last}`).includes(q) || normaliseName(`${last} ${first}`).includes(q)) found.set(idNat, { idNat, name: `${first} ${last}` });
  };
  for (const bal of registry.all()) {
    if (found.size >= limit) break;
    if (bal.status === 'deleted' || bal.test) continue;
    if (bal.holder) consider(bal.holder.idNat, bal.holder.firstName, bal.holder.lastName);
    for (const c of bal.coHolders) consider(c.idNat, c.firstName, c.lastName);
  }
  return [...found.values()].slice(0, limit);
}
