// What `bal list` and `bal show` tell about mailboxes, as data: the CLI prints it (as text or
// JSON), tests read it without a process.
import { NOTICE_KINDS, noticeKey, type NoticeKind, type NoticeRecord } from '../lifecycle/plan.js';
import type { StateStore } from '../store/store.js';
import { publicationOf, type Publication } from './publication.js';
import type { Bal, Registry } from './registry.js';
import { RuntimeFields, type BalRuntime } from './runtime.js';

export interface MailboxFilter {
  type?: string;
  status?: string;
  /** RE_GBM_4430: the suspended mailboxes (with their reasons), of `structure` if given. */
  suspended?: boolean;
  /** A structure's IdNat (type digit + number). */
  structure?: string;
  test?: boolean;
}

export function listMailboxes(reg: Registry, f: MailboxFilter): readonly Bal[] {
  let list: readonly Bal[] = f.suspended ? reg.suspended(f.structure) : reg.all();
  if (f.type) list = list.filter((b) => b.type === f.type?.toUpperCase());
  if (f.status) list = list.filter((b) => b.status === f.status);
  if (f.structure && !f.suspended) list = list.filter((b) => b.structureIdNat === f.structure);
  if (f.test) list = list.filter((b) => b.test);
  return list;
}

/** The fields of a mailbox an administrator lists (`bal list --json`). */
export function publicView(b: Bal): Record<string, unknown> {
  return {
    address: b.address,
    type: b.type,
    status: b.status,
    test: b.test,
    created: b.created,
    listeRouge: b.listeRouge,
    ...(b.suspension ? { suspension: b.suspension } : {}),
    ...(b.deletion ? { deletion: b.deletion } : {}),
    ...(b.structureIdNat ? { structure: b.structureIdNat } : {}),
  };
}

/** The registry entry as written in the file, without what loading derives from it. */
export function entryOf(b: Bal): Record<string, unknown> {
  const { index: _i, localPart: _l, domain: _d, createdMs: _c, autoreply: _a, structureIdNat: _s, ...entry } = b;
  return entry;
}

export interface MailboxUser {
  role: string;
  idNat: string;
  name?: string;
  for?: string;
}

/** Who may use the mailbox, and as what (§5.4.2). */
export function usersOf(b: Bal): MailboxUser[] {
  const users: MailboxUser[] = [];
  if (b.holder) users.push({ role: 'holder', idNat: b.holder.idNat, name: `${b.holder.firstName} ${b.holder.lastName}` });
  if (b.responsible)
    users.push({
      role: b.responsible.accessesContent && b.type !== 'APP' ? 'responsible' : 'responsible (no access)',
      idNat: b.responsible.idNat ?? '-',
      name: b.responsible.name,
    });
  for (const c of b.coHolders)
    users.push({ role: c.responsible ? 'responsible (co-holder)' : 'co-holder', idNat: c.idNat, name: `${c.firstName} ${c.lastName}` });
  for (const d of b.delegates) users.push({ role: 'delegate', idNat: d.idNat, ...(d.name ? { name: d.name } : {}), for: d.for });
  return users;
}

export interface MailboxDetails {
  bal: Bal;
  runtime: BalRuntime;
  /** The lifecycle notices remembered for it (lifecycle/plan.ts noticeKey). */
  notices: Partial<Record<NoticeKind, NoticeRecord>>;
  publication: Publication;
  users: MailboxUser[];
}

/** `bal show`: the entry, its run-time state from the store, its notices, its publication, its users. */
export async function mailboxDetails(bal: Bal, store: StateStore): Promise<MailboxDetails> {
  const runtime = await new RuntimeFields(store).get(bal.address);
  const notices: Partial<Record<NoticeKind, NoticeRecord>> = {};
  for (const kind of NOTICE_KINDS) {
    const v = await store.get(noticeKey(kind, bal.address));
    if (v) notices[kind] = JSON.parse(v) as NoticeRecord;
  }
  return { bal, runtime, notices, publication: publicationOf(bal, runtime), users: usersOf(bal) };
}
