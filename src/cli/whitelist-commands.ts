// `mss-sidecar whitelist verify | lookup | sync` (TM4.1P, docs/whitelist.md). Every one of
// them verifies with the policy whitelistSetup() builds from the configuration (trust store,
// CRLs of trust.crlDir and crl.requireCurrent, signer, bounds, date skew); `--trust DIR`
// replaces only the trust store, `--crl-dir DIR` only the CRLs. `verify FILE --trust DIR`
// without a configuration applies the defaults (CRLs: --crl-dir, or the crl/ of a `sandbox pki`
// output; none: the signer is refused, crl.requireCurrent) and loads neither the configuration
// schema nor the logger, so that it starts fast (docs/whitelist.md, Figures).
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { configPathFrom } from '../config/path.js';
import { MssError } from '../errors.js';
import type { VerifiedWhitelist, VerifyPolicy } from '../whitelist/verify.js';
import { prepareContext, preparesItsOwnContext, type CliContext } from './context.js';
import type { CliOutput } from './io.js';
import { action, EXIT, exitCodeFor } from './run-action.js';

/**
 * Is there a configuration to read? Named with --config (then it must exist), or present at
 * the default place: MSS_SIDECAR_CONFIG when set, else /etc/mss-sidecar/config.yaml.
 */
function configAvailable(program: Command): boolean {
  return program.opts<{ config?: string }>().config !== undefined || fs.existsSync(configPathFrom());
}

/** `--crl-dir DIR`, else the crl/ of a `sandbox pki` output given to --trust (beside its trust/). */
function crlDirFor(trustDir: string | undefined, crlDir: string | undefined): string | undefined {
  if (crlDir !== undefined) return path.resolve(crlDir);
  if (trustDir === undefined) return undefined;
  const nested = path.join(path.resolve(trustDir), 'crl');
  return fs.existsSync(path.join(path.resolve(trustDir), 'trust')) && fs.existsSync(nested) ? nested : undefined;
}

/**
 * The verification policy: the configuration's (whitelistSetup), with `--trust DIR` as the
 * trust store and `--crl-dir DIR` as the CRLs when given. Without a configuration (only with
 * --trust), the defaults — crl.requireCurrent included: without CRLs the signer is refused.
 */
async function policyFor(program: Command, ctx: () => CliContext, trustDir: string | undefined, crlDirOption?: string): Promise<VerifyPolicy> {
  const { NO_REVOCATION_INFO, resolveTrustDir, TrustStore } = await import('../pki/truststore.js');
  const trust = trustDir === undefined ? undefined : TrustStore.fromDir(resolveTrustDir(path.resolve(trustDir)));
  const crlDir = crlDirFor(trustDir, crlDirOption);
  if (trust && !configAvailable(program)) {
    const { DEFAULT_ANS_SIGNER_SUBJECT, DEFAULT_MAX_BYTES } = await import('../whitelist/defaults.js');
    // EX_2.2_5050: the default policy of crl.requireCurrent (true), like a configured node.
    const revocation = crlDir ? await (await import('../pki/crl.js')).RevocationStore.fromDir(crlDir, trust) : NO_REVOCATION_INFO;
    return { trust, signer: DEFAULT_ANS_SIGNER_SUBJECT, maxBytes: DEFAULT_MAX_BYTES, revocation, requireCurrentCrl: true };
  }
  await prepareContext(true);
  const { whitelistSetup } = await import('../whitelist/from-config.js');
  // EX_2.2_5050: the same policy as sync and the daemons, CRLs included (trust.crlDir).
  return (await whitelistSetup(ctx().config(), { ...(trust ? { trust } : {}), ...(crlDirOption !== undefined && crlDir ? { crlDir } : {}) })).policy;
}

function readList(file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw new MssError('USAGE_FILE', `cannot read ${file}: ${(err as Error).message}`, { file });
  }
}

async function verifyFile(err: CliOutput, file: string, policy: VerifyPolicy): Promise<VerifiedWhitelist> {
  const { verifyWhitelist } = await import('../whitelist/verify.js');
  const v = verifyWhitelist(readList(file), { ...policy, source: file });
  for (const s of v.index.skipped) err.write(`warning WL_ENTRY_SKIPPED: ${file}: Domaine #${s.position} skipped: ${s.reason}\n`);
  if (v.unchecked) err.write(`warning ${v.unchecked.code}: ${v.unchecked.message}\n`);
  return v;
}

