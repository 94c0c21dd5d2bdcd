// Who may sign the liste blanche (EX_2.2_5050, §6.6 Tableau 42): certificates forged from the
// test PKI at test time, each chaining to the trust store, each wrong in one way.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { isMssError, type ErrorCode } from '../../src/errors.js';
import { parseDn } from '../../src/pki/dn.js';
import type { TrustStore } from '../../src/pki/truststore.js';
import { generateRsaKey, issueCertificate, type IssueParams, type IssuedCert, type SubjectAttr } from '../../sandbox/cert-factory.js';
import { ANS_SIGNER_SUBJECT, type PkiManifest } from '../../sandbox/pki.js';
import { DEFAULT_ANS_SIGNER_SUBJECT } from '../../src/whitelist/config.js';
import { signerMatches } from '../../src/whitelist/signer-policy.js';
import { verifyWhitelist } from '../../src/whitelist/verify.js';
import { intermediateIssuer, material, testPki, trustOf } from '../helpers/pki.js';
import { signedList } from '../helpers/whitelist.js';

let pki: PkiManifest;
let trust: TrustStore;
let inter: IssuedCert;
const DAY = 86_400_000;

before(async () => {
  pki = await testPki();
  trust = trustOf(pki);
  inter = intermediateIssuer(pki);
});

function verify(xml: string) {
  return verifyWhitelist(Buffer.from(xml, 'utf8'), { trust, signer: DEFAULT_ANS_SIGNER_SUBJECT, maxBytes: 1_000_000, source: 'list.xml' });
}

async function signer(extra: Partial<IssueParams> = {}, bits = 2048): Promise<IssuedCert> {
  return issueCertificate({
    subject: ANS_SIGNER_SUBJECT,
    keyPair: await generateRsaKey(bits),
    issuer: inter,
    notBefore: new Date(Date.now() - DAY),
    notAfter: new Date(Date.now() + DAY),
    keyUsage: ['digitalSignature', 'nonRepudiation'],
    extKeyUsage: ['emailProtection'],
    ...extra,
  });
}

function signedBy(c: IssuedCert): string {
  return signedList(pki, { signer: { certPem: c.certPem, keyPem: c.keyPem } });
}

function refused(xml: string, code: ErrorCode, why: RegExp): void {
  assert.throws(
    () => verify(xml),
    (e: unknown) => isMssError(e, code) && why.test(e.message),
    `${code} ${why}`,
  );
}

test("EX_2.2_5050: a list signed with the ANS's HTTPS server certificate (serverAuth only) is refused", () => {
  // Same holder (OU of the ANS), same CA, valid: but a TLS server certificate, not a list signer.
  refused(signedList(pki, { signer: material(pki.https) }), 'WL_SIGNER_KEY_USAGE', /keyEncipherment|serverAuth/);
});

test('EX_2.2_5050: the signer is an S/MIME signing certificate: digitalSignature (+ nonRepudiation), emailProtection when extendedKeyUsage is present', async () => {
  const [asPublished, noEku, dsOnly, nrOnly, withEncipherment, serverAuth, noKeyUsage] = await Promise.all([
    signer(),
    signer({ extKeyUsage: undefined }),
    signer({ keyUsage: ['digitalSignature'] }),
    signer({ keyUsage: ['nonRepudiation'] }),
    signer({ keyUsage: ['digitalSignature', 'keyEncipherment'] }),
    signer({ extKeyUsage: ['serverAuth', 'clientAuth'] }),
    signer({ keyUsage: undefined }),
  ]);
  assert.equal(verify(signedBy(asPublished)).index.domainCount, 6, 'keyUsage digitalSignature + nonRepudiation, emailProtection (the published signer)');
  assert.ok(verify(signedBy(noEku)), 'no extendedKeyUsage extension');
  assert.ok(verify(signedBy(dsOnly)), 'digitalSignature alone');
  refused(signedBy(nrOnly), 'WL_SIGNER_KEY_USAGE', /lacks digitalSignature/);
  refused(signedBy(withEncipherment), 'WL_SIGNER_KEY_USAGE', /allows keyEncipherment besides signing/);
  refused(signedBy(serverAuth), 'WL_SIGNER_KEY_USAGE', /serverAuth, clientAuth\) lacks emailProtection/);
  refused(signedBy(noKeyUsage), 'WL_SIGNER_KEY_USAGE', /no keyUsage extension/);
});

test('EX_2.2_5050: an RSA key shorter than 2048 bits is refused', async () => {
  refused(signedBy(await signer({}, 1024)), 'WL_SIGNER_KEY_WEAK', /1024 bits, fewer than 2048/);
});

test("EX_2.2_5050: a subject with two OUs, one of them the ANS's, or an OU in fullwidth digits, is not the ANS", async () => {
  const withOu = (ous: string[]): SubjectAttr[] => [
    ['C', 'FR'],
    ['ST', 'Paris (75)'],
    ['O', 'AGENCE DU NUMERIQUE EN SANTE'],
    ...ous.map((ou): SubjectAttr => ['OU', ou]),
    ['CN', 'SIGNATURE LISTE BLANCHE'],
  ];
  const [twoOus, fullwidth, lowerCn] = await Promise.all([
    signer({ subject: withOu(['318751275100020', '1130099991']) }),
    signer({ subject: withOu(['３１８７５１２７５１０００２０']) }),
    signer({
      subject: [
        ['C', 'FR'],
        ['O', 'CAPGEMINI TECHNOLOGY SERVICES'],
        ['OU', '347976684200724'],
        ['CN', 'ALB.MSSANTE.FR'],
      ],
    }),
  ]);
  refused(signedBy(twoOus), 'WL_SIGNER_NOT_ANS', /OU=1130099991/);
  refused(signedBy(fullwidth), 'WL_SIGNER_NOT_ANS', /３１８/);
  refused(signedBy(lowerCn), 'WL_SIGNER_NOT_ANS', /ALB\.MSSANTE\.FR/);
  // The patterns themselves: exact values, every value of a repeated attribute.
  assert.ok(signerMatches(parseDn('CN=x,OU=318751275100020,C=FR'), { OU: ['318751275100020'] }));
  assert.ok(!signerMatches(parseDn('CN=x,OU=318751275100020,OU=1130099991,C=FR'), { OU: ['318751275100020'] }));
  assert.ok(signerMatches(parseDn('CN=x,OU=318751275100020,OU=1130099991,C=FR'), { OU: ['318751275100020', '1130099991'] }));
  assert.ok(!signerMatches(parseDn('CN=x,OU=３１８７５１２７５１０００２０,C=FR'), { OU: ['318751275100020'] }));
});
