import assert from 'node:assert/strict';
import fs from 'node:fs';
import { before, test } from 'node:test';
import { SignedXml } from 'xml-crypto';
import { isMssError, type ErrorCode } from '../../src/errors.js';
import { certInfo } from '../../src/pki/certificate.js';
import { RevocationStore } from '../../src/pki/crl.js';
import { parseDn } from '../../src/pki/dn.js';
import type { TrustStore } from '../../src/pki/truststore.js';
import { generateRsaKey, issueCertificate, type IssuedCert } from '../../sandbox/cert-factory.js';
import { ANS_SIGNER_SUBJECT, createCrl, type PkiManifest } from '../../sandbox/pki.js';
import type { SignVariant } from '../../sandbox/sign-whitelist.js';
import { DEFAULT_ANS_SIGNER_SUBJECT } from '../../src/whitelist/config.js';
import { signerMatches } from '../../src/whitelist/signer-policy.js';
import { ALG, checkSignatureForm, signedContent, verifySignature } from '../../src/whitelist/signature.js';
import { parseXmlTree } from '../../src/whitelist/xml-tree.js';
import { verifyWhitelist, type VerifyOptions } from '../../src/whitelist/verify.js';
import { intermediateIssuer, material, testPki, trustOf } from '../helpers/pki.js';
import { signedList } from '../helpers/whitelist.js';

let pki: PkiManifest;
let trust: TrustStore;
let inter: IssuedCert;
let good: string;
const DAY = 86_400_000;

before(async () => {
  pki = await testPki();
  trust = trustOf(pki);
  inter = intermediateIssuer(pki);
  good = signedList(pki);
});

function verify(xml: string, opts: Partial<VerifyOptions> = {}) {
  return verifyWhitelist(Buffer.from(xml, 'utf8'), { trust, signer: DEFAULT_ANS_SIGNER_SUBJECT, maxBytes: 1_000_000, source: 'list.xml', ...opts });
}

function refused(xml: string, code: ErrorCode, opts: Partial<VerifyOptions> = {}): void {
  assert.throws(
    () => verify(xml, opts),
    (e: unknown) => isMssError(e, code),
    code,
  );
}

async function ansLookalike(extra: Partial<Parameters<typeof issueCertificate>[0]> = {}): Promise<IssuedCert> {
  return issueCertificate({
    subject: ANS_SIGNER_SUBJECT,
    keyPair: await generateRsaKey(),
    issuer: inter,
    notBefore: new Date(Date.now() - DAY),
    notAfter: new Date(Date.now() + DAY),
    keyUsage: ['digitalSignature', 'nonRepudiation'],
    ...extra,
  });
}

test('EX_2.2_5040 EX_2.2_5050: a list signed by the ANS signer of the trust store verifies', () => {
  const v = verify(good);
  assert.equal(v.index.domainCount, 6);
  assert.match(v.signer.subject.rdns[0]?.[0]?.value ?? '', /SIGNATURE LISTE BLANCHE/);
});

test('EX_2.2_5040: an unsigned list is refused', () => {
  refused(good.replace(/<Signature[\s\S]*<\/Signature>/, ''), 'WL_UNSIGNED');
});

test('EX_2.2_5040: modified content is refused (digest), a modified or foreign signature value too', () => {
  refused(good.replace('CLINIQUE SANDBOX B', 'CLINIQUE SANDBOX C'), 'WL_DIGEST_MISMATCH');
  refused(good.replace('<Nom>dgs.mssante.fr</Nom>', '<Nom>dgs.mssante.fr</Nom><!-- x --><Nom>evil.fr</Nom>'), 'WL_DIGEST_MISMATCH');
  refused(
    good.replace(/<SignatureValue>(.)/, (_m, c: string) => `<SignatureValue>${c === 'A' ? 'B' : 'A'}`),
    'WL_SIGNATURE_INVALID',
  );
  // The ANS certificate in X509Data, but signed with another key.
  refused(signedList(pki, { signer: { certPem: material(pki.ansSigner).certPem, keyPem: material(pki.rogue).keyPem } }), 'WL_SIGNATURE_INVALID');
});

