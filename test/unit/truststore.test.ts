import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import { isMssError } from '../../src/errors.js';
import { certInfo } from '../../src/pki/certificate.js';
import { RevocationStore } from '../../src/pki/crl.js';
import { resolveTrustDir, TrustStore } from '../../src/pki/truststore.js';
import { generateRsaKey, issueCertificate, type IssuedCert } from '../../sandbox/cert-factory.js';
import { createCrl, operatorSubject, type PkiManifest } from '../../sandbox/pki.js';
import { intermediateIssuer, testPki, trustOf } from '../helpers/pki.js';
import { tmpDir } from '../helpers/tmp.js';

let pki: PkiManifest;
let trust: TrustStore;
let inter: IssuedCert;
const DAY = 86_400_000;
const now = new Date();

before(async () => {
  pki = await testPki();
  trust = trustOf(pki);
  inter = intermediateIssuer(pki);
});

async function leafUnder(issuer: IssuedCert, fqdn: string, extra: Partial<Parameters<typeof issueCertificate>[0]> = {}): Promise<IssuedCert> {
  return issueCertificate({
    subject: operatorSubject({ fqdn, structureId: '1000000000', organisation: 'TEST', department: 'Paris (75)' }),
    keyPair: await generateRsaKey(),
    issuer,
    notBefore: new Date(now.getTime() - DAY),
    notAfter: new Date(now.getTime() + DAY),
    extKeyUsage: ['serverAuth', 'clientAuth'],
    ...extra,
  });
}

test("EX_OPE_5040: a certificate issued under the store validates through the store's intermediate and root", () => {
  const r = trust.validate(fs.readFileSync(pki.operators[0]?.cert ?? ''));
  assert.ok(r.ok, JSON.stringify(r));
  assert.deepEqual(
    r.chain.map((c) => c.subject.rdns[0]?.[0]?.value),
    ['mss.ch-sandbox-a.fr', 'SANDBOX AC IGC-SANTE ELEMENTAIRE ORGANISATIONS', 'SANDBOX AC RACINE IGC-SANTE ELEMENTAIRE'],
  );
});

test('EX_OPE_5040: a chain to a foreign root is refused, even with the same CA names', async () => {
  // A lookalike PKI: same subjects, other keys. Its intermediate is what a peer would send.
  const other = await import('../../sandbox/pki.js').then((m) => m.generateTestPki(tmpDir(), { operators: [], authCli: [] }));
  const foreignLeaf = fs.readFileSync(other.rogue.cert);
  const r = trust.validate(foreignLeaf);
  assert.equal(r.ok, false);
  assert.equal(!r.ok && r.code, 'CHAIN_UNTRUSTED');
  // Without the root, the store has no anchor: the intermediate alone is not trusted.
  const interOnly = new TrustStore([certInfo(fs.readFileSync(pki.intermediate.cert))]);
  const r2 = interOnly.validate(fs.readFileSync(pki.rogue.cert));
  assert.equal(!r2.ok && r2.code, 'CHAIN_UNTRUSTED');
});

test('EX_OPE_5040: expired and not-yet-valid certificates are refused', async () => {
  const expired = trust.validate(fs.readFileSync(pki.expired.cert));
  assert.equal(!expired.ok && expired.code, 'CERT_EXPIRED');
  const future = await leafUnder(inter, 'future.test', { notBefore: new Date(now.getTime() + DAY), notAfter: new Date(now.getTime() + 2 * DAY) });
  const r = trust.validate(future.der);
  assert.equal(!r.ok && r.code, 'CERT_NOT_YET_VALID');
  // Validation at a given time.
  assert.ok(trust.validate(future.der, { at: new Date(now.getTime() + 1.5 * DAY) }).ok);
});

test('EX_OPE_5040: issuers must be CAs allowed to sign, within their path length', async () => {
  // A certificate "issued" by an end-entity certificate that somehow sits in the store.
  const opA = await leafUnder(inter, 'not-a-ca.test');
  const underLeaf = await leafUnder(opA, 'child.test');
  const withLeaf = new TrustStore([...trust.certificates, certInfo(opA.der)]);
  const r1 = withLeaf.validate(underLeaf.der);
  assert.equal(!r1.ok && r1.code, 'CA_NOT_CA');
  // A CA without keyCertSign.
  const noSign = await leafUnder(inter, 'ca-no-sign.test', { ca: {}, keyUsage: ['cRLSign'] });
  const r2 = new TrustStore([...trust.certificates, certInfo(noSign.der)]).validate((await leafUnder(noSign, 'x.test')).der);
  assert.equal(!r2.ok && r2.code, 'CA_KEY_USAGE');
  // The intermediate has pathlen 0: a sub-CA below it cannot issue.
  const sub = await leafUnder(inter, 'sub-ca.test', { ca: {}, keyUsage: ['keyCertSign', 'cRLSign'] });
  const r3 = new TrustStore([...trust.certificates, certInfo(sub.der)]).validate((await leafUnder(sub, 'y.test')).der);
  assert.equal(!r3.ok && r3.code, 'CA_PATH_LENGTH');
  // A CA presented as a leaf is not an end-entity.
  const r4 = trust.validate(fs.readFileSync(pki.intermediate.cert));
  assert.equal(!r4.ok && r4.code, 'CERT_IS_CA');
});

