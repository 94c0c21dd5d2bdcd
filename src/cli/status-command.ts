// `mss-sidecar status`: the supervision checks (EX_SSI_5120) as a person or a monitoring
// plugin reads them. Exit 0 when nothing is critical, 1 otherwise; warnings are printed.
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { runHealthChecks, thresholdsFrom, worstSeverity, type CheckResult } from '../health/checks.js';
import { resolveIdentity } from '../health/as-user.js';
import { openStore } from '../store/open.js';
import type { CliContext } from './context.js';
import { finessJuridiqueWarning } from '../registry/finess-juridique-warning.js';
import { action, EXIT } from './run-action.js';

const MARK: Record<CheckResult['severity'], string> = { ok: 'OK  ', warning: 'WARN', critical: 'CRIT', unknown: '??  ' };

export function registerStatusCommand(program: Command, ctx: () => CliContext): void {
  program
    .command('status')
    .description(
      'check what supervision must watch: liste blanche age, CRLs, certificate expiry, CA fingerprints, keys readable by the service user, clock, state store, lifecycle start date',
    )
    .option('--json', 'print the checks as JSON')
    .option('--now <iso>', 'evaluate at this time (tests)')
    .option('--user <name>', 'check file access as this Unix user (default: mss-sidecar when run as root, yourself otherwise)')
    .action(
      action(async (opts: { json?: boolean; now?: string; user?: string }) => {
        const config = ctx().config();
        // The embedded store is opened only if it exists: opening creates its directories,
        // and root running `status` must not create them owned by root.
        const embedded = path.join(config.state.dir, 'store', 'kv');
        const store = config.state.redis || fs.existsSync(embedded) ? openStore(config.state) : undefined;
        let results: CheckResult[];
        try {
          results = await runHealthChecks(config, opts.now ? new Date(opts.now) : new Date(), thresholdsFrom(config), {
            ...(store ? { store } : {}),
            identity: resolveIdentity(opts.user),
          });
        } finally {
          await store?.close();
        }
        // EX_PBA_5011: said here too, where supervision looks (a warning: exit status unchanged).
        const finess = finessJuridiqueWarning(config.operator);
        if (finess) results.push({ check: finess.key, severity: 'warning', detail: `${finess.code}: ${finess.detail}`, requirement: finess.requirement });
        const worst = worstSeverity(results);
        if (opts.json) ctx().out.write(`${JSON.stringify({ worst, checks: results }, null, 2)}\n`);
        else {
          for (const r of results) ctx().out.write(`${MARK[r.severity]}  ${r.check.padEnd(20)} ${r.detail}\n`);
          ctx().out.write(`overall: ${worst}\n`);
        }
        return worst === 'critical' ? EXIT.FAILED : EXIT.OK;
      }),
    );
}
