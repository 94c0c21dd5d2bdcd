// Pending inactivity and deletion notices of a professional's mailboxes, and their
// objection (EX_GBM_4440, EX_GBM_6010: the notice is sent « afin de lui permettre … de
// s'opposer »). A notice is pending while the lifecycle job's record of it (the store key
// `notice:<kind>:<address>`) says it was sent and no activity came after the period it was
// about (its `activity` date): a later login or exchange starts a new period, which the job
// judges afresh (src/lifecycle/plan.ts). Objecting is what
// the notice itself asks for — using the mailbox: the professional, authenticated by Pro
// Santé Connect, declares that they still use it; it is recorded as a login of the mailbox
// (Activity.recordLogin: last login, EX_GDT_5060 trace, end of a depublication for
// inactivity), which starts a new period, so the job neither depublishes nor deletes.
import type { Activity } from '../registry/activity.js';
import type { AccessDecision, Bal, Registry } from '../registry/registry.js';
import type { RuntimeFields } from '../registry/runtime.js';
import { noticeKey, type NoticeKind, type NoticeRecord } from '../lifecycle/plan.js';
import type { StateStore } from '../store/store.js';
import type { TraceLog } from '../traces/trace-log.js';
import type { EditWho } from './registry/edit-protocol.js';

export interface PendingNotice {
  kind: NoticeKind | 'depublished';
  bal: Bal;
  decision: AccessDecision;
  /** When the action may happen (notices), or since when the BAL is depublished. */
  date?: Date;
}

export async function pendingNotices(store: StateStore, runtime: RuntimeFields, registry: Registry, idNat: string): Promise<PendingNotice[]> {
  const out: PendingNotice[] = [];
  for (const { bal, decision } of registry.mailboxesOf(idNat)) {
    if (bal.status !== 'active') continue;
    const rt = await runtime.get(bal.address);
    const lastActivity = Math.max(rt.lastLogin?.getTime() ?? 0, bal.type === 'APP' ? (rt.lastExchange?.getTime() ?? 0) : 0);
    for (const kind of ['delete', 'depublish'] as const) {
      const text = await store.get(noticeKey(kind, bal.address));
      if (!text) continue;
      const n = JSON.parse(text) as NoticeRecord;
      if (n.state === 'sent' && !(lastActivity > Date.parse(n.activity)))
        out.push({ kind, bal, decision, ...(n.scheduledFor ? { date: new Date(n.scheduledFor) } : {}) });
    }
    if (rt.depublishedAt && !bal.listeRouge) out.push({ kind: 'depublished', bal, decision, date: rt.depublishedAt });
  }
  return out;
}

/**
 * Record the professional's objection for `address`: only when one of their notices is
 * pending there, and only for a person who may use the mailbox.
 */
export async function objectToNotice(
  deps: { store: StateStore; runtime: RuntimeFields; activity: Activity; traces: TraceLog; registry: Registry },
  idNat: string,
  address: string,
  who: EditWho,
  at: Date,
): Promise<boolean> {
  const pending = (await pendingNotices(deps.store, deps.runtime, deps.registry, idNat)).filter((n) => n.bal.address === address.toLowerCase());
  const first = pending[0];
  if (!first || !first.decision.allowed) return false;
  await deps.activity.recordLogin(first.bal.address, at, {
    authType: who.means.authType ?? 'PSC/OIDC',
    identity: idNat,
    ...(first.decision.delegateOf ? { delegateOf: first.decision.delegateOf } : {}),
    service: 'portal',
    ...(who.means.client ? { client: who.means.client } : {}),
    ...(who.address ? { address: who.address } : {}),
  });
  deps.traces.write({
    action: 'notice.objection',
    actor: who.actor,
    bal: first.bal.address,
    means: who.means,
    ...(who.address ? { address: who.address } : {}),
    request: { notices: pending.map((n) => ({ kind: n.kind, ...(n.date ? { date: n.date.toISOString() } : {}) })) },
    response: { ok: true, lastLogin: at.toISOString() },
  });
  return true;
}
