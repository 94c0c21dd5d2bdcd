// Signature wrapping (XSW) and tampering: what is read must be exactly what was signed.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { isMssError, type ErrorCode } from '../../src/errors.js';
import type { TrustStore } from '../../src/pki/truststore.js';
import type { PkiManifest } from '../../sandbox/pki.js';
import { signWhitelistXml } from '../../sandbox/sign-whitelist.js';
import { buildWhitelistXml } from '../../sandbox/whitelist-data.js';
import { DEFAULT_ANS_SIGNER_SUBJECT } from '../../src/whitelist/config.js';
import { verifyWhitelist } from '../../src/whitelist/verify.js';
import { LIST_NS } from '../../src/whitelist/xml.js';
import { material, testPki, trustOf } from '../helpers/pki.js';
import { signedList } from '../helpers/whitelist.js';

let pki: PkiManifest;
let trust: TrustStore;
let good: string;
before(async () => {
  pki = await testPki();
  trust = trustOf(pki);
  good = signedList(pki);
});

const EVIL = `<Domaine xmlns="${LIST_NS}"><Nom>evil.mssante.fr</Nom><DNCertificatOperateur>CN=mss.rogue.sandbox.invalid,OU=1590000000,O=STRUCTURE NON REFERENCEE,ST=Nord (59),C=FR</DNCertificatOperateur></Domaine>`;

function verify(xml: string | Buffer) {
  return verifyWhitelist(typeof xml === 'string' ? Buffer.from(xml) : xml, { trust, signer: DEFAULT_ANS_SIGNER_SUBJECT, maxBytes: 1_000_000 });
}
function refused(xml: string, code: ErrorCode, why: string): void {
  assert.throws(
    () => verify(xml),
    (e: unknown) => isMssError(e, code),
    `${why}: expected ${code}`,
  );
}

test('EX_2.2_5040: a Domaine or ListeDomaines hidden inside the Signature (outside the signed content) is refused', () => {
  refused(good.replace('</Signature>', `<Object>${EVIL}</Object></Signature>`), 'WL_UNSIGNED_CONTENT', 'Domaine in ds:Object');
  refused(
    good.replace('</Signature>', `<Object><ListeDomaines xmlns="${LIST_NS}">${EVIL}</ListeDomaines></Object></Signature>`),
    'WL_UNSIGNED_CONTENT',
    'ListeDomaines in ds:Object',
  );
  refused(good.replace('<X509Data>', `<X509Data>${EVIL}`), 'WL_UNSIGNED_CONTENT', 'Domaine in X509Data');
});

test('EX_2.2_5040: a Domaine or second ListeDomaines added anywhere else is covered by the signature (URI="") and refused', () => {
  refused(good.replace('</Signature>', `</Signature><ListeDomaines>${EVIL}</ListeDomaines>`), 'WL_SHAPE', 'second ListeDomaines after the Signature');
  refused(good.replace('</Signature>', `</Signature><Extension>${EVIL}</Extension>`), 'WL_DIGEST_MISMATCH', 'Domaine in an element after the Signature');
  refused(good.replace('<ListeDomaines>', `<ListeDomaines>${EVIL}`), 'WL_DIGEST_MISMATCH', 'Domaine in ListeDomaines');
  refused(good.replace('<Signature', `${EVIL}<Signature`), 'WL_DIGEST_MISMATCH', 'Domaine before the Signature');
});

test('processing instructions are refused (none in the published shape; invisible to the signature outside the root)', () => {
  refused(good.replace('<?xml version="1.0" encoding="UTF-8"?>', '<?xml-stylesheet href="x"?>'), 'WL_SHAPE', 'PI instead of the declaration');
  refused(good.replace('<ListeDomaines>', '<ListeDomaines><?php x ?>'), 'WL_SHAPE', 'PI inside the root');
});

test('EX_2.2_5040: a wrapped signature (the signed list moved under a forged root) is refused', () => {
  const signedRoot = good.replace(/^<\?xml[^>]*\?>/, '');
  const forged = `<?xml version="1.0" encoding="UTF-8"?><ListeBlancheMSSante xmlns="${LIST_NS}"><DateDeGeneration>2030-01-01T00:00:00Z</DateDeGeneration><ListeDomaines>${EVIL}</ListeDomaines><Extension>${signedRoot}</Extension></ListeBlancheMSSante>`;
  refused(forged, 'WL_SIGNATURE_MISPLACED', 'wrapped under a forged root');
  // The same with the original moved into the forged list's own ListeDomaines.
  refused(forged.replace('<Extension>', '<ListeDomaines>').replace('</Extension>', '</ListeDomaines>'), 'WL_SHAPE', 'two ListeDomaines');
});

test('EX_2.2_5040: a validly computed signature that sits in a nested element, or signs only part of the list, is refused', () => {
  const xml = buildWhitelistXml([{ domain: 'a.mssante.fr', dn: pki.operators[0]?.subject ?? '', description: 'a' }]);
  const nested = signWhitelistXml(xml, material(pki.ansSigner), { location: { reference: "//*[local-name()='ListeDomaines']", action: 'append' } });
  refused(nested, 'WL_SIGNATURE_MISPLACED', 'signature inside ListeDomaines');
  const partial = signWhitelistXml(xml, material(pki.ansSigner), { referenceXPath: "//*[local-name()='ListeDomaines']" });
  assert.match(partial, /URI="#_0"/);
  refused(partial, 'WL_SIGNATURE_REFERENCE', 'reference to ListeDomaines only');
  const twice = signWhitelistXml(signedList(pki, { xml }), material(pki.ansSigner));
  refused(twice, 'WL_SIGNATURE_MULTIPLE', 'two signatures');
  const twoRefs = good.replace(/(<Reference URI="">[\s\S]*?<\/Reference>)/, '$1$1');
  refused(twoRefs, 'WL_SIGNATURE_REFERENCE', 'two references');
  refused(good.replace('<Reference URI="">', '<Reference>'), 'WL_SIGNATURE_REFERENCE', 'reference without URI');
  refused(good.replace('<SignatureValue>', '<SignatureMethod Algorithm="x"/><SignatureValue>'), 'WL_SIGNATURE_MALFORMED', 'unexpected element in Signature');
});

test('EX_2.2_5040 EX_2.2_5030: any single-byte change in a signed list makes verification fail', () => {
  // One entry keeps the sweep fast; every byte of markup and content is changed once, and
  // every 7th byte of the certificate's base64 (each change there alters the certificate).
  const list = Buffer.from(
    signedList(pki, { entries: [{ domain: 'ch-exemple.mssante.fr', dn: pki.operators[0]?.subject ?? '', description: 'Bouches-du-Rhône' }] }),
  );
  assert.ok(verify(list));
  const certStart = list.indexOf('<X509Certificate>') + '<X509Certificate>'.length;
  const certEnd = list.indexOf('</X509Certificate>');
  let checked = 0;
  const accepted: number[] = [];
  for (let i = 0; i < list.length; i++) {
    if (i >= certStart && i < certEnd && (i - certStart) % 7 !== 0) continue;
    const mutated = Buffer.from(list);
    mutated[i] = (mutated[i] as number) ^ 0x01;
    checked++;
    try {
      verify(mutated);
      accepted.push(i);
    } catch {
      /* refused, as it must be */
    }
  }
  assert.deepEqual(
    accepted.map((i) => `${i}: …${list.subarray(Math.max(0, i - 20), i + 20).toString('latin1')}…`),
    [],
    `${accepted.length} of ${checked} single-byte changes were accepted`,
  );
  assert.ok(checked > 1500, `${checked} changes checked`);
});