export function registerWhitelistCommands(program: Command, ctx: () => CliContext): void {
  const wl = program.command('whitelist').description('liste blanche (TM4.1P): verify, look up, download');

  preparesItsOwnContext(
    wl
      .command('verify')
      .description('verify a liste blanche file: signature, signer (PKIX, ANS), shape')
      .argument('<file>', 'the XML file')
      .option('--trust <dir>', 'CA directory (or a `sandbox pki` output dir); makes the configuration optional')
      .option('--crl-dir <dir>', 'CRLs to check the signer against, instead of trust.crlDir (default with a `sandbox pki` dir: its crl/)')
      .option('--json', 'print {"domains":N,"dns":M,"generated":"…"}')
      .action(
        action(async (file: string, opts: { trust?: string; crlDir?: string; json?: boolean }) => {
          const v = await verifyFile(ctx().err, file, await policyFor(program, ctx, opts.trust, opts.crlDir));
          const summary = { domains: v.index.domainCount, dns: v.index.dnCount, generated: v.index.generated };
          ctx().out.write(opts.json ? `${JSON.stringify(summary)}\n` : `domains=${summary.domains} dns=${summary.dns} generated=${summary.generated}\n`);
        }),
      ),
  );

  preparesItsOwnContext(
    wl
      .command('lookup')
      .description('print the DNs of a domain, or the domains of a DN (argument containing "="), one per line')
      .argument('<query>', 'a domain (ch-exemple.mssante.fr) or a DN (CN=…,OU=…,O=…,ST=…,C=FR)')
      .option('--file <file>', 'a list file instead of the last valid copy of the configuration')
      .option('--trust <dir>', 'CA directory for --file (or a `sandbox pki` output dir)')
      .option('--crl-dir <dir>', 'CRLs for --file, instead of trust.crlDir (default with a `sandbox pki` dir: its crl/)')
      .option('--json', 'print {"query":…,"kind":"domain"|"dn","results":[…]}')
      .action(
        action(async (query: string, opts: { file?: string; trust?: string; crlDir?: string; json?: boolean }) => {
          let file = opts.file;
          if (file === undefined) {
            // Without --file: the last valid copy, verified again before use (RE_2.2_5010).
            await prepareContext(true);
            const { whitelistPaths } = await import('../whitelist/store.js');
            file = whitelistPaths(ctx().config().state.dir).file;
          }
          const { index } = await verifyFile(
            ctx().err,
            file,
            await policyFor(program, ctx, opts.file ? opts.trust : undefined, opts.file ? opts.crlDir : undefined),
          );
          const kind = query.includes('=') ? 'dn' : 'domain';
          const results = kind === 'dn' ? index.domainsOf(query) : index.dnsOf(query);
          if (opts.json) ctx().out.write(`${JSON.stringify({ query, kind, results })}\n`);
          else for (const r of results) ctx().out.write(`${r}\n`);
          if (results.length === 0) {
            throw new MssError('WL_NOT_LISTED', `${kind === 'dn' ? 'DN' : 'domain'} ${query} is not in the liste blanche generated ${index.generated}`, {
              query,
            });
          }
        }),
      ),
  );

  wl.command('sync')
    .description('download, verify and store the liste blanche; on failure keep the last valid copy (exit 3: retry later)')
    .option('--accept-older', 'accept a validly signed list older than the one in use (after the ANS published a wrongly dated list)')
    .option('--json', 'print the outcome as JSON')
    .action(
      action(async (opts: { acceptOlder?: boolean; json?: boolean }) => {
        const c = ctx();
        const config = c.config();
        const { whitelistSetup } = await import('../whitelist/from-config.js');
        const { syncWhitelist } = await import('../whitelist/sync.js');
        const setup = await whitelistSetup(config);
        const r = await syncWhitelist({
          url: config.whitelist.url,
          policy: setup.policy,
          timeoutMs: config.whitelist.timeoutMs,
          maxAgeHours: config.whitelist.maxAgeHours,
          paths: setup.paths,
          log: c.log,
          ...(opts.acceptOlder ? { acceptOlder: true } : {}),
        });
        if (r.outcome === 'failed') {
          if (opts.json) ctx().out.write(`${JSON.stringify({ ok: false, error: r.error.toJSON(), kept: r.kept ?? null })}\n`);
          ctx().err.write(`error ${r.error.code}: ${r.error.message}\n`);
          ctx().err.write(
            r.kept
              ? `the last valid copy (generated ${r.kept.generated ?? '?'}, confirmed ${Math.round(r.kept.ageHours ?? 0)} h ago) stays in use\n`
              : 'no valid copy is available yet\n',
          );
          return exitCodeFor(r.error.code);
        }
        const rec = r.record;
        // EX_3.2_5040: the list's domains must leave through the outbound gate (docs/gates.md).
        await (await import('../perimeter/route-check.js')).warnAboutRoutes(config, c.log);
        if (opts.json) ctx().out.write(`${JSON.stringify({ ok: true, outcome: r.outcome, ...rec })}\n`);
        else ctx().out.write(`${r.outcome} domains=${rec.domains} dns=${rec.dns} generated=${rec.generated} file=${setup.paths.file}\n`);
        return EXIT.OK;
      }),
    );
}
