// Every change to the registry, for the CLI, the lifecycle job and the Annuaire report:
// checked (who may do what), validated as a whole, written atomically, and traced —
// success and failure alike — with the acting administrator and the end user on whose
// request they acted (EX_GDT_5030, EX_GDT_5040; the delegation history of EX_GBM_5410 and
// EX_GBM_5414 is this trace).
import type { Document, YAMLMap } from 'yaml';
import { MssError, asMssError } from '../errors.js';
import type { TraceLog } from '../traces/trace-log.js';
import type { TraceActor, TraceMeans } from '../traces/record.js';
import { editRegistryFile, removeKey, seqOf, scalarValue, type EditPlan, type EntryOp } from './edit.js';
import type { LoadOptions } from './load.js';
import type { Bal, Registry, Role } from './registry.js';
import type { RegistryProblem } from './rules.js';
import type { BalInput } from './schema.js';

export interface EditEnv {
  file: string;
  load: LoadOptions;
  traces: TraceLog;
  /** The administrator (or job) running the change (EX_SSI_5150). */
  actor: TraceActor;
  means?: TraceMeans;
  /** Network address the administrator acts from (EX_GDT_5040), e.g. from SSH_CLIENT. */
  address?: string;
  /** Clock for the dates written (suspension.at, grantedAt...). */
  now?: () => Date;
}

export interface ChangeResult {
  registry: Registry;
  warnings: readonly RegistryProblem[];
  bal: Bal | undefined;
}

/** §5.4.2: who may declare delegates, co-holders and the responsible (never a delegate). */
export const MANAGER_ROLES: ReadonlySet<Role> = new Set(['holder', 'responsible', 'co-holder']);

/** Create a mailbox. Co-holders and delegates cannot create BALs (§2.4.3): admin only. */
export function addMailbox(env: EditEnv, entry: BalInput): ChangeResult {
  const address = String(entry.address ?? '').toLowerCase();
  return change(env, 'bal.add', address, { entry }, (reg) => {
    if (reg.get(address)) {
      throw new MssError(
        'REGISTRY_DUPLICATE_ADDRESS',
        `${address} already exists in the registry (EX_PBA_5030: one address, one mailbox); a deleted BAL keeps its address until its entry is removed by hand (RE_GBM_4330)`,
        { bal: address },
      );
    }
    return { kind: 'append', entry: entry as Record<string, unknown> };
  });
}

/** RE_GBM_4420: suspend with a reason (logins and incoming mail refused, unpublished). */
export function suspendMailbox(env: EditEnv, address: string, reason: string): ChangeResult {
  return change(env, 'bal.suspend', address, { reason }, (reg) => {
    const bal = need(reg, address);
    if (bal.status !== 'active') throw stateError(bal, 'suspend');
    return modify(bal, (item, doc) => {
      item.set('status', 'suspended');
      item.set('suspension', doc.createNode({ at: stamp(env), reason, by: env.actor.id }));
    });
  });
}

/** RE_GBM_4440: reactivate a suspended mailbox. */
export function reactivateMailbox(env: EditEnv, address: string): ChangeResult {
  return change(env, 'bal.reactivate', address, {}, (reg) => {
    const bal = need(reg, address);
    if (bal.status !== 'suspended') throw stateError(bal, 'reactivate');
    return modify(bal, (item) => {
      item.set('status', 'active');
      removeKey(item, 'suspension');
    });
  });
}

/**
 * Mark a mailbox deleted (EX_GBM_6010). The entry stays, with its date, for the statistics
 * of the month and the traces (EX_GDT_5070); the mail store is emptied by the lifecycle
 * job's delete command.
 */
export function deleteMailbox(env: EditEnv, address: string, reason: string): ChangeResult {
  return change(env, 'bal.delete', address, { reason }, (reg) => {
    const bal = need(reg, address);
    if (bal.status === 'deleted') throw stateError(bal, 'delete');
    return modify(bal, (item, doc) => {
      item.set('status', 'deleted');
      removeKey(item, 'suspension');
      item.set('deletion', doc.createNode({ at: stamp(env), reason, by: env.actor.id }));
    });
  });
}

