// `mss-sidecar traces verify|prune`: integrity and retention of the functional traces
// (EX_GDT_5010, EX_GDT_5070) and retention of the message journal.
import type { Command } from 'commander';
import { MssError } from '../errors.js';
import { Journal } from '../journal/journal.js';
import { openStore } from '../store/open.js';
import { tracesDir } from '../traces/config.js';
import { pruneTraces } from '../traces/prune.js';
import { verifyTraces } from '../traces/verify.js';
import type { CliContext } from './context.js';
import { EXIT, action } from './run-action.js';

export function registerTracesCommands(program: Command, ctx: () => CliContext): void {
  const traces = program.command('traces').description('functional traces: integrity check and retention');
  traces
    .command('verify')
    .description('check every trace file chain and the manifest; exit 1 if anything was edited, deleted or cut')
    .option('--json', 'print the report as JSON')
    .action(
      action(async (opts: { json?: boolean }) => {
        const cfg = ctx().config();
        const dir = tracesDir(cfg.traces, cfg.state.dir);
        const r = await verifyTraces(dir);
        if (opts.json) ctx().out.write(`${JSON.stringify(r, null, 2)}\n`);
        else {
          for (const p of r.problems) ctx().out.write(`TAMPERED ${p.file}${p.line ? `:${p.line}` : ''}: ${p.message}\n`);
          for (const w of r.warnings) ctx().out.write(`warning ${w.file}: ${w.message}\n`);
          ctx().out.write(`${r.ok ? 'traces intact' : 'traces NOT intact'}: ${r.files} files, ${r.lines} lines checked in ${dir}\n`);
        }
        return r.ok ? EXIT.OK : EXIT.FAILED;
      }),
    );
  traces
    .command('prune')
    .description('remove trace days older than traces.retention (functional, technical) and journal days older than retention.journalDays')
    .option('--dry-run', 'print what would be removed')
    .option('--now <iso>', 'the date to act as of (tests)')
    .option('--json', 'print JSON')
    .action(
      action(async (opts: { dryRun?: boolean; now?: string; json?: boolean }) => {
        const cfg = ctx().config();
        const now = opts.now ? new Date(opts.now) : new Date();
        if (Number.isNaN(now.getTime())) throw new MssError('USAGE_NOW', `--now ${opts.now}: expected an ISO 8601 date`);
        const dir = tracesDir(cfg.traces, cfg.state.dir);
        const { functionalDays, technicalDays, journalDays } = cfg.traces.retention;
        const results = pruneTraces(dir, { functional: functionalDays, technical: technicalDays }, now, opts.dryRun);
        let journalRemoved = 0;
        const journalBefore = new Date(now.getTime() - journalDays * 86_400_000);
        if (!opts.dryRun) {
          const store = openStore(cfg.state);
          try {
            journalRemoved = await new Journal(store).prune(journalBefore);
          } finally {
            await store.close();
          }
        }
        if (opts.json)
          ctx().out.write(
            `${JSON.stringify({ dryRun: !!opts.dryRun, traces: results, journal: { before: journalBefore.toISOString().slice(0, 10), removedDays: journalRemoved } }, null, 2)}\n`,
          );
        else {
          for (const r of results)
            ctx().out.write(
              `${r.category}: ${r.removedDays.length} day(s) before ${r.before} ${opts.dryRun ? 'would be removed' : 'removed'}${r.removedDays.length ? ` (${r.removedDays[0]} … ${r.removedDays[r.removedDays.length - 1]})` : ''}\n`,
            );
          ctx().out.write(
            `journal: ${opts.dryRun ? 'not pruned (dry run)' : `${journalRemoved} day(s) before ${journalBefore.toISOString().slice(0, 10)} removed`}\n`,
          );
        }
      }),
    );
}
