// Self-check steps for TM4.1P against the sandbox liste blanche host: sync, verify, lookups,
// and every server-side fault, each of which must leave the last valid copy in use.
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import { silentLogger } from '../../src/log.js';
import { dnFromCertificate } from '../../src/pki/dn.js';
import { whitelistSetup } from '../../src/whitelist/from-config.js';
import { WhitelistHolder } from '../../src/whitelist/holder.js';
import { syncWhitelist, type SyncResult } from '../../src/whitelist/sync.js';
import { verifyWhitelist } from '../../src/whitelist/verify.js';
import { controlWhitelist, type WhitelistFault } from '../whitelist-server.js';
import { fail, pass, type CheckContext, type SelfCheckStep } from './check.js';

async function sync(ctx: CheckContext, timeoutMs = ctx.config.whitelist.timeoutMs): Promise<SyncResult> {
  const setup = await whitelistSetup(ctx.config);
  return syncWhitelist({
    url: ctx.config.whitelist.url,
    policy: setup.policy,
    timeoutMs,
    maxAgeHours: ctx.config.whitelist.maxAgeHours,
    paths: setup.paths,
    log: ctx.log,
  });
}

function control(ctx: CheckContext): string {
  const wl = ctx.sandbox.endpoints.whitelist;
  if (!wl) throw new Error('the sandbox has no liste blanche endpoint');
  return wl.control;
}

async function stored(ctx: CheckContext): Promise<Buffer | undefined> {
  const setup = await whitelistSetup(ctx.config);
  return fs.existsSync(setup.paths.file) ? fs.readFileSync(setup.paths.file) : undefined;
}

/** A fault on the server: the sync must fail with `code` and leave the stored bytes as they were. */
function faultStep(name: string, fault: WhitelistFault, codes: string[], timeoutMs?: number): SelfCheckStep {
  return {
    name,
    async run(ctx) {
      const before = await stored(ctx);
      if (!before) return fail('no last valid copy to keep (the first sync step failed)');
      await controlWhitelist(control(ctx), `/fault?mode=${fault}`);
      let r: SyncResult;
      try {
        r = await sync(ctx, timeoutMs);
      } finally {
        await controlWhitelist(control(ctx), '/fault?mode=none');
      }
      const after = await stored(ctx);
      const kept = after !== undefined && after.equals(before);
      const got = r.outcome === 'failed' ? r.error.code : r.outcome;
      const why = r.outcome === 'failed' ? r.error.message.replaceAll(ctx.config.whitelist.url, 'the list URL') : '';
      const detail = `sync → ${got}${why ? ` (${why.length > 100 ? `${why.slice(0, 99)}…` : why})` : ''}; last valid copy ${kept ? 'kept byte for byte' : 'CHANGED'}`;
      return r.outcome === 'failed' && codes.includes(r.error.code) && kept ? pass(detail) : fail(`${detail}; expected ${codes.join(' or ')}`);
    },
  };
}

