// `lifecycle run`: the daily job of Référentiel #1 §5.1.3, §5.6 and §5.7.
//   - EX_GBM_4440: notice 15 days before, then depublication (operator liste rouge) of
//     PER/ORG BALs created more than a year ago with no login for more than 60 days;
//   - EX_GBM_6010: notice two months before, then deletion of BALs with no
//     authentication for a year (the configured command empties the mail store; the
//     registry entry and the traces stay, EX_GDT_5070);
//   - EX_GBM_4030: purge of the auto-reply BALs' messages older than a month.
// Idempotent: every notice is remembered in the store for the inactivity period it was
// about, every purge for the day; a second run the same day does nothing new. One run at
// a time (a store lock); `--dry-run` computes and prints without changing anything.
// First night and surprises: inactivity never counts from before logins were recorded
// (known-since.ts), and more notices and deletions than lifecycle.maxActionsPerRun wait
// for `--confirm N` (guard.ts).
import { MssError, asMssError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { confirmLeases } from '../cluster/lease-context.js';
import { describeHolder, withLease } from '../cluster/lease.js';
import type { LeaseState, StateStore } from '../store/store.js';
import type { TraceLog } from '../traces/trace-log.js';
import type { TraceActor } from '../traces/record.js';
import { loadRegistry, type LoadOptions } from '../registry/load.js';
import type { Bal } from '../registry/registry.js';
import { RuntimeFields, type BalRuntime } from '../registry/runtime.js';
import { purgeAutoreply } from './autoreply-purge.js';
import { deleteMailboxWithMail } from './delete-mailbox.js';
import type { LifecycleConfig } from './config.js';
import type { StatsConfig } from '../stats/config.js';
import type { NoticeSender } from './notices.js';
import { noticeKey, plan, type NoticeKind, type NoticeRecord, type PlannedAction } from './plan.js';
import { checkCap, summarize, type Guarded, type SummaryLine } from './guard.js';
import { activityKnownSince, describeKnownSince } from './known-since.js';

export interface LifecycleDeps {
  file: string;
  load: LoadOptions;
  store: StateStore;
  traces: TraceLog;
  notices: NoticeSender;
  config: LifecycleConfig;
  /** stats.loginsRecordedSince: from when logins are known, unless lifecycle.activityKnownSince says. */
  stats: Pick<StatsConfig, 'loginsRecordedSince'>;
  /** Who runs the job (the systemd timer: system:lifecycle; by hand: the admin). */
  actor: TraceActor;
  log?: Logger;
}

export interface LifecycleOptions {
  now: Date;
  dryRun?: boolean;
  /** The number of notices and deletions a person confirmed (`--confirm N`). */
  confirm?: number;
}

export interface ActionReport {
  action: 'notice' | 'depublish' | 'delete' | 'purge' | 'blocked';
  bal: string;
  notice?: NoticeKind;
  /** For notices: where it went and when the action is planned. */
  to?: string;
  scheduledFor?: string;
  ok: boolean;
  detail?: string;
}

export interface LifecycleReport {
  now: string;
  dryRun: boolean;
  actions: ActionReport[];
  /** Everything due was done (notices that cannot be sent count as not done). */
  ok: boolean;
  /** From when inactivity is counted, and why (known-since.ts). */
  activityKnownSince: string;
  /** The actions counted by kind and date. */
  summary: SummaryLine[];
  /** Set when the notices and deletions were held back (or would be, in a dry run). */
  stopped?: { reason: string; planned: Guarded; cap: number };
}

export async function runLifecycle(deps: LifecycleDeps, opts: LifecycleOptions): Promise<LifecycleReport> {
  const log = deps.log ?? silentLogger;
  if (opts.dryRun) return runLocked(deps, opts, log);
  // One run at a time across processes and nodes (cluster lease "lifecycle", fencing the
  // run's store writes; a dead holder's lease expires within cluster.leaseTtlMs).
  const busy = (current: LeaseState | undefined) =>
    new MssError('TEMPORARY_LIFECYCLE_RUNNING', `another lifecycle run is in progress (cluster lease lifecycle ${describeHolder(current)}); try again later`);
  return withLease(deps.store, 'lifecycle', { busy, log }, () => runLocked(deps, opts, log));
}

async function runLocked(deps: LifecycleDeps, opts: LifecycleOptions, log: Logger): Promise<LifecycleReport> {
  const now = opts.now.getTime();
  const registry = loadRegistry(deps.file, deps.load);
  const runtime = new RuntimeFields(deps.store);
  const bals = registry.all().filter((b) => b.status !== 'deleted');
  const states = await runtime.getMany(bals.map((b) => b.address));
  const rt = new Map<string, BalRuntime>(bals.map((b, i) => [b.address, states[i] ?? {}]));
  // Few BALs have a notice pending: list those keys rather than asking for 2 per BAL.
  const notices = new Map<string, NoticeRecord>();
  for await (const key of deps.store.scan('notice:')) {
    const v = await deps.store.get(key);
    if (v) notices.set(key, JSON.parse(v) as NoticeRecord);
  }
  const purgedOn = new Map<string, string>();
  for (const b of bals) {
    if (!b.autoreply) continue;
    const d = await deps.store.get(`lifecycle:purge:${b.address}`);
    if (d) purgedOn.set(b.address, d);
  }
  const known = await activityKnownSince({ lifecycle: deps.config, stats: deps.stats }, deps.store, opts.now);
  const actions = plan({ bals, runtime: rt, notices, purgedOn, now, activityKnownSince: known.at, canNotify: (b) => deps.notices.blockedFor(b) });
  const verdict = checkCap(actions, deps.config.maxActionsPerRun, opts.confirm);
  // Held back: everything a user would notice; the daily auto-reply purge still runs.
  const held = (a: PlannedAction): boolean => !verdict.go && (a.kind === 'notice' || a.kind === 'delete' || a.kind === 'depublish');
  if (!verdict.go && !opts.dryRun) log.error({ planned: verdict.planned, cap: verdict.cap }, verdict.reason);
  const reports: ActionReport[] = [];
  for (const a of actions) {
    if (opts.dryRun) reports.push(describe(a));
    else if (!held(a)) reports.push(await execute(deps, a, opts.now, runtime, log));
  }
  const stopped = verdict.go ? undefined : { reason: verdict.reason, planned: verdict.planned, cap: verdict.cap };
  const report: LifecycleReport = {
    now: opts.now.toISOString(),
    dryRun: opts.dryRun === true,
    actions: reports,
    ok: reports.every((r) => r.ok) && (opts.dryRun === true || stopped === undefined),
    activityKnownSince: describeKnownSince(known),
    summary: summarize(actions, now),
    ...(stopped ? { stopped } : {}),
  };
  if (!opts.dryRun) {
    deps.traces.write({
      action: 'lifecycle.run',
      category: 'technical',
      actor: deps.actor,
      means: { service: 'lifecycle' },
      request: {
        now: report.now,
        activityKnownSince: new Date(known.at).toISOString().slice(0, 10),
        ...(opts.confirm !== undefined ? { confirm: opts.confirm } : {}),
      },
      response: { ok: report.ok, counts: counts(reports), ...(stopped ? { code: 'LIFECYCLE_CONFIRM_NEEDED', message: stopped.reason } : {}) },
    });
  }
  return report;
}

function describe(a: PlannedAction): ActionReport {
  switch (a.kind) {
    case 'notice':
      return {
        action: 'notice',
        notice: a.notice,
        bal: a.bal.address,
        to: a.bal.contact?.email ?? a.bal.contact?.phone,
        scheduledFor: new Date(a.scheduledFor).toISOString(),
        ok: true,
      };
    case 'blocked':
      return {
        action: 'blocked',
        notice: a.notice,
        bal: a.bal.address,
        ok: false,
        detail: `cannot send the ${a.notice} notice: ${a.reason}; the ${a.notice === 'delete' ? 'deletion' : 'depublication'} waits until a notice is sent`,
      };
    default:
      return { action: a.kind, bal: a.bal.address, ok: true };
  }
}

async function execute(deps: LifecycleDeps, a: PlannedAction, now: Date, runtime: RuntimeFields, log: Logger): Promise<ActionReport> {
  const base = describe(a);
  // A node whose lease was lost (paused, cut off) sends no notice and runs no command.
  await confirmLeases();
  try {
    switch (a.kind) {
      case 'notice':
        return await sendNotice(deps, a, now);
      case 'depublish':
        // EX_GBM_4440: published with ListeRouge=O from now on, for inactivity.
        await runtime.setDepublished(a.bal.address, now);
        trace(
          deps,
          'bal.depublish',
          a.bal,
          { reason: 'no login for more than 60 days (EX_GBM_4440)', lastActivity: iso(a.activity), noticeSentAt: iso(a.noticeSentAt), now: now.toISOString() },
          { ok: true },
        );
        return base;
      case 'delete':
        return await deleteBal(deps, a.bal, a.activity, a.noticeSentAt, now, runtime);
      case 'purge':
        return await purge(deps, a.bal, now);
      case 'blocked':
        log.warn({ bal: a.bal.address, notice: a.notice }, base.detail ?? 'notice blocked');
        trace(deps, `notice.${a.notice}`, a.bal, { now: now.toISOString() }, { ok: false, code: 'LIFECYCLE_NO_CHANNEL', message: base.detail ?? '' });
        return base;
    }
  } catch (err) {
    const e = asMssError(err);
    log.error({ bal: a.bal.address, action: a.kind, code: e.code }, e.message);
    return { ...base, ok: false, detail: `${e.code}: ${e.message}` };
  }
}

async function sendNotice(deps: LifecycleDeps, a: Extract<PlannedAction, { kind: 'notice' }>, now: Date): Promise<ActionReport> {
  const key = noticeKey(a.notice, a.bal.address);
  const activity = iso(a.activity);
  // Claim the notice first so that two runs never both send it; forget the claim if the
  // sending fails, so that the next run tries again.
  // The plan only asks for a notice when none was sent for this inactivity period: what
  // may be there is a notice of an earlier period, or the claim of a run that crashed.
  await deps.store.del(key);
  const claim: NoticeRecord = { state: 'sending', activity, startedAt: now.toISOString() };
  if (!(await deps.store.set(key, JSON.stringify(claim), { ifAbsent: true }))) {
    return { action: 'notice', notice: a.notice, bal: a.bal.address, ok: true, detail: 'already being sent by another run' };
  }
  const scheduledFor = new Date(a.scheduledFor);
  try {
    const { to } = await deps.notices.send({ kind: a.notice, bal: a.bal, activity: new Date(a.activity), scheduledFor });
    const sent: NoticeRecord = { state: 'sent', activity, sentAt: now.toISOString(), scheduledFor: scheduledFor.toISOString() };
    await deps.store.set(key, JSON.stringify(sent));
    trace(deps, `notice.${a.notice}`, a.bal, { to, lastActivity: activity, scheduledFor: scheduledFor.toISOString(), now: now.toISOString() }, { ok: true });
    return { action: 'notice', notice: a.notice, bal: a.bal.address, to, scheduledFor: scheduledFor.toISOString(), ok: true };
  } catch (err) {
    await deps.store.del(key);
    const e = asMssError(err);
    trace(deps, `notice.${a.notice}`, a.bal, { lastActivity: activity, now: now.toISOString() }, { ok: false, code: e.code, message: e.message });
    throw e;
  }
}

async function deleteBal(deps: LifecycleDeps, bal: Bal, activity: number, noticeSentAt: number, now: Date, runtime: RuntimeFields): Promise<ActionReport> {
  // EX_GBM_6010: the mail store emptied, then the entry marked deleted (./delete-mailbox.ts);
  // a failed command is traced there and leaves the BAL for the next run (execute() reports it).
  await deleteMailboxWithMail(
    {
      edit: { file: deps.file, load: deps.load, traces: deps.traces, actor: deps.actor, means: { service: 'lifecycle' }, now: () => now },
      store: deps.store,
      stateDir: deps.load.stateDir,
      config: deps.config,
    },
    bal,
    `no authentication since ${iso(activity)} (one year); notice sent ${iso(noticeSentAt)}`,
  );
  await runtime.setDepublished(bal.address, undefined);
  return { action: 'delete', bal: bal.address, ok: true };
}

async function purge(deps: LifecycleDeps, bal: Bal, now: Date): Promise<ActionReport> {
  // EX_GBM_4030: purge, then check that nothing older than the bound is left (autoreply-purge.ts).
  const r = await purgeAutoreply(deps.config, bal);
  const request = { reason: `messages older than ${r.maxAgeDays} days (EX_GBM_4030: at most one month after reception)`, now: now.toISOString() };
  trace(deps, 'bal.purge-autoreply', bal, request, r.ok ? { ok: true } : { ok: false, code: r.code ?? 'LIFECYCLE_COMMAND_FAILED', message: r.detail ?? '' });
  if (r.ok) await deps.store.set(`lifecycle:purge:${bal.address}`, now.toISOString().slice(0, 10), { ttlMs: 3 * 86_400_000 });
  return { action: 'purge', bal: bal.address, ok: r.ok, ...(r.detail ? { detail: `${r.code}: ${r.detail}` } : {}) };
}

function trace(
  deps: LifecycleDeps,
  action: string,
  bal: Bal,
  request: Record<string, unknown>,
  response: { ok: boolean; code?: string; message?: string },
): void {
  deps.traces.write({ action, actor: deps.actor, bal: bal.address, means: { service: 'lifecycle' }, request, response });
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function counts(reports: readonly ActionReport[]): Record<string, number> {
  const c: Record<string, number> = {};
  for (const r of reports) {
    const k = `${r.action}${r.notice ? `:${r.notice}` : ''}${r.ok ? '' : ':failed'}`;
    c[k] = (c[k] ?? 0) + 1;
  }
  return c;
}