/** EX_PBA_5040: the user's own liste rouge choice, changeable at any time. */
export function setListeRouge(env: EditEnv, address: string, on: boolean, requestedBy?: string): ChangeResult {
  return change(env, 'bal.liste-rouge', address, { listeRouge: on, requestedBy }, (reg) => {
    const bal = need(reg, address);
    if (requestedBy !== undefined) requireManager(reg, bal, requestedBy, 'EX_PBA_5040');
    return modify(bal, (item) => item.set('listeRouge', on));
  });
}

export interface DelegateRequest {
  idNat: string;
  name?: string;
  /** On whose behalf the delegate acts; defaults to the requester. */
  for?: string;
}

/** EX_GBM_5413: a holder, responsible or co-holder grants a delegation. */
export function addDelegate(env: EditEnv, address: string, d: DelegateRequest, requestedBy: string): ChangeResult {
  return change(env, 'bal.delegate', address, { delegate: d.idNat, for: d.for ?? requestedBy, requestedBy }, (reg) => {
    const bal = need(reg, address);
    // EX_GBM_5411: APP BALs have no delegation; a delegate cannot delegate (§5.4.2).
    if (bal.type === 'APP') throw new MssError('REGISTRY_DELEGATION', `${address} is an applicative BAL: no delegation (EX_GBM_5411)`, { bal: address });
    requireManager(reg, bal, requestedBy, 'EX_GBM_5411');
    if (bal.delegates.some((x) => x.idNat === d.idNat))
      throw new MssError('REGISTRY_DELEGATION', `${d.idNat} is already a delegate of ${address} (EX_GBM_5413)`, { bal: address });
    return modify(bal, (item, doc) => {
      seqOf(item, doc, 'delegates').add(
        doc.createNode({ idNat: d.idNat, ...(d.name ? { name: d.name } : {}), for: d.for ?? requestedBy, grantedBy: requestedBy, grantedAt: stamp(env) }),
      );
    });
  });
}

/**
 * EX_GBM_5413 (« modification »): change a delegation — the delegate's name, or on whose
 * behalf they act. The new principal must be the holder, the responsible or a co-holder
 * (checked with the whole registry, EX_GBM_5411); `grantedBy` becomes the requester.
 */
export function changeDelegate(env: EditEnv, address: string, idNat: string, update: { name?: string; for?: string }, requestedBy: string): ChangeResult {
  return change(env, 'bal.delegate-change', address, { delegate: idNat, ...update, requestedBy }, (reg) => {
    const bal = need(reg, address);
    requireManager(reg, bal, requestedBy, 'EX_GBM_5411');
    const j = bal.delegates.findIndex((x) => x.idNat === idNat);
    if (j < 0) throw new MssError('REGISTRY_UNKNOWN_DELEGATE', `${idNat} is not a delegate of ${address}`, { bal: address });
    return modify(bal, (item, doc) => {
      const node = seqOf(item, doc, 'delegates').items[j] as YAMLMap;
      if (update.name !== undefined) {
        if (update.name) node.set('name', update.name);
        else node.delete('name');
      }
      if (update.for !== undefined) node.set('for', update.for);
      node.set('grantedBy', requestedBy);
      node.set('grantedAt', stamp(env));
    });
  });
}

/** EX_GBM_5413: remove a delegation. */
export function revokeDelegate(env: EditEnv, address: string, idNat: string, requestedBy?: string): ChangeResult {
  return change(env, 'bal.revoke', address, { delegate: idNat, requestedBy }, (reg) => {
    const bal = need(reg, address);
    if (requestedBy !== undefined) requireManager(reg, bal, requestedBy, 'EX_GBM_5411');
    const j = bal.delegates.findIndex((x) => x.idNat === idNat);
    if (j < 0) throw new MssError('REGISTRY_UNKNOWN_DELEGATE', `${idNat} is not a delegate of ${address}`, { bal: address });
    return modify(bal, (item, doc) => removeFromSeq(item, doc, 'delegates', j));
  });
}

