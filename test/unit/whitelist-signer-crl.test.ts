// EX_2.2_5050: the liste blanche signer's revocation follows the gates' policy
// (crl.requireCurrent, EX_OPE_5050) on every path that verifies a list: the policy built from
// the configuration (whitelistSetup: `whitelist sync`, verify/lookup, the jobs), and the
// daemon's holder with its reloading CRL holder. No current CRL of a CA of the signer's path
// (none stored, out of date, or trust.crlDir not set) refuses the list by default, and is
// accepted with a CRL_MISSING warning with `crl.requireCurrent: false`.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import { configSchema, type Config } from '../../src/config/schema.js';
import { isMssError } from '../../src/errors.js';
import { certInfo } from '../../src/pki/certificate.js';
import { RevocationHolder } from '../../src/pki/revocation-holder.js';
import type { TrustStore } from '../../src/pki/truststore.js';
import { createCrl, type PkiManifest } from '../../sandbox/pki.js';
import { whitelistSetup } from '../../src/whitelist/from-config.js';
import { WhitelistHolder } from '../../src/whitelist/holder.js';
import { verifyWhitelist } from '../../src/whitelist/verify.js';
import { atomicWriteFileSync } from '../../src/util/atomic-write.js';
import { captureLogger } from '../helpers/log.js';
import { intermediateIssuer, testPki, trustOf } from '../helpers/pki.js';
import { tmpDir } from '../helpers/tmp.js';
import { sandboxEntries, signedList } from '../helpers/whitelist.js';

const DAY = 86_400_000;
let pki: PkiManifest;
let trust: TrustStore;
let list: Buffer;
/** CRL directories: both CAs current; none; the intermediate's out of date. */
let current: string;
let empty: string;
let outOfDate: string;

before(async () => {
  pki = await testPki();
  trust = trustOf(pki);
  list = Buffer.from(signedList(pki));
  current = tmpDir();
  fs.copyFileSync(pki.crls.root, path.join(current, 'root.crl'));
  fs.copyFileSync(pki.crls.intermediate, path.join(current, 'intermediate.crl'));
  empty = tmpDir();
  outOfDate = tmpDir();
  fs.copyFileSync(pki.crls.root, path.join(outOfDate, 'root.crl'));
  const now = Date.now();
  const stale = await createCrl(intermediateIssuer(pki), [], new Date(now - 10 * DAY), {
    thisUpdate: new Date(now - 10 * DAY),
    nextUpdate: new Date(now - 3 * DAY),
  });
  fs.writeFileSync(path.join(outOfDate, 'intermediate.crl'), stale);
});

function config(crlDir: string | undefined, requireCurrent?: boolean): Config {
  const op = pki.operators[0];
  return configSchema.parse({
    operator: { name: 'A', domains: op?.domains, structureId: op?.structureId, certificate: op?.cert, key: op?.key },
    trust: { dir: pki.trustDir, ...(crlDir ? { crlDir } : {}) },
    state: { dir: tmpDir() },
    ...(requireCurrent === undefined ? {} : { crl: { requireCurrent } }),
  });
}

const INTERMEDIATE = /SANDBOX AC IGC-SANTE ELEMENTAIRE ORGANISATIONS/;

test('EX_2.2_5050: by default (crl.requireCurrent) a signer whose CA has no current CRL is refused, naming the CA and `crl sync`: no CRL stored, CRL out of date, trust.crlDir not set', async () => {
  const ok = await whitelistSetup(config(current));
  assert.equal(verifyWhitelist(list, { ...ok.policy, source: 'list.xml' }).unchecked, undefined, 'current CRLs: verified, nothing to warn');
  for (const [what, dir] of [
    ['no CRL stored', empty],
    ['CRL out of date', outOfDate],
    ['trust.crlDir not set', undefined],
  ] as const) {
    const { policy } = await whitelistSetup(config(dir));
    assert.throws(
      () => verifyWhitelist(list, { ...policy, source: 'list.xml' }),
      (e: unknown) =>
        isMssError(e, 'WL_SIGNER_REVOCATION_UNKNOWN') &&
        INTERMEDIATE.test(String(e.details.ca)) &&
        /no current CRL of .*SANDBOX AC IGC-SANTE ELEMENTAIRE ORGANISATIONS/.test(e.message) &&
        /crl\.requireCurrent/.test(e.message) &&
        /run `mss-sidecar crl sync`/.test(e.message),
      what,
    );
  }
  // The root's CRL counts too: the intermediate's own revocation is checked against it.
  const noRoot = tmpDir();
  fs.copyFileSync(pki.crls.intermediate, path.join(noRoot, 'intermediate.crl'));
  const { policy } = await whitelistSetup(config(noRoot));
  assert.throws(
    () => verifyWhitelist(list, { ...policy, source: 'list.xml' }),
    (e: unknown) => isMssError(e, 'WL_SIGNER_REVOCATION_UNKNOWN') && /SANDBOX AC RACINE/.test(String(e.details.ca)),
  );
});