test("EX_OPE_5050: a certificate listed in its issuer's CRL is revoked; CRLs are verified before use", async () => {
  const revocation = await RevocationStore.fromDir(pki.crlDir, trust);
  assert.deepEqual(revocation.problems, []);
  assert.equal(revocation.crls.length, 2);
  const r = trust.validate(fs.readFileSync(pki.revoked.cert), { revocation });
  assert.equal(!r.ok && r.code, 'CERT_REVOKED');
  assert.equal(revocation.isRevoked(fs.readFileSync(pki.revoked.cert)), true);
  assert.equal(revocation.isRevoked(fs.readFileSync(pki.rogue.cert)), false);
  assert.ok(trust.validate(fs.readFileSync(pki.rogue.cert), { revocation, requireRevocationInfo: true }).ok);

  // A CRL naming our intermediate but signed by another key is refused.
  const impostor = { der: inter.der, keyPair: await generateRsaKey() };
  await assert.rejects(new RevocationStore(trust).add(await createCrl(impostor, [], now), 'forged.crl'), (e: unknown) =>
    isMssError(e, 'CRL_SIGNATURE_INVALID'),
  );
  // A CRL from a CA outside the store is refused.
  const outsider = await leafUnder(inter, 'outsider-ca.test', { ca: {}, keyUsage: ['keyCertSign', 'cRLSign'] });
  await assert.rejects(new RevocationStore(trust).add(await createCrl(outsider, [], now), 'outsider.crl'), (e: unknown) => isMssError(e, 'CRL_ISSUER_UNKNOWN'));
  await assert.rejects(new RevocationStore(trust).add(Buffer.from('not a crl'), 'junk.crl'), (e: unknown) => isMssError(e, 'CRL_MALFORMED'));
});

test('EX_OPE_5050: an expired CRL gives no answer (hard fail on demand), and an older CRL never replaces a newer one', async () => {
  const store = new RevocationStore(trust);
  const old = await createCrl(inter, [], now, { thisUpdate: new Date(now.getTime() - 10 * DAY), nextUpdate: new Date(now.getTime() - 3 * DAY) });
  await store.add(old, 'old.crl');
  const rogue = fs.readFileSync(pki.rogue.cert);
  const r = trust.validate(rogue, { revocation: store, requireRevocationInfo: true });
  assert.equal(!r.ok && r.code, 'REVOCATION_UNKNOWN');
  assert.ok(trust.validate(rogue, { revocation: store }).ok, 'soft fail without requireRevocationInfo');
  const revokedSerial = certInfo(fs.readFileSync(pki.revoked.cert)).serial;
  await store.add(await createCrl(inter, [revokedSerial], now), 'new.crl');
  await store.add(old, 'old-again.crl');
  assert.equal(store.isRevoked(fs.readFileSync(pki.revoked.cert)), true);
});

test('the trust store loads PEM and DER CA files, refuses non-CA files and empty directories; --trust accepts a PKI dir', () => {
  assert.equal(resolveTrustDir(pki.dir), pki.trustDir);
  assert.equal(resolveTrustDir(pki.trustDir), pki.trustDir);
  const dir = tmpDir();
  fs.writeFileSync(path.join(dir, 'root.cer'), certInfo(fs.readFileSync(pki.root.cert)).der);
  fs.copyFileSync(pki.intermediate.cert, path.join(dir, 'inter.pem'));
  fs.writeFileSync(path.join(dir, 'README'), 'ignored');
  assert.ok(TrustStore.fromDir(dir).validate(fs.readFileSync(pki.rogue.cert)).ok);
  fs.copyFileSync(pki.rogue.cert, path.join(dir, 'leaf.crt'));
  assert.throws(
    () => TrustStore.fromDir(dir),
    (e: unknown) => isMssError(e, 'CONFIG_TRUST_STORE') && /not a CA/.test(e.message),
  );
  assert.throws(
    () => TrustStore.fromDir(tmpDir()),
    (e: unknown) => isMssError(e, 'CONFIG_TRUST_STORE') && /no CA certificate/.test(e.message),
  );
});