/** EX_GBM_5410: add a co-holder to an organisational BAL. */
export function addCoHolder(env: EditEnv, address: string, c: { idNat: string; lastName: string; firstName: string }, requestedBy?: string): ChangeResult {
  return change(env, 'bal.coholder-add', address, { coHolder: c.idNat, requestedBy }, (reg) => {
    const bal = need(reg, address);
    organisational(bal);
    if (requestedBy !== undefined) requireManager(reg, bal, requestedBy, 'EX_GBM_5410');
    return modify(bal, (item, doc) => {
      seqOf(item, doc, 'coHolders').add(doc.createNode({ idNat: c.idNat, lastName: c.lastName, firstName: c.firstName }));
    });
  });
}

/** EX_GBM_5410: remove a co-holder (their delegates must be revoked first). */
export function removeCoHolder(env: EditEnv, address: string, idNat: string, requestedBy?: string): ChangeResult {
  return change(env, 'bal.coholder-remove', address, { coHolder: idNat, requestedBy }, (reg) => {
    const bal = need(reg, address);
    organisational(bal);
    if (requestedBy !== undefined) requireManager(reg, bal, requestedBy, 'EX_GBM_5410');
    const j = bal.coHolders.findIndex((x) => x.idNat === idNat);
    if (j < 0) throw new MssError('REGISTRY_UNKNOWN_COHOLDER', `${idNat} is not a co-holder of ${address}`, { bal: address });
    if (bal.coHolders[j]?.responsible)
      throw new MssError('REGISTRY_CAB', `${idNat} is the Responsable of ${address}: make another co-holder responsible first (EX_GBM_3030)`, { bal: address });
    return modify(bal, (item, doc) => removeFromSeq(item, doc, 'coHolders', j));
  });
}

/**
 * EX_GBM_5410: change the Responsable opérationnel. For a CAB, one of the co-holders
 * becomes responsible; for an ORG/APP, `name` is the Annuaire's Responsable text.
 */
export function setResponsible(env: EditEnv, address: string, r: { idNat: string; name?: string }, requestedBy?: string): ChangeResult {
  return change(env, 'bal.responsible', address, { responsible: r.idNat, name: r.name, requestedBy }, (reg) => {
    const bal = need(reg, address);
    if (bal.type === 'PER') throw new MssError('REGISTRY_SCHEMA', `${address} is a personal BAL: its holder is its responsible`, { bal: address });
    if (requestedBy !== undefined) requireManager(reg, bal, requestedBy, 'EX_GBM_5410');
    if (bal.type === 'CAB') {
      const j = bal.coHolders.findIndex((x) => x.idNat === r.idNat);
      if (j < 0) throw new MssError('REGISTRY_UNKNOWN_COHOLDER', `${r.idNat} is not a co-holder of ${address}: add them first (EX_GBM_5410)`, { bal: address });
      return modify(bal, (item) => {
        const seq = item.get('coHolders', true) as unknown as import('yaml').YAMLSeq;
        seq.items.forEach((node, k) => (node as YAMLMap).set('responsible', k === j));
      });
    }
    if (!r.name) throw new MssError('USAGE_RESPONSIBLE_NAME', `the Responsable of an ${bal.type} BAL needs a name (the Annuaire's Responsable text)`);
    return modify(bal, (item, doc) => item.set('responsible', doc.createNode({ idNat: r.idNat, name: r.name })));
  });
}

/** EX_GBM_5410: change the description. */
export function setDescription(env: EditEnv, address: string, description: string, requestedBy?: string): ChangeResult {
  return change(env, 'bal.description', address, { description, requestedBy }, (reg) => {
    const bal = need(reg, address);
    if (requestedBy !== undefined) requireManager(reg, bal, requestedBy, 'EX_GBM_5410');
    return modify(bal, (item) => item.set('description', description));
  });
}

/**
 * EX_PBA_5100: the Annuaire returned the valid national identifier of a person
 * (IdentifiantPPAnnuaire): replace it everywhere in the mailbox (holder or co-holder,
 * and the delegations that refer to them).
 */
