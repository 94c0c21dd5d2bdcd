// `mss-sidecar whitelist verify | lookup | sync` (TM4.1P, docs/whitelist.md).
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { configPathFrom } from '../config/load.js';
import { MssError } from '../errors.js';
import { resolveTrustDir, TrustStore } from '../pki/truststore.js';
import { whitelistSection } from '../whitelist/config.js';
import { whitelistSetup } from '../whitelist/from-config.js';
import type { SignerSubject } from '../whitelist/signer-policy.js';
import { syncWhitelist } from '../whitelist/sync.js';
import { verifyWhitelist, type VerifiedWhitelist } from '../whitelist/verify.js';
import type { CliContext } from './context.js';
import { action, EXIT, exitCodeFor } from './run-action.js';

interface Material {
  trust: TrustStore;
  signer: SignerSubject;
  maxBytes: number;
}

/** Is there a configuration to read? Explicitly named, or present at the default place. */
function configAvailable(program: Command): boolean {
  const named = program.opts<{ config?: string }>().config ?? (process.env.MSS_SIDECAR_CONFIG || undefined);
  return named !== undefined || fs.existsSync(configPathFrom());
}

/** `--trust DIR` makes the configuration optional (its signer/maxBytes are used when present). */
async function material(program: Command, c: CliContext, trustDir: string | undefined): Promise<Material> {
  if (trustDir === undefined) {
    const setup = await whitelistSetup(c.config());
    return { trust: setup.trust, signer: setup.signer, maxBytes: setup.maxBytes };
  }
  const wl = configAvailable(program) ? c.config().whitelist : whitelistSection.parse({});
  return { trust: TrustStore.fromDir(resolveTrustDir(path.resolve(trustDir))), signer: wl.signer.subject, maxBytes: wl.maxBytes };
}

function readList(file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw new MssError('USAGE_FILE', `cannot read ${file}: ${(err as Error).message}`, { file });
  }
}

function verifyFile(file: string, m: Material): VerifiedWhitelist {
  const v = verifyWhitelist(readList(file), { ...m, source: file });
  for (const s of v.index.skipped) process.stderr.write(`warning WL_ENTRY_SKIPPED: ${file}: Domaine #${s.position} skipped: ${s.reason}\n`);
  return v;
}

export function registerWhitelistCommands(program: Command, ctx: () => CliContext): void {
  const wl = program.command('whitelist').description('liste blanche (TM4.1P): verify, look up, download');

  wl.command('verify')
    .description('verify a liste blanche file: signature, signer (PKIX, ANS), shape')
    .argument('<file>', 'the XML file')
    .option('--trust <dir>', 'CA directory (or a `sandbox pki` output dir); makes the configuration optional')
    .option('--json', 'print {"domains":N,"dns":M,"generated":"…"}')
    .action(
      action(async (file: string, opts: { trust?: string; json?: boolean }) => {
        const v = verifyFile(file, await material(program, ctx(), opts.trust));
        const summary = { domains: v.index.domainCount, dns: v.index.dnCount, generated: v.index.generated };
        process.stdout.write(opts.json ? `${JSON.stringify(summary)}\n` : `domains=${summary.domains} dns=${summary.dns} generated=${summary.generated}\n`);
      }),
    );

  wl.command('lookup')
    .description('print the DNs of a domain, or the domains of a DN (argument containing "="), one per line')
    .argument('<query>', 'a domain (ch-exemple.mssante.fr) or a DN (CN=…,OU=…,O=…,ST=…,C=FR)')
    .option('--file <file>', 'a list file instead of the last valid copy of the configuration')
    .option('--trust <dir>', 'CA directory for --file (or a `sandbox pki` output dir)')
    .option('--json', 'print {"query":…,"kind":"domain"|"dn","results":[…]}')
    .action(
      action(async (query: string, opts: { file?: string; trust?: string; json?: boolean }) => {
        const c = ctx();
        // Without --file: the last valid copy, verified again before use (RE_2.2_5010).
        const file = opts.file ?? (await whitelistSetup(c.config())).paths.file;
        const { index } = verifyFile(file, await material(program, c, opts.file ? opts.trust : undefined));
        const kind = query.includes('=') ? 'dn' : 'domain';
        const results = kind === 'dn' ? index.domainsOf(query) : index.dnsOf(query);
        if (opts.json) process.stdout.write(`${JSON.stringify({ query, kind, results })}\n`);
        else for (const r of results) process.stdout.write(`${r}\n`);
        if (results.length === 0) {
          throw new MssError('WL_NOT_LISTED', `${kind === 'dn' ? 'DN' : 'domain'} ${query} is not in the liste blanche generated ${index.generated}`, { query });
        }
      }),
    );

  wl.command('sync')
    .description('download, verify and store the liste blanche; on failure keep the last valid copy (exit 3: retry later)')
    .option('--json', 'print the outcome as JSON')
    .action(
      action(async (opts: { json?: boolean }) => {
        const c = ctx();
        const config = c.config();
        const setup = await whitelistSetup(config);
        const r = await syncWhitelist({
          url: config.whitelist.url,
          trust: setup.trust,
          ...(setup.revocation ? { revocation: setup.revocation } : {}),
          signer: setup.signer,
          maxBytes: setup.maxBytes,
          timeoutMs: config.whitelist.timeoutMs,
          maxAgeHours: config.whitelist.maxAgeHours,
          paths: setup.paths,
          log: c.log,
        });
        if (r.outcome === 'failed') {
          if (opts.json) process.stdout.write(`${JSON.stringify({ ok: false, error: r.error.toJSON(), kept: r.kept ?? null })}\n`);
          process.stderr.write(`error ${r.error.code}: ${r.error.message}\n`);
          process.stderr.write(r.kept ? `the last valid copy (generated ${r.kept.generated ?? '?'}, confirmed ${Math.round(r.kept.ageHours ?? 0)} h ago) stays in use\n` : 'no valid copy is available yet\n');
          return exitCodeFor(r.error.code);
        }
        const rec = r.record;
        if (opts.json) process.stdout.write(`${JSON.stringify({ ok: true, outcome: r.outcome, ...rec })}\n`);
        else process.stdout.write(`${r.outcome} domains=${rec.domains} dns=${rec.dns} generated=${rec.generated} file=${setup.paths.file}\n`);
        return EXIT.OK;
      }),
    );
}
