// `mss-sidecar annuaire publish|report|withdraw-domain|status` (TM1.1.1P). The timers run
// publish before 02:00 and report after 04:00 (systemd/mss-sidecar-annuaire-*.timer).
import type { Command } from 'commander';
import { MssError } from '../errors.js';
import { openTraceLog } from '../registry/open.js';
import type { StateStore } from '../store/store.js';
import type { TraceLog } from '../traces/trace-log.js';
import { cancelWithdrawal, publish, withdrawDomain, type AnnuaireDeps, type PublishResult } from '../annuaire/publish.js';
import { renderReport, renderValidation } from '../annuaire/render.js';
import { fetchReports, type ReportRun } from '../annuaire/report.js';
import { ANNUAIRE_LEASE, AnnuaireState } from '../annuaire/state.js';
import type { CliContext } from './context.js';
import type { CliOutput } from './io.js';
import { resolveActor } from './actor.js';
import { EXIT, action } from './run-action.js';
import { oncePerOption, openJobStore, scheduled } from './scheduled.js';

interface Common {
  now?: string;
  actor?: string;
  json?: boolean;
  oncePer?: string;
}

function clock(now?: string): Date {
  const d = now ? new Date(now) : new Date();
  if (Number.isNaN(d.getTime())) throw new MssError('USAGE_NOW', `--now ${now}: expected an ISO 8601 date such as 2025-06-01T01:00:00+02:00`);
  return d;
}

async function withDeps<T>(ctx: () => CliContext, opts: Common, fn: (deps: AnnuaireDeps) => Promise<T>): Promise<T> {
  const c = ctx();
  const config = c.config();
  const store: StateStore = openJobStore(config);
  const traces: TraceLog = openTraceLog(config);
  try {
    return await fn({ config, store, traces, actor: resolveActor(opts.actor), log: c.log });
  } finally {
    traces.close();
    await store.close();
  }
}

function printPublish(out: CliOutput, r: PublishResult, json?: boolean): number {
  const status = r.outcome === 'refused' || ((r.outcome === 'dry-run' || r.outcome === 'skipped') && r.validation.blocking > 0) ? EXIT.FAILED : EXIT.OK;
  if (json) {
    out.write(`${JSON.stringify(r, null, 2)}\n`);
    return status;
  }
  out.write(`${renderValidation(r.validation, r.domains, r.excluded)}\n`);
  if (!r.whitelistChecked) out.write('note: no verified liste blanche here; RG_CTR_000 (domain listed) was not checked locally\n');
  const size = `${r.digest.records} mailbox(es), ${(r.digest.bytes / 1048576).toFixed(1)} MB, sha256 ${r.digest.sha256.slice(0, 16)}…`;
  switch (r.outcome) {
    case 'refused':
      out.write(
        `NOT SENT: ${r.validation.blocking} blocking anomalie(s) in ${r.validation.rejected} mailbox(es); fix the registry, or send anyway with --force (those mailboxes would be rejected by the Annuaire)\n`,
      );
      break;
    case 'skipped':
      out.write(`not sent (${r.decision?.reason}): ${r.decision?.why}\n`);
      break;
    case 'dry-run':
      out.write(`dry run: would send (${r.decision?.reason}: ${r.decision?.why}) ${size}\n`);
      break;
    case 'sent':
      out.write(
        `${r.kind === 'withdraw' ? 'withdrawal sent' : 'sent'} (${r.decision?.reason}): ticket ${r.ticket}, ${size}; fetch the report after the Annuaire's batch with \`mss-sidecar annuaire report\`\n`,
      );
  }
  return status;
}

function printReports(out: CliOutput, run: ReportRun, json?: boolean): number {
  let status: number = EXIT.OK;
  for (const t of run.tickets) {
    if (t.outcome === 'done' && (t.blocking ?? 0) > 0) status = EXIT.FAILED;
    if (t.outcome === 'done' && t.corrections?.some((c) => !c.applied && c.note && !c.note.startsWith('listed only'))) status = EXIT.FAILED;
    if (t.outcome === 'error' || t.outcome === 'lost') status = EXIT.FAILED;
    if (t.outcome === 'pending' && status === EXIT.OK) status = EXIT.TEMPORARY;
  }
  if (json) {
    out.write(`${JSON.stringify(run, null, 2)}\n`);
    return status;
  }
  if (run.tickets.length === 0) out.write('no pending ticket\n');
  for (const t of run.tickets) {
    switch (t.outcome) {
      case 'not-due':
        out.write(`ticket ${t.ticket}: not before ${t.dueAt} (the Annuaire's batch must have run)\n`);
        break;
      case 'pending':
        out.write(`ticket ${t.ticket}: not processed yet (WSMSS17); try again later\n`);
        break;
      case 'done':
        out.write(`${renderReport(t.ticket, t.report ?? { rules: [], domains: [] }, t.corrections ?? [])}\n`);
        out.write(`ticket ${t.ticket}: ${t.blocking} blocking, ${t.warnings} warning(s); ZIP ${t.delivery}, checksum ${t.checksum}; saved ${t.files?.json}\n`);
        break;
      default:
        out.write(`ticket ${t.ticket}: ${t.outcome.toUpperCase()} ${t.error?.code}: ${t.error?.message}\n`);
    }
  }
  return status;
}

