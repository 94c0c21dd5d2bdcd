// `stats run`: what the timer (systemd/mss-sidecar-stats.timer, days 1 to 5 of each month)
// does, idempotently. EX_PSU_5810: build, check and upload the previous month on the 1st;
// EX_SSU_5820: read the report (a report not ready: again 12 hours later) and, on blocking
// errors, rebuild and resubmit within the first five days; say loudly when that deadline is
// at risk or missed. A second run finds the record in the store and does only what is left.
import type { Config } from '../config/schema.js';
import { asMssError, MssError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Registry } from '../registry/registry.js';
import { describeHolder, withLease } from '../cluster/lease.js';
import type { LeaseState, StateStore } from '../store/store.js';
import { buildMonth } from './build.js';
import { reportOf, uploadMonth } from './job.js';
import { monthId, monthText, reportedMonth, zonedParts, type Month } from './month.js';
import type { SipilEndpoint } from './sipil-client.js';
import { Submissions } from './submissions.js';

export interface ScheduleDeps {
  config: Config;
  store: StateStore;
  log: Logger;
  registry: () => Registry;
  endpoint?: SipilEndpoint;
  /** Throws when the month cannot be built yet (a node's spool may hold its events). */
  beforeBuild?: (month: Month) => Promise<void>;
}

export type MonthState = 'accepted' | 'awaiting-report' | 'needs-attention';

export interface ScheduleReport {
  month: string;
  now: string;
  localDay: number;
  actions: string[];
  state: MonthState;
  /** EX_PSU_5810 deadline (day 5) close and the month not accepted. */
  atRisk: boolean;
  /** The deadline has passed and the month is not accepted. */
  late: boolean;
  problem?: { code: string; message: string };
  ok: boolean;
}

export async function runStatsSchedule(deps: ScheduleDeps, now: Date): Promise<ScheduleReport> {
  // One run at a time across processes and nodes: the cluster lease "stats" (fencing the
  // run's store writes; a dead holder's lease expires within cluster.leaseTtlMs).
  const busy = (current: LeaseState | undefined) =>
    new MssError('TEMPORARY_STATS_RUNNING', `another \`stats run\` is running (cluster lease stats ${describeHolder(current)}); try again later`);
  return withLease(deps.store, 'stats', { busy, log: deps.log }, () => runLocked(deps, now));
}

async function runLocked(deps: ScheduleDeps, now: Date): Promise<ScheduleReport> {
  const { config, store, log } = deps;
  const tz = config.operator.timeZone;
  const month = reportedMonth(now, tz);
  const id = monthId(month);
  const day = zonedParts(now.getTime(), tz).day;
  const s = config.stats.schedule;
  const actions: string[] = [];
  const submissions = new Submissions(store);
  let problem: ScheduleReport['problem'];
  try {
    let rec = await submissions.get(id);
    let submit = rec.deposits.length === 0;
    if (rec.verdict === 'accepted') actions.push(`nothing to do: ${id} was accepted by SIPIL (deposit ${rec.currentId})`);
    else if (rec.currentId && rec.verdict !== 'rejected') {
      if (rec.nextReportAfter && now.getTime() < Date.parse(rec.nextReportAfter)) {
        actions.push(`report of deposit ${rec.currentId} not ready; asked again after ${rec.nextReportAfter} (EX_SSU_5820: 12 hours)`);
      } else {
        const r = await reportOf(config, store, { id: rec.currentId, month: id }, { now, ...(deps.endpoint ? { endpoint: deps.endpoint } : {}) });
        actions.push(
          `report of deposit ${rec.currentId}: CodeRetourGlobal ${r.code} → ${r.verdict}${r.blockingFiles.length ? ` (KO: ${r.blockingFiles.join(', ')})` : ''}`,
        );
        submit = r.verdict === 'rejected' || r.verdict === 'unknown-id' || r.verdict === 'error';
      }
    } else if (rec.verdict === 'rejected') submit = true;

    if (submit) {
      rec = await submissions.get(id);
      if (rec.deposits.length >= s.maxSubmissions) {
        throw new MssError(
          'STATS_TOO_MANY_SUBMISSIONS',
          `${id} was deposited ${rec.deposits.length} times without being accepted (stats.schedule.maxSubmissions): read the last report (\`mss-sidecar stats report --month ${monthText(month)}\`) and fix the cause`,
        );
      }
      // EX_PSU_5830: every node's events must be in the shared journal (cluster/members.ts).
      await deps.beforeBuild?.(month);
      // EX_SSU_5820: fix (rebuild from the current registry and journal) and resubmit.
      const built = await buildMonth({ config, registry: deps.registry(), store, month, now });
      actions.push(
        `built ${built.files.length} files (${built.echanges.lines} Echanges lines, ${built.connexions.lines} Connexions lines), archive ${built.archive.name}`,
      );
      if (rec.rejected.includes(built.archive.sha256)) {
        throw new MssError(
          'STATS_SAME_AS_REJECTED',
          `the rebuilt archive of ${id} is identical to one SIPIL rejected: the cause is not in the data the build reads; read the report and fix it`,
        );
      }
      const up = await uploadMonth(config, store, id, { now, log, ...(deps.endpoint ? { endpoint: deps.endpoint } : {}) });
      actions.push(`deposited (${up.upload.mode}${up.upload.mode === 'segmented' ? `, ${up.upload.parts} parts` : ''}): Id ${up.upload.depot.id}`);
      // A report is sometimes ready at once; otherwise the next run asks.
      const r = await reportOf(config, store, { id: up.upload.depot.id as string, month: id }, { now, ...(deps.endpoint ? { endpoint: deps.endpoint } : {}) });
      actions.push(`report of deposit ${up.upload.depot.id}: CodeRetourGlobal ${r.code} → ${r.verdict}`);
    }
  } catch (err) {
    const e = asMssError(err);
    problem = { code: e.code, message: e.message };
    actions.push(`FAILED ${e.code}: ${e.message}`);
  }
  const rec = await submissions.get(id);
  const accepted = rec.verdict === 'accepted';
  const state: MonthState = accepted ? 'accepted' : rec.currentId && rec.verdict !== 'rejected' && !problem ? 'awaiting-report' : 'needs-attention';
  const late = !accepted && day > s.deadlineDay;
  const atRisk = !accepted && !late && (day >= s.warnFromDay || state === 'needs-attention');
  // EX_PSU_5810: the deadline is the fifth day; say it where people look (logs, exit status).
  if (late)
    log.error(
      { code: 'STATS_DEADLINE_MISSED', month: id },
      `statistics of ${monthText(month)} are not accepted and the deadline (day ${s.deadlineDay}) has passed: submit now and tell the ANS`,
    );
  else if (atRisk)
    log.error(
      { code: 'STATS_DEADLINE_AT_RISK', month: id, state },
      `statistics of ${monthText(month)} are not accepted yet (${state}); the deadline is day ${s.deadlineDay} of this month`,
    );
  return { month: id, now: now.toISOString(), localDay: day, actions, state, atRisk, late, ...(problem ? { problem } : {}), ok: !problem && !late && !atRisk };
}