export const whitelistChecks: SelfCheckStep[] = [
  {
    name: 'whitelist: sync downloads over HTTPS, verifies, stores the exact bytes',
    async run(ctx) {
      const r = await sync(ctx);
      if (r.outcome === 'failed') return fail(`${r.error.code}: ${r.error.message}`);
      const published = fs.readFileSync(ctx.sandbox.endpoints.whitelist?.published ?? '');
      const copy = await stored(ctx);
      if (!copy?.equals(published)) return fail('the stored copy differs from the published bytes');
      return pass(`${r.outcome}: domains=${r.record.domains} dns=${r.record.dns} generated=${r.record.generated}, ${copy.length} bytes identical`);
    },
  },
  {
    name: 'whitelist: the stored copy verifies (signer chained to the store, ANS subject)',
    async run(ctx) {
      const setup = await whitelistSetup(ctx.config);
      const v = verifyWhitelist(fs.readFileSync(setup.paths.file), setup.policy);
      ctx.facts.set('index', v.index);
      return pass(`domains=${v.index.domainCount} dns=${v.index.dnCount} generated=${v.index.generated}, signed by ${v.signer.subject.rdns[0]?.[0]?.value}`);
    },
  },
  {
    name: 'whitelist: lookups both ways (several DNs per domain, several domains per DN)',
    async run(ctx) {
      const index = ctx.facts.get('index') as ReturnType<typeof verifyWhitelist>['index'] | undefined;
      if (!index) return fail('no verified index');
      const a = ctx.pki.operators[0];
      const rogue = dnFromCertificate(new X509Certificate(fs.readFileSync(ctx.pki.rogue.cert)));
      const aFromCert = a ? dnFromCertificate(new X509Certificate(fs.readFileSync(a.cert))) : undefined;
      const shared = ctx.pki.operators.map((o) => o.domains).reduce((x, y) => x.filter((d) => y.includes(d)));
      const problems: string[] = [];
      const sharedDomain = shared[0] ?? '';
      if (index.dnsOf(sharedDomain.toUpperCase()).length < 2) problems.push(`${sharedDomain} should have ${ctx.pki.operators.length} DNs`);
      if (!aFromCert || index.domainsOf(aFromCert).length !== a?.domains.length) problems.push('operator A certificate subject should map to its domains');
      for (const d of ['dgs.mssante.fr', 'interop-mssante.apicrypt.org']) if (!index.hasDomain(d)) problems.push(`${d} missing`);
      if (index.domainsOf(rogue).length !== 0) problems.push('the rogue certificate must be in no list');
      if (aFromCert && !index.allows(aFromCert, a?.domains[0] ?? '')) problems.push('DN ↔ domain check failed for A');
      return problems.length === 0
        ? pass(`${sharedDomain} → ${index.dnsOf(sharedDomain).length} DNs; A's certificate → ${index.domainsOf(aFromCert as never).join(', ')}; rogue → none`)
        : fail(problems.join('; '));
    },
  },
  faultStep('whitelist: a tampered list is refused and the last valid copy kept', 'bad-signature', ['WL_DIGEST_MISMATCH']),
  faultStep('whitelist: server answers HTTP 500 → last valid copy kept', 'http500', ['HTTP_SERVER_ERROR']),
  faultStep('whitelist: truncated body → last valid copy kept', 'truncated', ['HTTP_TRUNCATED']),
  faultStep('whitelist: slow body (deadline) → last valid copy kept', 'slow', ['HTTP_TIMEOUT'], 1000),
  faultStep('whitelist: server down → last valid copy kept', 'down', ['HTTP_UNREACHABLE']),
  {
    name: 'whitelist: a local copy modified on disk is refused at load, the list in use stays',
    async run(ctx) {
      const setup = await whitelistSetup(ctx.config);
      const holder = new WhitelistHolder({ file: setup.paths.file, policy: setup.policy, log: silentLogger, watch: false, pollMs: 0 });
      holder.start();
      const generated = holder.index?.generated;
      if (!generated) return fail('the holder did not load the last valid copy');
      const original = fs.readFileSync(setup.paths.file);
      try {
        fs.writeFileSync(setup.paths.file, original.toString('utf8').replace('<Nom>', '<Nom>x'));
        const reloaded = holder.reload();
        const still = holder.index?.generated === generated;
        return !reloaded && still ? pass(`modified copy refused, list generated ${generated} still in use`) : fail('the modified copy was loaded');
      } finally {
        fs.writeFileSync(setup.paths.file, original);
        holder.close();
      }
    },
  },
  {
    name: 'whitelist: once the server is back, sync confirms the list (unchanged)',
    async run(ctx) {
      const r = await sync(ctx);
      return r.outcome === 'unchanged'
        ? pass(`unchanged, confirmed at ${r.record.confirmedAt}`)
        : fail(r.outcome === 'failed' ? `${r.error.code}: ${r.error.message}` : r.outcome);
    },
  },
];
