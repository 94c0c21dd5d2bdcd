// The loaded registry: validated mailboxes indexed for the hot paths. `canUse` runs on
// every IMAP/SMTP authentication and every submitted message, so each mailbox carries a
// precomputed map IdNat -> frozen decision: a lookup is two Map.get calls and allocates
// nothing (> 1,000,000 lookups/s, see bench/registry.ts).
import { STRUCTURE_TYPE_CODE, structureIdNat, type StructureType } from './ids.js';
import { AUTOREPLY_LOCAL, type RegistryProblem } from './rules.js';
import { parseDate, type BalEntry, type BalStatus, type BalType } from './schema.js';

export type Role = 'holder' | 'responsible' | 'co-holder' | 'delegate';

export type DenyReason = 'unknown-bal' | 'not-authorized' | 'suspended' | 'deleted' | 'application-mailbox';

export interface AccessDecision {
  /** The person has a role on the BAL and the BAL is active. */
  readonly allowed: boolean;
  readonly role?: Role;
  /** For a delegate: the holder/responsible/co-holder they act for (§5.4.2, EX_GDT_5030). */
  readonly delegateOf?: string;
  readonly bal?: string;
  readonly type?: BalType;
  readonly status?: BalStatus;
  /** status === 'active' (a suspended BAL refuses logins and mail, §5.5.1). */
  readonly active: boolean;
  readonly test: boolean;
  readonly reason?: DenyReason;
}

export interface Bal extends BalEntry {
  /** Position in the file's mailbox list. */
  readonly index: number;
  readonly localPart: string;
  readonly domain: string;
  readonly createdMs: number;
  /** reponse.automatique-test@<domain> (EX_GBM_4020, purged by EX_GBM_4030). */
  readonly autoreply: boolean;
  /** Structure IdNat (type digit + number), as in the OU of its certificates. */
  readonly structureIdNat?: string;
}

interface Compiled {
  bal: Bal;
  access: Map<string, AccessDecision>;
  denied: AccessDecision;
}

const UNKNOWN: AccessDecision = Object.freeze({ allowed: false, active: false, test: false, reason: 'unknown-bal' as const });
const RANK: Record<Role, number> = { holder: 4, responsible: 3, 'co-holder': 2, delegate: 1 };

export interface RegistryMeta {
  file: string;
  /** SHA-256 of the file content this was loaded from. */
  hash: string;
  domains: readonly string[];
  warnings?: readonly RegistryProblem[];
}

export class Registry {
  readonly file: string;
  readonly hash: string;
  readonly warnings: readonly RegistryProblem[];
  readonly domains: readonly string[];
  private readonly byAddress = new Map<string, Compiled>();
  private readonly list: Bal[];
  private readonly domainSet: Set<string>;
  private byPerson: Map<string, Array<{ bal: Bal; decision: AccessDecision }>> | undefined;

  constructor(entries: readonly BalEntry[], meta: RegistryMeta) {
    this.file = meta.file;
    this.hash = meta.hash;
    this.warnings = meta.warnings ?? [];
    this.domains = meta.domains;
    this.domainSet = new Set(meta.domains.map((d) => d.toLowerCase()));
    this.list = entries.map((e, index) => compileBal(e, index));
    for (const bal of this.list) this.byAddress.set(bal.address, compileAccess(bal));
  }

  get size(): number {
    return this.list.length;
  }

  /** Every mailbox, in file order (deleted ones included: statistics need their dates). */
  all(): readonly Bal[] {
    return this.list;
  }

  get(address: string): Bal | undefined {
    return (this.byAddress.get(address) ?? this.byAddress.get(address.toLowerCase()))?.bal;
  }

  /** Is `domain` one of the managed domains (operator.domains)? */
  isOurDomain(domain: string): boolean {
    return this.domainSet.has(domain) || this.domainSet.has(domain.toLowerCase());
  }