test('EX_2.2_5050: a signer outside the trust store is refused, even with the ANS subject and its CA in X509Data', async () => {
  const selfSigned = issueCertificate({
    subject: ANS_SIGNER_SUBJECT,
    keyPair: await generateRsaKey(),
    notBefore: new Date(Date.now() - DAY),
    notAfter: new Date(Date.now() + DAY),
  });
  refused(signedList(pki, { signer: { certPem: selfSigned.certPem, keyPem: selfSigned.keyPem } }), 'WL_SIGNER_UNTRUSTED');
  // A foreign CA named like ours issues an "ANS" certificate and ships itself in X509Data.
  const foreignCa = issueCertificate({
    subject: inter.subject,
    keyPair: await generateRsaKey(),
    notBefore: new Date(Date.now() - DAY),
    notAfter: new Date(Date.now() + DAY),
    ca: {},
    keyUsage: ['keyCertSign'],
  });
  const fake = issueCertificate({
    subject: ANS_SIGNER_SUBJECT,
    keyPair: await generateRsaKey(),
    issuer: foreignCa,
    notBefore: new Date(Date.now() - DAY),
    notAfter: new Date(Date.now() + DAY),
  });
  refused(signedList(pki, { signer: { certPem: fake.certPem, keyPem: fake.keyPem }, variant: { extraCertsPem: [foreignCa.certPem] } }), 'WL_SIGNER_UNTRUSTED');
});

test("EX_2.2_5050: a valid IGC-Santé certificate that is not the ANS's is refused", () => {
  assert.throws(
    () => verify(signedList(pki, { signer: material(pki.rogue) })),
    (e: unknown) => isMssError(e, 'WL_SIGNER_NOT_ANS') && /CN=mss\.rogue\.sandbox\.invalid/.test(e.message) && /OU∈\{318751275100020\}/.test(e.message),
  );
});

test('EX_2.2_5050: an expired, not yet valid, revoked or non-signing ANS certificate is refused', async () => {
  const expired = await ansLookalike({ notBefore: new Date(Date.now() - 3 * DAY), notAfter: new Date(Date.now() - DAY) });
  refused(signedList(pki, { signer: { certPem: expired.certPem, keyPem: expired.keyPem } }), 'WL_SIGNER_EXPIRED');
  const future = await ansLookalike({ notBefore: new Date(Date.now() + DAY), notAfter: new Date(Date.now() + 2 * DAY) });
  refused(signedList(pki, { signer: { certPem: future.certPem, keyPem: future.keyPem } }), 'WL_SIGNER_NOT_YET_VALID');
  const revoked = await ansLookalike();
  const revocation = new RevocationStore(trust);
  await revocation.add(await createCrl(inter, [revoked.serial], new Date()), 'test.crl');
  const byRevoked = signedList(pki, { signer: { certPem: revoked.certPem, keyPem: revoked.keyPem } });
  assert.ok(verify(byRevoked), 'valid without revocation information');
  refused(byRevoked, 'WL_SIGNER_REVOKED', { revocation });
  const encipherOnly = await ansLookalike({ keyUsage: ['keyEncipherment'] });
  refused(signedList(pki, { signer: { certPem: encipherOnly.certPem, keyPem: encipherOnly.keyPem } }), 'WL_SIGNER_KEY_USAGE');
});

test('EX_2.2_5050: X509Data may carry CA copies (ignored), not two end-entity certificates, and must carry one', () => {
  const chain = [fs.readFileSync(pki.intermediate.cert, 'utf8'), fs.readFileSync(pki.root.cert, 'utf8')];
  assert.ok(verify(signedList(pki, { variant: { extraCertsPem: chain } })));
  refused(signedList(pki, { variant: { extraCertsPem: [fs.readFileSync(pki.rogue.cert, 'utf8')] } }), 'WL_SIGNER_AMBIGUOUS');
  refused(good.replace(/<X509Data>[\s\S]*<\/X509Data>/, '<KeyName>ans</KeyName>'), 'WL_SIGNER_MISSING');
  refused(good.replace(/<X509Certificate>[^<]{40}/, '<X509Certificate>MIIB'), 'WL_SIGNER_MALFORMED');
});

