// `mss-sidecar crl sync | status` (EX_OPE_5050, docs/gates.md): download and verify the
// IGC-Santé CRLs into trust.crlDir; show which CA has a current CRL.
import type { Command } from 'commander';
import { MssError } from '../errors.js';
import { describeCert } from '../pki/certificate.js';
import { RevocationStore } from '../pki/crl.js';
import { syncCrls } from '../pki/crl-sync.js';
import { TrustStore } from '../pki/truststore.js';
import type { CliContext } from './context.js';
import { action, EXIT, exitCodeFor } from './run-action.js';

function crlDirOf(c: CliContext): string {
  const dir = c.config().trust.crlDir;
  if (!dir) throw new MssError('CONFIG_CRL_DIR', 'trust.crlDir is not set: say where `crl sync` keeps the verified CRLs');
  return dir;
}

export function registerCrlCommands(program: Command, ctx: () => CliContext): void {
  const crl = program.command('crl').description('IGC-Santé revocation lists (EX_OPE_5050): download, verify, store; status');

  crl
    .command('sync')
    .description('download crl.urls, verify each signature with the trust store, store them in trust.crlDir (exit 3: retry later)')
    .option('--json', 'print the outcome of each URL as JSON')
    .action(
      action(async (opts: { json?: boolean }) => {
        const c = ctx();
        const config = c.config();
        if (config.crl.urls.length === 0)
          throw new MssError('CONFIG_CRL_URLS', 'crl.urls is empty: list the full and delta CRLs of the IGC-Santé CAs of trust.dir');
        const items = await syncCrls({
          urls: config.crl.urls,
          dir: crlDirOf(c),
          trust: TrustStore.fromDir(config.trust.dir),
          timeoutMs: config.crl.timeoutMs,
          maxBytes: config.crl.maxBytes,
          log: c.log,
        });
        if (opts.json)
          ctx().out.write(`${JSON.stringify(items.map((i) => (i.outcome === 'failed' ? { url: i.url, outcome: i.outcome, error: i.error.toJSON() } : i)))}\n`);
        else
          for (const i of items)
            ctx().out.write(
              i.outcome === 'failed'
                ? `failed ${i.url} ${i.error.code}: ${i.error.message}\n`
                : `${i.outcome} ${i.url} ${i.delta ? 'delta ' : ''}issuer="${i.issuer}" thisUpdate=${i.thisUpdate} nextUpdate=${i.nextUpdate ?? '-'}\n`,
            );
        const failures = items.filter((i) => i.outcome === 'failed');
        if (failures.length === 0) return EXIT.OK;
        return failures.every((f) => f.outcome === 'failed' && exitCodeFor(f.error.code) === EXIT.TEMPORARY) ? EXIT.TEMPORARY : EXIT.FAILED;
      }),
    );

  crl
    .command('status')
    .description('for each CA of the trust store: is there a current CRL in trust.crlDir (exit 1 if one has none)')
    .option('--json', 'print the status as JSON')
    .action(
      action(async (opts: { json?: boolean }) => {
        const c = ctx();
        const config = c.config();
        const trust = TrustStore.fromDir(config.trust.dir);
        const store = await RevocationStore.fromDir(crlDirOf(c), trust);
        const now = new Date();
        const rows = trust.certificates.map((ca) => {
          const full = store.crls.find((x) => x.issuer.fingerprint256 === ca.fingerprint256);
          const delta = store.deltas.find((x) => x.issuer.fingerprint256 === ca.fingerprint256);
          return {
            ca: describeCert(ca),
            current: store.isCurrent(ca, now),
            nextUpdate: full?.nextUpdate?.toISOString() ?? null,
            deltaNextUpdate: delta?.nextUpdate?.toISOString() ?? null,
            revoked: full?.revoked.size ?? 0,
          };
        });
        for (const p of store.problems) ctx().err.write(`warning ${p.code}: ${p.message}\n`);
        if (opts.json) ctx().out.write(`${JSON.stringify(rows)}\n`);
        else for (const r of rows) ctx().out.write(`${r.current ? 'current' : 'MISSING'} ${r.ca} nextUpdate=${r.nextUpdate ?? '-'} revoked=${r.revoked}\n`);
        return rows.every((r) => r.current) ? EXIT.OK : EXIT.FAILED;
      }),
    );
}
