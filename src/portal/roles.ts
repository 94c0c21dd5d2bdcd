// What a person may do on a mailbox through the portal, from their role in the registry.
// This only decides which forms a page shows: every change still goes through the registry
// operation, which checks the requester again (REGISTRY_FORBIDDEN) and traces a refusal.
import { MANAGER_ROLES } from '../registry/operations.js';
import type { Bal, Role } from '../registry/registry.js';

export interface Capabilities {
  /** EX_GBM_5414: every role reads and sends, delegates included. */
  read: boolean;
  /** EX_GBM_5413 / EX_GBM_5411: holder, responsible, co-holders; never on an APP BAL. */
  delegates: boolean;
  /** EX_GBM_5410: co-holders, Responsable and description of an organisational BAL. */
  coHolders: boolean;
  responsible: boolean;
  description: boolean;
  /** EX_PBA_5040: the user's own liste rouge choice. */
  listeRouge: boolean;
}

export function capabilitiesOf(role: Role | undefined, bal: Pick<Bal, 'type'>): Capabilities {
  const manager = role !== undefined && MANAGER_ROLES.has(role);
  const organisational = bal.type === 'ORG' || bal.type === 'CAB';
  return {
    read: role !== undefined,
    delegates: manager && bal.type !== 'APP',
    coHolders: manager && organisational,
    responsible: manager && organisational,
    description: manager && organisational,
    listeRouge: manager,
  };
}