  /**
   * May the person `idNat` use the BAL `address`, in which role, for whom?
   * APP mailboxes are used with a client certificate (AUTH-CLI, see appStructure), never
   * with a person's identity.
   */
  canUse(idNat: string, address: string): AccessDecision {
    const c = this.byAddress.get(address) ?? this.byAddress.get(address.toLowerCase());
    if (!c) return UNKNOWN;
    return c.access.get(idNat) ?? c.denied;
  }

  /** The BALs a person may use, with their role (for API LPS listings and autoconfiguration). */
  mailboxesOf(idNat: string): ReadonlyArray<{ bal: Bal; decision: AccessDecision }> {
    if (!this.byPerson) {
      this.byPerson = new Map();
      for (const c of this.byAddress.values()) {
        for (const [id, decision] of c.access) {
          const list = this.byPerson.get(id) ?? [];
          list.push({ bal: c.bal, decision });
          this.byPerson.set(id, list);
        }
      }
    }
    return this.byPerson.get(idNat) ?? [];
  }

  /** The structure of an APP BAL, to compare with the OU of an AUTH-CLI certificate (EX_LPS_1200). */
  appStructure(address: string): { type: StructureType; typeCode: string; id: string; idNat: string } | undefined {
    const bal = this.get(address);
    if (!bal || bal.type !== 'APP' || !bal.structure) return undefined;
    const { type, id } = bal.structure;
    return { type, typeCode: STRUCTURE_TYPE_CODE[type], id, idNat: structureIdNat(type, id) };
  }

  /** RE_GBM_4430: suspended BALs with their reasons, optionally for one structure. */
  suspended(structureIdNatFilter?: string): Bal[] {
    return this.list.filter((b) => b.status === 'suspended' && (structureIdNatFilter === undefined || b.structureIdNat === structureIdNatFilter));
  }
}

function compileBal(e: BalEntry, index: number): Bal {
  const at = e.address.lastIndexOf('@');
  const localPart = e.address.slice(0, at);
  return Object.freeze({
    ...e,
    index,
    localPart,
    domain: e.address.slice(at + 1),
    createdMs: parseDate(e.created),
    autoreply: localPart === AUTOREPLY_LOCAL,
    ...(e.structure ? { structureIdNat: structureIdNat(e.structure.type, e.structure.id) } : {}),
  });
}

function compileAccess(bal: Bal): Compiled {
  const active = bal.status === 'active';
  const base = { bal: bal.address, type: bal.type, status: bal.status, active, test: bal.test };
  const roles = new Map<string, { role: Role; delegateOf?: string }>();
  const grant = (idNat: string, role: Role, delegateOf?: string): void => {
    const had = roles.get(idNat);
    if (had && RANK[had.role] >= RANK[role]) return;
    roles.set(idNat, delegateOf === undefined ? { role } : { role, delegateOf });
  };
  // Who may use which BAL (§5.1.1, §5.2): the holder of a PER; the responsible (when
  // habilité, EX_GBM_4220) and co-holders of an ORG/CAB; delegates of PER/ORG/CAB acting
  // for one of them, through the same interfaces (EX_GBM_5414). APP: certificate only.
  if (bal.type !== 'APP') {
    if (bal.holder) grant(bal.holder.idNat, 'holder');
    if (bal.responsible?.idNat && bal.responsible.accessesContent) grant(bal.responsible.idNat, 'responsible');
    for (const c of bal.coHolders) grant(c.idNat, c.responsible ? 'responsible' : 'co-holder');
    for (const d of bal.delegates) grant(d.idNat, 'delegate', d.for);
  }
  const reason = bal.status === 'suspended' ? 'suspended' : bal.status === 'deleted' ? 'deleted' : undefined;
  const access = new Map<string, AccessDecision>();
  for (const [idNat, r] of roles) {
    access.set(idNat, Object.freeze({ ...base, allowed: active, role: r.role, ...(r.delegateOf ? { delegateOf: r.delegateOf } : {}), ...(reason ? { reason } : {}) }));
  }
  const denied = Object.freeze({ ...base, allowed: false, reason: bal.type === 'APP' ? ('application-mailbox' as const) : ('not-authorized' as const) });
  return { bal, access, denied };
}