export function correctIdNat(env: EditEnv, address: string, oldIdNat: string, newIdNat: string, source: Record<string, unknown> = {}): ChangeResult {
  return change(env, 'bal.correct-idnat', address, { from: oldIdNat, to: newIdNat, ...source }, (reg) => {
    const bal = need(reg, address);
    const used = bal.holder?.idNat === oldIdNat || bal.coHolders.some((c) => c.idNat === oldIdNat);
    if (!used) throw new MssError('REGISTRY_UNKNOWN_PERSON', `${oldIdNat} is neither the holder nor a co-holder of ${address}`, { bal: address });
    return modify(bal, (item) => {
      const replace = (map: unknown, key: string): void => {
        if (map && typeof (map as YAMLMap).get === 'function' && scalarValue((map as YAMLMap).get(key, true)) === oldIdNat) (map as YAMLMap).set(key, newIdNat);
      };
      replace(item.get('holder', true), 'idNat');
      for (const key of ['coHolders', 'delegates']) {
        const seq = item.get(key, true) as unknown as import('yaml').YAMLSeq | undefined;
        for (const node of seq?.items ?? []) {
          replace(node, 'idNat');
          replace(node, 'for');
          replace(node, 'grantedBy');
        }
      }
    });
  });
}

// ---- helpers ----

function change(env: EditEnv, action: string, address: string, request: Record<string, unknown>, plan: (reg: Registry) => EditPlan): ChangeResult {
  try {
    const r = editRegistryFile(env.file, env.load, plan);
    const bal = r.registry.get(address);
    env.traces.write({
      action,
      actor: env.actor,
      bal: address,
      means: env.means ?? { service: 'cli' },
      ...(env.address ? { address: env.address } : {}),
      request,
      response: { ok: true, changed: r.changed, warnings: r.warnings.map((w) => `${w.rule}: ${w.message}`) },
    });
    return { registry: r.registry, warnings: r.warnings, bal };
  } catch (err) {
    const e = asMssError(err);
    env.traces.write({
      action,
      actor: env.actor,
      bal: address,
      means: env.means ?? { service: 'cli' },
      ...(env.address ? { address: env.address } : {}),
      request,
      response: { ok: false, code: e.code, message: e.message.split('\n').slice(0, 6).join('\n') },
    });
    throw e;
  }
}

/** The mailbox `address` of the registry, or REGISTRY_UNKNOWN_BAL naming the registry file. */
export function need(reg: Registry, address: string): Bal {
  const bal = reg.get(address);
  if (!bal) throw new MssError('REGISTRY_UNKNOWN_BAL', `no mailbox ${address} in ${reg.file}`, { bal: address, file: reg.file });
  return bal;
}

function modify(bal: Bal, op: EntryOp): EditPlan {
  return { kind: 'modify', index: bal.index, op };
}

function requireManager(reg: Registry, bal: Bal, idNat: string, rule: string): void {
  const d = reg.canUse(idNat, bal.address);
  if (d.role && MANAGER_ROLES.has(d.role)) return;
  const why =
    d.role === 'delegate'
      ? 'is a delegate, and delegates cannot declare delegates, co-holders or responsibles (§5.4.2)'
      : 'is neither the holder, the responsible nor a co-holder';
  throw new MssError('REGISTRY_FORBIDDEN', `${idNat} ${why} of ${bal.address} (${rule})`, { bal: bal.address, requestedBy: idNat });
}

function organisational(bal: Bal): void {
  if (bal.type !== 'ORG' && bal.type !== 'CAB')
    throw new MssError('REGISTRY_COHOLDERS', `${bal.address} is a ${bal.type} BAL: co-holders belong to organisational BALs (EX_GBM_5410)`, {
      bal: bal.address,
    });
}

function stateError(bal: Bal, verb: string): MssError {
  return new MssError('REGISTRY_STATE', `cannot ${verb} ${bal.address}: it is ${bal.status}`, { bal: bal.address, status: bal.status });
}

function stamp(env: EditEnv): string {
  return (env.now?.() ?? new Date()).toISOString();
}

function removeFromSeq(item: YAMLMap, doc: Document, key: string, j: number): void {
  const seq = seqOf(item, doc, key);
  seq.items.splice(j, 1);
  if (seq.items.length === 0) item.delete(key);
}
