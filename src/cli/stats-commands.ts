// `mss-sidecar stats build | validate | upload | report | run` (docs/stats.md).
// `stats build` loads only what building needs: the SIPIL client, the report's XML and the
// local controls (with the liste blanche and PKI code they pull in, ~10 MB of the process)
// are imported by the commands that use them (issue 20: the build's peak memory).
import type { Command } from 'commander';
import type { Config } from '../config/schema.js';
import { MssError } from '../errors.js';
import { loadRegistryFrom } from '../registry/open.js';
import type { StateStore } from '../store/store.js';
import type { ArchiveCheck } from '../stats/archive-check.js';
import { buildMonth, type BuildResult } from '../stats/build.js';
import { monthId, parseMonth, reportedMonth, type Month } from '../stats/month.js';
import { assertJournalComplete } from '../cluster/members.js';
import type { CliContext } from './context.js';
import { EXIT, action } from './run-action.js';
import { oncePerOption, openJobStore, scheduled } from './scheduled.js';

function nowOf(text: string | undefined): Date {
  const now = text ? new Date(text) : new Date();
  if (Number.isNaN(now.getTime())) throw new MssError('USAGE_NOW', `--now ${text}: expected an ISO 8601 date such as 2025-04-01T00:30:00+02:00`);
  return now;
}

const monthOrDefault = (text: string | undefined, cfg: Config, now: Date): Month => (text ? parseMonth(text) : reportedMonth(now, cfg.operator.timeZone));

