// `mss-sidecar autoconfig check [DOMAIN…]` — TM5.1P (EX_LPS_0300): are the four SRV records
// of each managed domain published, and what exactly should the zone contain?
import type { Command } from 'commander';
import { checkDomain, srvResolver, type DomainReport, type EntryPoints } from '../autoconfig/srv-check.js';
import { MssError } from '../errors.js';
import type { CliContext } from './context.js';
import { action, EXIT } from './run-action.js';

interface CheckOptions {
  imapPsc?: string;
  imapAuthcli?: string;
  submissionPsc?: string;
  submissionAuthcli?: string;
  weight?: string;
  resolver?: string[];
  dnsTimeout?: string;
  json?: boolean;
}

export function registerAutoconfigCommands(program: Command, ctx: () => CliContext): void {
  const autoconfig = program.command('autoconfig').description('API LPS autoconfiguration through DNS SRV records (TM5.1P)');
  autoconfig
    .command('check [domains...]')
    .description('check the four SRV records of each domain (default: operator.domains) and print the zone lines to publish')
    .option('--imap-psc <host>', 'IMAP entry point for PSC logins (priority 10); default auth.entryPoints.imap.psc')
    .option('--imap-authcli <host>', 'IMAP entry point for AUTH-CLI logins (priority 20)')
    .option('--submission-psc <host>', 'submission entry point for PSC logins (priority 10)')
    .option('--submission-authcli <host>', 'submission entry point for AUTH-CLI logins (priority 20)')
    .option('--weight <n>', 'weight of the four records (default auth.entryPoints.weight, 100)')
    .option('--resolver <server...>', 'DNS servers to ask, IP or IP:PORT (default auth.entryPoints.resolvers, else the system resolver)')
    .option('--dns-timeout <ms>', 'deadline of one DNS query attempt (two attempts per name)', '3000')
    .option('--json', 'print the reports as JSON')
    .action(
      action(async (domains: string[], opts: CheckOptions) => {
        const needConfig = domains.length === 0 || !opts.imapPsc || !opts.imapAuthcli || !opts.submissionPsc || !opts.submissionAuthcli;
        const cfg = needConfig ? ctx().config() : undefined;
        const configured = cfg?.auth?.entryPoints;
        const entryPoints: EntryPoints = {
          imap: { psc: opts.imapPsc ?? configured?.imap.psc ?? '', authCli: opts.imapAuthcli ?? configured?.imap.authCli ?? '' },
          submission: { psc: opts.submissionPsc ?? configured?.submission.psc ?? '', authCli: opts.submissionAuthcli ?? configured?.submission.authCli ?? '' },
          weight: opts.weight !== undefined ? Number(opts.weight) : (configured?.weight ?? 100),
        };
        const missing = [entryPoints.imap.psc, entryPoints.imap.authCli, entryPoints.submission.psc, entryPoints.submission.authCli].some((h) => h === '');
        if (missing)
          throw new MssError(
            'USAGE_AUTOCONFIG_HOSTS',
            'the four entry-point host names are needed: set auth.entryPoints in the configuration or pass --imap-psc, --imap-authcli, --submission-psc and --submission-authcli',
          );
        if (!Number.isInteger(entryPoints.weight) || entryPoints.weight < 0 || entryPoints.weight > 65_535)
          throw new MssError('USAGE_AUTOCONFIG_WEIGHT', `--weight ${opts.weight}: expected an integer from 0 to 65535`);
        const targets = domains.length > 0 ? domains : (cfg?.operator.domains ?? []);
        const timeoutMs = Number(opts.dnsTimeout ?? 3000);
        if (!Number.isInteger(timeoutMs) || timeoutMs < 1)
          throw new MssError('USAGE_AUTOCONFIG_TIMEOUT', `--dns-timeout ${opts.dnsTimeout}: expected a positive number of milliseconds`);
        const resolver = srvResolver(opts.resolver ?? configured?.resolvers ?? [], timeoutMs);
        const reports: DomainReport[] = [];
        for (const domain of targets) reports.push(await checkDomain(domain, entryPoints, resolver));
        if (opts.json) ctx().out.write(`${JSON.stringify({ ok: reports.every((r) => r.ok), reports }, null, 2)}\n`);
        else ctx().out.write(render(reports));
        if (reports.some((r) => r.temporary)) return EXIT.TEMPORARY;
        return reports.every((r) => r.ok) ? EXIT.OK : EXIT.FAILED;
      }),
    );
}

function render(reports: DomainReport[]): string {
  const out: string[] = [];
  for (const r of reports) {
    out.push(
      r.ok ? `${r.domain}: the four SRV records are published (EX_LPS_0300)` : `${r.domain}: ${r.problems.length} problem${r.problems.length > 1 ? 's' : ''}`,
    );
    for (const p of r.problems) out.push(`  ${p.kind}: ${p.message}`);
    out.push(`  zone lines to publish for ${r.domain}:`);
    for (const line of r.zoneLines) out.push(`    ${line}`);
  }
  return `${out.join('\n')}\n`;
}