test('EX_2.2_5040: only the algorithms of Tableau 45 are accepted', () => {
  const cases: Array<[string, SignVariant]> = [
    ['rsa-sha1', { signatureAlgorithm: 'http://www.w3.org/2000/09/xmldsig#rsa-sha1' }],
    ['rsa-sha512', { signatureAlgorithm: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512' }],
    ['inclusive c14n', { canonicalization: 'http://www.w3.org/TR/2001/REC-xml-c14n-20010315' }],
    ['exc-c14n with comments', { canonicalization: 'http://www.w3.org/2001/10/xml-exc-c14n#WithComments' }],
    ['sha1 digest', { digest: 'http://www.w3.org/2000/09/xmldsig#sha1' }],
    ['sha512 digest', { digest: 'http://www.w3.org/2001/04/xmlenc#sha512' }],
    ['inclusive c14n transform', { transforms: [ALG.ENVELOPED, 'http://www.w3.org/TR/2001/REC-xml-c14n-20010315'] }],
    ['no enveloped transform', { transforms: [ALG.EXC_C14N] }],
  ];
  for (const [name, variant] of cases) {
    assert.throws(
      () => verify(signedList(pki, { variant })),
      (e: unknown) => isMssError(e, 'WL_SIGNATURE_ALGORITHM'),
      name,
    );
  }
  // Enveloped alone (c14n implied) is the other form Tableau 45 allows.
  assert.ok(verify(signedList(pki, { variant: { transforms: [ALG.ENVELOPED] } })));
});

test("EX_2.2_5040: the published list's formatting (CR LF inside base64 values, default namespace) verifies", () => {
  const wrapped = good.replace(
    /<(SignatureValue|X509Certificate)>([^<]+)</g,
    (_m, tag: string, b64: string) => `<${tag}>${b64.match(/.{1,76}/g)?.join('&#13;\n')}<`,
  );
  assert.notEqual(wrapped, good);
  assert.equal(verify(wrapped).index.domainCount, 6);
});

test("EX_2.2_5040: xml-crypto's own checkSignature agrees, and its signed reference is exactly what is read", () => {
  const oracle = (xml: string): { ok: boolean; signed: string[] } => {
    const sx = new SignedXml({ publicCert: material(pki.ansSigner).certPem, getCertFromKeyInfo: () => null });
    const sig = /<Signature[\s\S]*<\/Signature>/.exec(xml)?.[0] ?? '';
    sx.loadSignature(sig);
    try {
      return { ok: sx.checkSignature(xml), signed: sx.getSignedReferences() };
    } catch {
      return { ok: false, signed: [] };
    }
  };
  const root = parseXmlTree(
    good,
    'list.xml',
    { maxDepth: 32, maxNodes: 1000 },
    { malformed: 'WL_XML_MALFORMED', tooComplex: 'WL_TOO_COMPLEX', dtd: 'WL_DTD_FORBIDDEN', shape: 'WL_SHAPE' },
  );
  verifySignature(root, 'list.xml', { trust, signer: DEFAULT_ANS_SIGNER_SUBJECT });
  const mine = signedContent(root, checkSignatureForm(root, 'list.xml'));
  const theirs = oracle(good);
  assert.equal(theirs.ok, true);
  assert.deepEqual(theirs.signed, [mine]);
  assert.ok(!mine.includes('<Signature'), 'the signature is not part of what it signs');
  assert.equal(oracle(good.replace('CLINIQUE SANDBOX B', 'CLINIQUE SANDBOX C')).ok, false);
});

test('EX_2.2_5050: whitelist.signer.subject accepts any of several patterns; the default accepts the ANS and the published list signer only', () => {
  const ans = parseDn('CN=SIGNATURE,OU=318751275100020,O=AGENCE DU NUMERIQUE EN SANTE,ST=Paris (75),C=FR');
  const observed = parseDn('CN=alb.mssante.fr,OU=347976684200724,O=CAPGEMINI TECHNOLOGY SERVICES,ST=Hauts-de-Seine (92),C=FR');
  assert.ok(signerMatches(ans, DEFAULT_ANS_SIGNER_SUBJECT));
  assert.ok(signerMatches(observed, DEFAULT_ANS_SIGNER_SUBJECT));
  assert.ok(!signerMatches(observed, { OU: ['318751275100020'] }), 'a single pattern pins one holder');
  const both = DEFAULT_ANS_SIGNER_SUBJECT;
  assert.ok(!signerMatches(parseDn('CN=other.mssante.fr,OU=347976684200724,C=FR'), both), 'every attribute of a pattern must match');
  assert.ok(!signerMatches(parseDn('CN=alb.mssante.fr,OU=1130000000,O=CH EXEMPLE,C=FR'), both), 'the CN alone is not enough');
  assert.ok(!signerMatches(ans, {}), 'an empty pattern accepts nobody');
  assert.equal(certInfo(fs.readFileSync(pki.ansSigner.cert)).subject.canonical, parseDn(pki.ansSigner.subject).canonical);
});
