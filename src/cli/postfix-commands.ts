// `mss-sidecar postfix check-routes`: does Postfix hand every listed MSSanté domain that is
// not ours to the outbound gate? (EX_3.2_5040, EX_3.2_5060; docs/install.md, "The perimeter").
// Exit 0: every route goes to the gate; 1: at least one does not (listed); 2: configuration.
import type { Command } from 'commander';
import { checkConfiguredRoutes, describeProblem } from '../perimeter/route-check.js';
import type { CliContext } from './context.js';
import { action, EXIT } from './run-action.js';

export function registerPostfixCommands(program: Command, ctx: () => CliContext): void {
  const postfix = program.command('postfix').description('check the Postfix side of the perimeter');
  postfix
    .command('check-routes')
    .description(
      'report every domain of the liste blanche (not ours) that Postfix would not hand to the outbound gate: transport_maps, relay_domains, sender-dependent maps, default_transport',
    )
    .option('--postfix-config <dir>', "the Postfix configuration to check (default: gates.out.postfixConfigDir, else Postfix's own)")
    .option('--json', 'print the report as JSON')
    .action(
      action(async (opts: { postfixConfig?: string; json?: boolean }) => {
        const c = ctx();
        const report = await checkConfiguredRoutes(c.config(), c.log, opts.postfixConfig);
        if (opts.json) ctx().out.write(`${JSON.stringify(report, null, 2)}\n`);
        else {
          for (const p of report.problems) ctx().out.write(`AROUND THE GATE  ${describeProblem(p, report.sendersChecked)}\n`);
          ctx().out.write(
            report.problems.length === 0
              ? `ok: the ${report.domainsChecked} listed MSSanté domains not ours go to the outbound gate (${report.gate}) for the ${report.sendersChecked} senders checked\n`
              : `${report.problems.length} route(s) bypass the outbound gate (${report.gate}): fix transport_maps, relay_domains or the sender-dependent maps (docs/gates.md)\n`,
          );
        }
        return report.problems.length === 0 ? EXIT.OK : EXIT.FAILED;
      }),
    );
}
