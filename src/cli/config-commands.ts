// `mss-sidecar config check`: the configuration file against its schema, then every file it
// names as the service user will use it (health/config-files.ts). Exit 2 names each key at
// fault; install.md runs it before starting and before an upgrade. Warnings (WARN lines, the
// JSON's `warnings`) leave the exit status alone.
import type { Command } from 'commander';
import { MssError } from '../errors.js';
import { identityName, resolveIdentity } from '../health/as-user.js';
import { checkConfigFiles } from '../health/config-files.js';
import { describeTakeable, takeableListeners, unprivilegedPortStart } from '../perimeter/takeable-ports.js';
import type { CliContext } from './context.js';
import { finessJuridiqueWarning } from '../registry/finess-juridique-warning.js';
import { EXIT, action } from './run-action.js';

export function registerConfigCommands(program: Command, ctx: () => CliContext): void {
  const config = program.command('config').description('inspect the configuration file');
  config
    .command('check')
    .description(
      'validate the configuration, then open every file it names as the service user would (exists, readable, key matches certificate, chains to trust.dir, not expired)',
    )
    .option('--json', 'print {ok, files, config} with every default filled in')
    .option('--user <name>', 'check the files as this Unix user (default: mss-sidecar when run as root, yourself otherwise)')
    .action(
      action((opts: { json?: boolean; user?: string }) => {
        const c = ctx();
        const cfg = c.config();
        const id = resolveIdentity(opts.user);
        if (id.kind === 'unknown-user')
          throw new MssError('USAGE_USER', `no Unix user ${id.name}: create the service user (install.md step 1) or name another with --user`);
        if (id.kind === 'self' && id.note) ctx().err.write(`warning: ${id.note}\n`);
        const files = checkConfigFiles(cfg, id);
        const bad = files.filter((f) => !f.ok);
        // A warning, not a failure: a site may choose it knowingly (no other local users).
        const start = unprivilegedPortStart();
        const takeable = takeableListeners(cfg, start);
        // EX_PBA_5011: the registry rules cannot tell a FINESS juridique without operator.finessJuridique.
        const finess = finessJuridiqueWarning(cfg.operator);
        if (opts.json) {
          const warnings = [...takeable.map((l) => ({ key: l.key, detail: describeTakeable(l) })), ...(finess ? [finess] : [])];
          ctx().out.write(`${JSON.stringify({ ok: bad.length === 0, user: identityName(id), files, warnings, config: cfg }, octalModes, 2)}\n`);
        } else {
          for (const f of files) ctx().out.write(`${f.ok ? 'OK  ' : 'FAIL'}  ${f.key.padEnd(28)} ${f.detail}\n`);
          for (const l of takeable)
            ctx().out.write(
              `WARN  ${l.key.padEnd(28)} ${l.host}:${l.port} can be bound by any local user (ports from ${start} up) while its owner is stopped: ${l.risk}; use a unix socket or a port below ${start} (docs/install.md, "The perimeter")\n`,
            );
          if (finess) ctx().out.write(`WARN  ${finess.key.padEnd(28)} ${finess.code}: ${finess.detail}\n`);
          if (bad.length === 0)
            ctx().out.write(`configuration ${c.configPath} is valid, its files usable by ${identityName(id)} (domains: ${cfg.operator.domains.join(', ')})\n`);
        }
        if (bad.length === 0) return EXIT.OK;
        ctx().err.write(`error CONFIG_FILES: ${bad.map((f) => `${f.key}: ${f.detail}`).join('\n  ')}\n`);
        return EXIT.CONFIG;
      }),
    );
}

/** File modes read as octal by people: "0660", not 432. */
function octalModes(key: string, value: unknown): unknown {
  return /mode$/i.test(key) && typeof value === 'number' ? `0${value.toString(8)}` : value;
}