test('EX_2.2_5050: with crl.requireCurrent: false the signer is accepted and the missing CRL is reported (CRL_MISSING, naming the CA); a revoked signer is still refused', async () => {
  for (const dir of [empty, outOfDate, undefined]) {
    const { policy } = await whitelistSetup(config(dir, false));
    const v = verifyWhitelist(list, { ...policy, source: 'list.xml' });
    assert.equal(v.index.domainCount, 6);
    assert.equal(v.unchecked?.code, 'CRL_MISSING', String(dir));
    assert.match(v.unchecked?.ca ?? '', INTERMEDIATE);
    assert.match(v.unchecked?.message ?? '', /accepted WITHOUT revocation check: no current CRL of .*\(crl\.requireCurrent: false\)/);
  }
  // A CRL that says "revoked" is not "no information": refused whatever crl.requireCurrent says.
  const revokedDir = tmpDir();
  fs.copyFileSync(pki.crls.root, path.join(revokedDir, 'root.crl'));
  const signerSerial = certInfo(fs.readFileSync(pki.ansSigner.cert, 'utf8')).serial;
  fs.writeFileSync(path.join(revokedDir, 'intermediate.crl'), await createCrl(intermediateIssuer(pki), [signerSerial], new Date()));
  const { policy } = await whitelistSetup(config(revokedDir, false));
  assert.throws(
    () => verifyWhitelist(list, { ...policy, source: 'list.xml' }),
    (e: unknown) => isMssError(e, 'WL_SIGNER_REVOKED'),
  );
});

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 25));
  }
}

test("EX_2.2_5050 EX_2.2_5035: the daemon's holder (reloading CRLs) refuses a new list while the signer's CA has no current CRL, keeps the last valid copy in use, and takes the new list once `crl sync` stores one", async () => {
  const crlDir = tmpDir();
  for (const f of fs.readdirSync(current)) fs.copyFileSync(path.join(current, f), path.join(crlDir, f));
  const { log, lines } = captureLogger();
  const cfg = config(crlDir);
  // As the daemon wires it (daemon/shared.ts): the gates' RevocationHolder, crl.requireCurrent from the configuration.
  const revocation = await RevocationHolder.open({ trust, dir: crlDir, requireCurrent: cfg.crl.requireCurrent, log, pollMs: 0 });
  const { policy } = await whitelistSetup(cfg, { trust, revocation });
  const file = path.join(tmpDir(), 'listeblanchemssante.xml');
  fs.writeFileSync(file, list);
  const holder = new WhitelistHolder({ file, policy, log, watch: false, pollMs: 50 }).start();
  try {
    assert.ok(holder.require().hasDomain('ch-sandbox-a.mssante.fr'), 'loaded with current CRLs');
    // The CRLs go (no `crl sync` for a while, or the files are removed), then a new list arrives.
    for (const f of fs.readdirSync(crlDir)) fs.rmSync(path.join(crlDir, f));
    await revocation.reload();
    const more = [...sandboxEntries(pki), { domain: 'nouveau.mssante.fr', dn: pki.operators[1]?.subject ?? '', description: 'new' }];
    atomicWriteFileSync(file, signedList(pki, { entries: more }));
    assert.equal(holder.reload(), false, 'refused');
    assert.ok(holder.require().hasDomain('ch-sandbox-a.mssante.fr'), 'the last valid copy stays in use');
    assert.equal(holder.require().hasDomain('nouveau.mssante.fr'), false);
    const refusal = lines.map((l) => JSON.parse(l) as { code?: string; level: number; msg: string }).find((l) => l.code === 'WL_SIGNER_REVOCATION_UNKNOWN');
    assert.ok(refusal, lines.join(''));
    assert.equal(refusal.level, 50, 'an error');
    assert.match(refusal.msg, /no current CRL of .*SANDBOX AC IGC-SANTE ELEMENTAIRE ORGANISATIONS.*run `mss-sidecar crl sync`.*still using the list generated/);
    // `crl sync` stores current CRLs: the refused copy is taken at the next poll, with no change to its file.
    for (const f of fs.readdirSync(current)) fs.copyFileSync(path.join(current, f), path.join(crlDir, f));
    await revocation.reload();
    await until(() => holder.index?.hasDomain('nouveau.mssante.fr') === true);
  } finally {
    holder.close();
    revocation.close();
  }
});

test('EX_2.2_5050: with crl.requireCurrent: false the holder loads the list and logs CRL_MISSING as a warning naming the CA', async () => {
  const { log, lines } = captureLogger();
  const { policy } = await whitelistSetup(config(empty, false));
  const file = path.join(tmpDir(), 'listeblanchemssante.xml');
  fs.writeFileSync(file, list);
  const holder = new WhitelistHolder({ file, policy, log, watch: false, pollMs: 0 }).start();
  try {
    assert.ok(holder.require().hasDomain('ch-sandbox-a.mssante.fr'));
    const warning = lines.map((l) => JSON.parse(l) as { code?: string; level: number; ca?: string; msg: string }).find((l) => l.code === 'CRL_MISSING');
    assert.ok(warning, lines.join(''));
    assert.equal(warning.level, 40, 'a warning');
    assert.match(warning.ca ?? '', INTERMEDIATE);
    assert.match(warning.msg, /accepted WITHOUT revocation check/);
  } finally {
    holder.close();
  }
});
