// `mss-sidecar status`: the supervision checks (EX_SSI_5120) as a person or a monitoring
// plugin reads them. Exit 0 when nothing is critical, 1 otherwise; warnings are printed.
import type { Command } from 'commander';
import { runHealthChecks, worstSeverity, type CheckResult } from '../health/checks.js';
import type { CliContext } from './context.js';
import { action, EXIT } from './run-action.js';

const MARK: Record<CheckResult['severity'], string> = { ok: 'OK  ', warning: 'WARN', critical: 'CRIT', unknown: '??  ' };

export function registerStatusCommand(program: Command, ctx: () => CliContext): void {
  program
    .command('status')
    .description('check what supervision must watch: liste blanche age, CRLs, certificate expiry, CA fingerprints, key permissions, clock')
    .option('--json', 'print the checks as JSON')
    .option('--now <iso>', 'evaluate at this time (tests)')
    .action(
      action(async (opts: { json?: boolean; now?: string }) => {
        const results = await runHealthChecks(ctx().config(), opts.now ? new Date(opts.now) : new Date());
        const worst = worstSeverity(results);
        if (opts.json) process.stdout.write(`${JSON.stringify({ worst, checks: results }, null, 2)}\n`);
        else {
          for (const r of results) process.stdout.write(`${MARK[r.severity]}  ${r.check.padEnd(20)} ${r.detail}\n`);
          process.stdout.write(`overall: ${worst}\n`);
        }
        return worst === 'critical' ? EXIT.FAILED : EXIT.OK;
      }),
    );
}
