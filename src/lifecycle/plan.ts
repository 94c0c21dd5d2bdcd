// What the lifecycle job has to do today, computed from the registry, the run-time state
// and the notices already sent — a pure function of its inputs and of `now`, so a re-run
// on the same day finds nothing new to do and tests can set the clock.
//
// Inactivity is counted from the last login; a BAL that never logged in counts from its
// creation date. For an APP BAL, whose "logins" are client certificates, the last
// exchange counts as activity too (RE_SSU_5800). Nothing counts from before the day logins
// are known to be recorded (activityKnownSince, see known-since.ts): the first night after
// an import plans nothing.
import type { Bal } from '../registry/registry.js';
import type { BalRuntime } from '../registry/runtime.js';
import { addDays, addMonths, addYears } from './clock.js';

export const NOTICE_KINDS = ['depublish', 'delete'] as const;
export type NoticeKind = (typeof NOTICE_KINDS)[number];

/** A notice already sent, as remembered in the store. */
export interface NoticeRecord {
  state: 'sending' | 'sent';
  /** The inactivity period it was about: the last activity date it was computed from (ISO). */
  activity: string;
  sentAt?: string;
  startedAt?: string;
  scheduledFor?: string;
}

export type PlannedAction =
  | { kind: 'notice'; notice: NoticeKind; bal: Bal; activity: number; scheduledFor: number }
  | { kind: 'depublish'; bal: Bal; activity: number; noticeSentAt: number }
  | { kind: 'delete'; bal: Bal; activity: number; noticeSentAt: number }
  | { kind: 'purge'; bal: Bal }
  | { kind: 'blocked'; bal: Bal; notice: NoticeKind; reason: string };

export interface PlanInput {
  bals: readonly Bal[];
  runtime: ReadonlyMap<string, BalRuntime>;
  notices: ReadonlyMap<string, NoticeRecord>;
  /** UTC day (YYYY-MM-DD) of the last purge of each auto-reply BAL. */
  purgedOn: ReadonlyMap<string, string>;
  now: number;
  /** Logins are recorded from this time on (ms): inactivity never counts from before it. */
  activityKnownSince?: number;
  /** Whether a notice can reach this BAL's user (contact and channel configured). */
  canNotify: (bal: Bal) => string | undefined;
}

/** EX_GBM_4440 thresholds. */
export const INACTIVE_DAYS = 60;
export const DEPUBLISH_NOTICE_DAYS = 15;
/** EX_GBM_6010 thresholds. */
export const DELETE_AFTER_YEARS = 1;
export const DELETE_NOTICE_MONTHS = 2;
/** A notice claimed but never confirmed (crash while sending) is retried after this. */
export const STALE_SENDING_MS = 3_600_000;

export const noticeKey = (kind: NoticeKind, address: string): string => `notice:${kind}:${address}`;

export function activityOf(bal: Bal, rt: BalRuntime, knownSince = 0): number {
  // EX_GBM_4440 EX_GBM_6010: inactivity observed, not assumed: not before logins were recorded.
  let a = Math.max(bal.createdMs, knownSince);
  if (rt.lastLogin && rt.lastLogin.getTime() > a) a = rt.lastLogin.getTime();
  if (bal.type === 'APP' && rt.lastExchange && rt.lastExchange.getTime() > a) a = rt.lastExchange.getTime();
  return a;
}

/** When the BAL becomes due for depublication (EX_GBM_4440), if it is concerned at all. */
export function depublicationDue(bal: Bal, rt: BalRuntime, knownSince = 0): number | undefined {
  // EX_GBM_4440: PER and ORG (CAB is an organisational BAL too); test BALs and suspended/deleted ones
  // are not published anyway; a user's own liste rouge or an earlier depublication leaves
  // nothing to do.
  if (bal.type === 'APP' || bal.test || bal.status !== 'active' || bal.listeRouge || rt.depublishedAt) return undefined;
  return Math.max(addDays(activityOf(bal, rt, knownSince), INACTIVE_DAYS), addYears(bal.createdMs, 1));
}

/** When the BAL becomes due for deletion (EX_GBM_6010), if it is concerned at all. */
export function deletionDue(bal: Bal, rt: BalRuntime, knownSince = 0): number | undefined {
  // EX_GBM_6010: every BAL but the auto-reply ones, which must exist (EX_GBM_4020) and
  // never log in; suspended BALs wait
  // for the outcome of their suspension.
  if (bal.autoreply || bal.status !== 'active') return undefined;
  return addYears(activityOf(bal, rt, knownSince), DELETE_AFTER_YEARS);
}

export function plan(input: PlanInput): PlannedAction[] {
  const out: PlannedAction[] = [];
  const { now } = input;
  const today = new Date(now).toISOString().slice(0, 10);
  for (const bal of input.bals) {
    const rt = input.runtime.get(bal.address) ?? {};
    const known = input.activityKnownSince ?? 0;
    const activity = activityOf(bal, rt, known);
    const activityIso = new Date(activity).toISOString();

    // EX_GBM_4030: the auto-reply BAL's messages are gone within a month (daily purge).
    if (bal.autoreply && bal.status === 'active' && input.purgedOn.get(bal.address) !== today) out.push({ kind: 'purge', bal });

    const steps: Array<[NoticeKind, number | undefined]> = [
      ['delete', deletionDue(bal, rt, known)],
      ['depublish', depublicationDue(bal, rt, known)],
    ];
    for (const [kind, due] of steps) {
      if (due === undefined) continue;
      const noticeAt = kind === 'depublish' ? addDays(due, -DEPUBLISH_NOTICE_DAYS) : addMonths(due, -DELETE_NOTICE_MONTHS);
      if (now < noticeAt) continue;
      const n = input.notices.get(noticeKey(kind, bal.address));
      const current = n && n.activity === activityIso ? n : undefined;
      const sentAt = current?.state === 'sent' && current.sentAt ? Date.parse(current.sentAt) : undefined;
      if (sentAt === undefined) {
        if (current?.state === 'sending' && now - Date.parse(current.startedAt ?? '') < STALE_SENDING_MS) continue;
        const blocked = input.canNotify(bal);
        if (blocked) out.push({ kind: 'blocked', bal, notice: kind, reason: blocked });
        else {
          const wait = kind === 'depublish' ? addDays(now, DEPUBLISH_NOTICE_DAYS) : addMonths(now, DELETE_NOTICE_MONTHS);
          out.push({ kind: 'notice', notice: kind, bal, activity, scheduledFor: Math.max(due, wait) });
        }
        continue;
      }
      // The action itself: past the due date, and the full notice period elapsed since the
      // notice was actually sent ("systématiquement précédée, quinze jours / deux mois avant").
      const earliest = kind === 'depublish' ? addDays(sentAt, DEPUBLISH_NOTICE_DAYS) : addMonths(sentAt, DELETE_NOTICE_MONTHS);
      if (now > due && now >= earliest) {
        out.push({ kind, bal, activity, noticeSentAt: sentAt });
        if (kind === 'delete') break; // a deleted BAL needs no depublication
      }
    }
  }
  return out;
}
