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

// One class for every decision: callers read the same fields on every answer, so their
// property accesses stay monomorphic on the hot path.
class Decision implements AccessDecision {
  constructor(
    readonly allowed: boolean,
    readonly active: boolean,
    readonly test: boolean,
    readonly role: Role | undefined,
    readonly delegateOf: string | undefined,
    readonly bal: string | undefined,
    readonly type: BalType | undefined,
    readonly status: BalStatus | undefined,
    readonly reason: DenyReason | undefined,
  ) {}
}

/** A mailbox's access list: few people per BAL, so parallel arrays beat a Map. */
interface Compiled {
  bal: Bal;
  ids: string[];
  decisions: AccessDecision[];
  denied: AccessDecision;
}

const UNKNOWN: AccessDecision = new Decision(false, false, false, undefined, undefined, undefined, undefined, undefined, 'unknown-bal');
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
    if (c === undefined) return UNKNOWN;
    const ids = c.ids;
    for (let i = 0; i < ids.length; i++) if (ids[i] === idNat) return c.decisions[i] as AccessDecision;
    return c.denied;
  }

  /** The IdNats that may use the BAL, whatever its status (none for an APP BAL, used by certificate). */
  usersOf(address: string): readonly string[] {
    return (this.byAddress.get(address) ?? this.byAddress.get(address.toLowerCase()))?.ids ?? [];
  }

  /** The BALs a person may use, with their role (for API LPS listings and autoconfiguration). */
  mailboxesOf(idNat: string): ReadonlyArray<{ bal: Bal; decision: AccessDecision }> {
    if (!this.byPerson) {
      const index = new Map<string, Array<{ bal: Bal; decision: AccessDecision }>>();
      for (const c of this.byAddress.values()) {
        c.ids.forEach((id, i) => {
          const list = index.get(id) ?? [];
          list.push({ bal: c.bal, decision: c.decisions[i] as AccessDecision });
          index.set(id, list);
        });
      }
      this.byPerson = index;
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
  // Every field written out (absent ones as undefined) rather than spread: one object
  // shape for all mailboxes, built several times faster for 50,000 of them.
  return {
    address: e.address,
    type: e.type,
    created: e.created,
    test: e.test,
    status: e.status,
    suspension: e.suspension,
    deletion: e.deletion,
    holder: e.holder,
    structure: e.structure,
    service: e.service,
    responsible: e.responsible,
    coHolders: e.coHolders,
    description: e.description,
    phone: e.phone,
    listeRouge: e.listeRouge,
    contact: e.contact,
    delegates: e.delegates,
    homonym: e.homonym,
    index,
    localPart,
    domain: e.address.slice(at + 1),
    createdMs: parseDate(e.created),
    autoreply: localPart === AUTOREPLY_LOCAL,
    structureIdNat: e.structure ? structureIdNat(e.structure.type, e.structure.id) : undefined,
  } as Bal;
}

function compileAccess(bal: Bal): Compiled {
  const active = bal.status === 'active';
  const ids: string[] = [];
  const roles: Role[] = [];
  const fors: Array<string | undefined> = [];
  const grant = (idNat: string, role: Role, delegateOf?: string): void => {
    const k = ids.indexOf(idNat);
    if (k >= 0) {
      if (RANK[roles[k] as Role] >= RANK[role]) return;
      roles[k] = role;
      fors[k] = delegateOf;
      return;
    }
    ids.push(idNat);
    roles.push(role);
    fors.push(delegateOf);
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
  const reason: DenyReason | undefined = bal.status === 'suspended' ? 'suspended' : bal.status === 'deleted' ? 'deleted' : undefined;
  const decisions = ids.map((_, k) => new Decision(active, active, bal.test, roles[k], fors[k], bal.address, bal.type, bal.status, reason));
  const denied = new Decision(
    false,
    active,
    bal.test,
    undefined,
    undefined,
    bal.address,
    bal.type,
    bal.status,
    bal.type === 'APP' ? 'application-mailbox' : 'not-authorized',
  );
  return { bal, ids, decisions, denied };
}
