// `mss-sidecar lifecycle run`: the daily job (systemd/mss-sidecar-lifecycle.timer).
import type { Command } from 'commander';
import { MssError } from '../errors.js';
import { createNoticeSender } from '../lifecycle/notices.js';
import { runLifecycle, type LifecycleReport } from '../lifecycle/run.js';
import { loadOptionsFrom, openTraceLog } from '../registry/open.js';
import type { CliContext } from './context.js';
import type { CliOutput } from './io.js';
import { resolveActor } from './actor.js';
import { EXIT, action } from './run-action.js';
import { oncePerOption, openJobStore, scheduled } from './scheduled.js';

export function registerLifecycleCommands(program: Command, ctx: () => CliContext): void {
  const lifecycle = program.command('lifecycle').description('mailbox lifecycle: inactivity notices, depublication, deletion, auto-reply purge');
  oncePerOption(lifecycle.command('run'))
    .description('do what is due today (idempotent: a second run the same day does nothing new)')
    .option('--dry-run', 'print what would be done, change nothing, send nothing')
    .option('--confirm <n>', 'go ahead with exactly N notices and deletions when they exceed lifecycle.maxActionsPerRun (N as --dry-run counts them)')
    .option('--now <iso>', 'the date to act as of (tests, catching up); default: now')
    .option('--actor <name>', 'who runs it (the timer passes system:lifecycle; default: the Unix user)')
    .option('--json', 'print the report as JSON')
    .action(
      action(async (opts: { dryRun?: boolean; confirm?: string; now?: string; actor?: string; json?: boolean; oncePer?: string }) => {
        const c = ctx();
        const cfg = c.config();
        const now = opts.now ? new Date(opts.now) : new Date();
        if (Number.isNaN(now.getTime())) throw new MssError('USAGE_NOW', `--now ${opts.now}: expected an ISO 8601 date such as 2025-06-01T03:00:00Z`);
        if (opts.confirm !== undefined && !/^\d+$/.test(opts.confirm))
          throw new MssError(
            'USAGE_CONFIRM',
            `--confirm ${opts.confirm}: expected the number of notices and deletions to confirm, as \`lifecycle run --dry-run\` counts them`,
          );
        const store = openJobStore(cfg);
        const traces = openTraceLog(cfg);
        const notices = createNoticeSender(cfg.lifecycle.notices, {
          timeZone: cfg.operator.timeZone,
          signature: cfg.lifecycle.notices.signature ?? cfg.operator.name,
          commandTimeoutMs: cfg.lifecycle.commandTimeoutMs,
        });
        try {
          const run = () =>
            runLifecycle(
              {
                file: cfg.registry.file,
                load: loadOptionsFrom(cfg),
                store,
                traces,
                notices,
                config: cfg.lifecycle,
                stats: cfg.stats,
                actor: resolveActor(opts.actor),
                log: c.log,
              },
              { now, ...(opts.dryRun ? { dryRun: true } : {}), ...(opts.confirm !== undefined ? { confirm: Number(opts.confirm) } : {}) },
            );
          const oncePer = opts.dryRun ? undefined : opts.oncePer;
          return await scheduled({ cfg, log: c.log, out: c.out, store, job: 'lifecycle', oncePer, now }, run, (report) => {
            print(c.out, report, opts.json);
            return report.ok ? EXIT.OK : EXIT.FAILED;
          });
        } finally {
          notices.close();
          traces.close();
          await store.close();
        }
      }),
    );
}

function print(out: CliOutput, r: LifecycleReport, json?: boolean): void {
  if (json) {
    out.write(`${JSON.stringify(r, null, 2)}\n`);
    return;
  }
  out.write(`lifecycle ${r.dryRun ? 'dry run' : 'run'} as of ${r.now}\n`);
  out.write(`  inactivity counted from ${r.activityKnownSince} at the earliest\n`);
  for (const a of r.actions) {
    const what =
      a.action === 'notice'
        ? `notice (${a.notice === 'delete' ? 'deletion' : "dépublication pour cause d'inactivité"})`
        : a.action === 'blocked'
          ? `BLOCKED ${a.notice} notice`
          : a.action;
    const tail = [a.to ? `to ${a.to}` : '', a.scheduledFor ? `planned from ${a.scheduledFor.slice(0, 10)}` : '', a.detail ?? ''].filter(Boolean).join('; ');
    out.write(`  ${a.ok || a.action === 'blocked' ? '' : 'FAILED '}${what}\t${a.bal}${tail ? `\t${tail}` : ''}\n`);
  }
  if (r.actions.length === 0 && r.summary.length === 0) out.write('  nothing to do\n');
  if (r.summary.length > 0) {
    out.write(`summary${r.dryRun ? ' (planned)' : ''}:\n`);
    for (const s of r.summary)
      out.write(`  ${SUMMARY_LABEL[s.action] ?? s.action}\t${s.action.startsWith('notice') ? `planned from ${s.date}` : s.date}\t${s.count}\n`);
  }
  if (r.stopped) out.write(`${r.dryRun ? 'a real run would stop' : 'STOPPED'}: ${r.stopped.reason}\n`);
}

const SUMMARY_LABEL: Record<string, string> = {
  'notice:depublish': 'notice of depublication',
  'notice:delete': 'notice of deletion',
  depublish: 'depublication',
  delete: 'deletion',
  purge: 'auto-reply purge',
  'blocked:depublish': 'blocked depublication notice',
  'blocked:delete': 'blocked deletion notice',
};