export function registerAnnuaireCommands(program: Command, ctx: () => CliContext): void {
  const annuaire = program.command('annuaire').description('publication of the mailboxes to the Annuaire Santé (TM1.1.1P) and its reports');
  const common = (cmd: Command): Command =>
    cmd
      .option('--now <iso>', 'the date to act as of, for the schedule (tests, catching up); default: now')
      .option('--actor <name>', 'who runs it (the timers pass system:annuaire; default: the Unix user)')
      .option('--json', 'print the result as JSON');

  common(oncePerOption(annuaire.command('publish')))
    .description('build, validate and send the feed of every managed domain, when due (before 02:00, at most daily, at least weekly)')
    .option('--force', 'send even with blocking anomalies (the Annuaire rejects those mailboxes)')
    .option('--dry-run', 'build, validate and decide; send nothing')
    .action(
      action(async (opts: Common & { force?: boolean; dryRun?: boolean }) =>
        withDeps(ctx, opts, async (deps) => {
          const now = clock(opts.now);
          const run = () => publish(deps, { now, ...(opts.force ? { force: true } : {}), ...(opts.dryRun ? { dryRun: true } : {}) });
          return scheduled(
            {
              cfg: deps.config,
              log: ctx().log,
              out: ctx().out,
              store: deps.store,
              job: ANNUAIRE_LEASE,
              run: 'annuaire-publish',
              oncePer: opts.dryRun ? undefined : opts.oncePer,
              now,
            },
            run,
            (r) => printPublish(ctx().out, r, opts.json),
          );
        }),
      ),
    );

  common(oncePerOption(annuaire.command('report')))
    .description("fetch and process the report of every pending ticket once the Annuaire's batch ran (after 04:00)")
    .option('--ticket <ticket>', 'only this ticket')
    .option('--no-apply-corrections', 'list the national identifiers the Annuaire corrects, do not change the registry')
    .action(
      action(async (opts: Common & { ticket?: string; applyCorrections?: boolean }) =>
        withDeps(ctx, opts, async (deps) => {
          const now = clock(opts.now);
          const run = () =>
            fetchReports(deps, {
              now,
              ...(opts.ticket ? { ticket: opts.ticket } : {}),
              ...(opts.applyCorrections === false ? { applyCorrections: false } : {}),
            });
          return scheduled(
            { cfg: deps.config, log: ctx().log, out: ctx().out, store: deps.store, job: ANNUAIRE_LEASE, run: 'annuaire-report', oncePer: opts.oncePer, now },
            run,
            (r) => printReports(ctx().out, r, opts.json),
          );
        }),
      ),
    );

  common(annuaire.command('withdraw-domain'))
    .description('publish DOMAIN with no mailbox, before it leaves the liste blanche (EX_GBM_6020); later feeds leave it out')
    .argument('<domain>')
    .option('--force', 'send even with blocking anomalies (e.g. the domain is no longer listed)')
    .option('--dry-run', 'decide; send nothing')
    .option('--cancel', 'forget the withdrawal: the next feeds publish the domain again')
    .action(
      action(async (domain: string, opts: Common & { force?: boolean; dryRun?: boolean; cancel?: boolean }) =>
        withDeps(ctx, opts, async (deps) => {
          if (opts.cancel) {
            const done = await cancelWithdrawal(deps, domain);
            ctx().out.write(done ? `${domain}: withdrawal cancelled; the next publication includes it\n` : `${domain} was not withdrawn\n`);
            return EXIT.OK;
          }
          return printPublish(
            ctx().out,
            await withdrawDomain(deps, domain, { now: clock(opts.now), ...(opts.force ? { force: true } : {}), ...(opts.dryRun ? { dryRun: true } : {}) }),
            opts.json,
          );
        }),
      ),
    );

  annuaire
    .command('status')
    .description('last publication, withdrawn domains, tickets and their reports')
    .option('--json', 'print JSON')
    .action(
      action(async (opts: { json?: boolean }) =>
        withDeps(ctx, opts, async (deps) => {
          const state = new AnnuaireState(deps.store);
          const s = { last: await state.last(), withdrawn: await state.withdrawn(), tickets: await state.tickets() };
          if (opts.json) ctx().out.write(`${JSON.stringify(s, null, 2)}\n`);
          else {
            ctx().out.write(
              s.last
                ? `last publication ${s.last.at}: ticket ${s.last.ticket}, sha256 ${s.last.sha256.slice(0, 16)}…, ${s.last.domains.join(', ')}\n`
                : 'never published\n',
            );
            if (s.withdrawn.length > 0) ctx().out.write(`withdrawn: ${s.withdrawn.join(', ')}\n`);
            for (const t of s.tickets)
              ctx().out.write(
                `  ${t.ticket}\t${t.kind}\t${t.sentAt}\t${t.status}${t.summary ? `\tblocking ${t.summary.blocking}, warnings ${t.summary.warnings}, corrections ${t.summary.corrections}` : t.lastOutcome ? `\t${t.lastOutcome}` : ''}\n`,
              );
          }
          return EXIT.OK;
        }),
      ),
    );
}