async function withStore<T>(cfg: Config, fn: (store: StateStore) => Promise<T>): Promise<T> {
  const store = openJobStore(cfg);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** Where a printer writes: the command's output (CliContext.out). */
type Write = (s: string) => unknown;

function printBuild(out: Write, b: BuildResult): void {
  out(`built ${b.month} (${b.range.start} → ${b.range.end}, ${b.range.timeZone}) in ${b.dir}\n`);
  for (const f of b.files) out(`  ${f.name}\t${f.lines} lines\n`);
  const e = b.echanges;
  out(
    `  Echanges: ${e.messages} messages, ${e.lines} lines; left out: ${e.left.nullSender} null-sender, ${e.left.notSent} never sent, ${e.left.testRecipient} to test mailboxes, ${
      Object.entries(e.left.excludedSender)
        .map(([k, v]) => `${v} ${k}`)
        .join(', ') || '0 from excluded mailboxes'
    }, ${e.left.foreignSender} foreign senders\n`,
  );
  if (e.unknownSenders) out(`  warning: ${e.unknownSenders} messages from addresses of our domains that are not in the registry (counted)\n`);
  if (e.insDropped) out(`  warning: ${e.insDropped} X-MSS-INS values other than O/N written empty\n`);
  const c = b.connexions;
  out(`  Connexions: ${c.lines} mailboxes (${c.neverConnected} never connected, ${c.unknown} unknown, ${c.fromExchange} APP by last exchange)\n`);
  out(`  archive ${b.archive.file} (${b.archive.bytes} bytes, sha256 ${b.archive.sha256})\n`);
}

async function printCheck(out: Write, check: ArchiveCheck, json: boolean | undefined, title: string): Promise<number> {
  const { checkToCompteRendu, interpretReport, renderReport } = await import('../stats/report.js');
  const outcome = interpretReport(checkToCompteRendu(check, { domaines: [] }, {}));
  if (json) out(`${JSON.stringify({ ok: !check.blocking, ...outcome }, null, 2)}\n`);
  else out(renderReport(outcome, title));
  return check.blocking ? EXIT.FAILED : EXIT.OK;
}

export function registerStatsCommands(program: Command, ctx: () => CliContext): void {
  const out: Write = (s) => ctx().out.write(s);
  const stats = program.command('stats').description('monthly usage statistics (Echanges, Connexions) and their upload to SIPIL');

  stats
    .command('build')
    .description('write the Echanges and Connexions files of every managed domain, and their ZIP')
    .option('--month <YYYY-MM>', 'the month (default: the previous month in operator.timeZone)')
    .option('--now <iso>', 'build time (delivery attempts are read up to it); default: now')
    .option('--out <dir>', 'output directory (default: <stats.dir>/<AAAAMM>)')
    .option('--json', 'print the build summary as JSON')
    .action(
      action(async (opts: { month?: string; now?: string; out?: string; json?: boolean }) => {
        const cfg = ctx().config();
        const now = nowOf(opts.now);
        const month = monthOrDefault(opts.month, cfg, now);
        const registry = loadRegistryFrom(cfg);
        const b = await withStore(cfg, (store) => buildMonth({ config: cfg, registry, store, month, now, ...(opts.out ? { outDir: opts.out } : {}) }));
        if (opts.json) out(`${JSON.stringify(b, null, 2)}\n`);
        else printBuild(out, b);
      }),
    );

  stats
    .command('validate')
    .description('replay the SIPIL controls (§9.7.4.4) on a directory of built files or a ZIP; exit 1 on blocking errors')
    .argument('<target>', 'a directory (stats build output) or a .zip')
    .option('--now <iso>', 'processing date for the period control; default: now')
    .option('--json', 'print the report as JSON')
    .action(
      action(async (target: string, opts: { now?: string; json?: boolean }) => {
        const cfg = ctx().config();
        const { validateTarget } = await import('../stats/job.js');
        const check = await withStore(cfg, (store) => validateTarget(cfg, store, target, nowOf(opts.now)));
        return printCheck(out, check, opts.json, `local replay of the SIPIL controls on ${target}`);
      }),
    );

  stats
    .command('upload')
    .description("deposit a month's archive on SIPIL (classic up to 70 Mo, segmented above); refuses blocking errors unless --force")
    .option('--month <YYYY-MM>', 'the month (default: the previous month)')
    .option('--archive <zip>', 'another archive than the one `stats build` wrote')
    .option('--force', 'send even with blocking errors')
    .option('--now <iso>', 'processing date for the local controls; default: now')
    .option('--json', 'print the outcome as JSON')
    .action(
      action(async (opts: { month?: string; archive?: string; force?: boolean; now?: string; json?: boolean }) => {
        const c = ctx();
        const cfg = c.config();
        const now = nowOf(opts.now);
        const id = monthId(monthOrDefault(opts.month, cfg, now));
        const { uploadMonth } = await import('../stats/job.js');
        const r = await withStore(cfg, (store) =>
          uploadMonth(cfg, store, id, { now, log: c.log, ...(opts.force ? { force: true } : {}), ...(opts.archive ? { archive: opts.archive } : {}) }),
        );
        if (opts.json)
          out(
            `${JSON.stringify({ ok: true, month: r.month, forced: r.forced, mode: r.upload.mode, parts: r.upload.parts, restarts: r.upload.restarts, depot: r.upload.depot }, null, 2)}\n`,
          );
        else
          out(
            `deposited ${r.month} (${r.upload.mode}${r.upload.mode === 'segmented' ? `, ${r.upload.parts} parts` : ''}${r.forced ? ', FORCED despite blocking errors' : ''}): Id ${r.upload.depot.id}, archive ${r.upload.depot.nomArchive ?? '?'} — « ${r.upload.depot.message ?? ''} »\n`,
          );
      }),
    );

  stats
    .command('report')
    .description('getReport: read the compte rendu of a deposit; exit 1 when KO, 3 when not ready (ask again 12 h later)')
    .option('--month <YYYY-MM>', "the month's last deposit (default: the previous month)")
    .option('--id <id>', 'a deposit Id')
    .option('--now <iso>', 'default: now')
    .option('--json', 'print the report as JSON')
    .action(
      action(async (opts: { month?: string; id?: string; now?: string; json?: boolean }) => {
        const cfg = ctx().config();
        const now = nowOf(opts.now);
        const month = opts.id && !opts.month ? undefined : monthId(monthOrDefault(opts.month, cfg, now));
        const [{ reportOf }, { renderReport }] = await Promise.all([import('../stats/job.js'), import('../stats/report.js')]);
        const r = await withStore(cfg, (store) => reportOf(cfg, store, { ...(opts.id ? { id: opts.id } : {}), ...(month ? { month } : {}) }, { now }));
        if (opts.json) out(`${JSON.stringify({ ok: r.verdict === 'accepted', ...r }, null, 2)}\n`);
        else out(renderReport(r, `SIPIL report of deposit ${r.id ?? '?'}${r.savedTo ? ` (saved to ${r.savedTo})` : ''}`));
        return r.verdict === 'accepted' ? EXIT.OK : r.verdict === 'pending' ? EXIT.TEMPORARY : EXIT.FAILED;
      }),
    );

  oncePerOption(stats.command('run'))
    .description('the scheduled job (days 1–5): build, check, upload, read the report, resubmit after blocking errors; idempotent')
    .option('--now <iso>', 'act as of this date (tests, catching up); default: now')
    .option('--json', 'print the outcome as JSON')
    .action(
      action(async (opts: { now?: string; json?: boolean; oncePer?: string }) => {
        const c = ctx();
        const cfg = c.config();
        const now = nowOf(opts.now);
        const { runStatsSchedule } = await import('../stats/schedule.js');
        return withStore(cfg, (store) =>
          scheduled(
            { cfg, log: c.log, out: c.out, store, job: 'stats', oncePer: opts.oncePer, now },
            () =>
              runStatsSchedule(
                {
                  config: cfg,
                  store,
                  log: c.log,
                  registry: () => loadRegistryFrom(cfg),
                  ...(cfg.state.redis ? { beforeBuild: (month: Month) => assertJournalComplete(store, month, cfg.operator.timeZone) } : {}),
                },
                now,
              ),
            (r) => {
              if (opts.json) out(`${JSON.stringify(r, null, 2)}\n`);
              else {
                out(
                  `stats run as of ${r.now} (day ${r.localDay}) for ${r.month}: ${r.state}${r.late ? ' — DEADLINE MISSED' : r.atRisk ? ' — DEADLINE AT RISK' : ''}\n`,
                );
                for (const a of r.actions) out(`  ${a}\n`);
              }
              return r.ok ? EXIT.OK : r.problem && /^TEMPORARY_/.test(r.problem.code) && !r.late && !r.atRisk ? EXIT.TEMPORARY : EXIT.FAILED;
            },
          ),
        );
      }),
    );
}
