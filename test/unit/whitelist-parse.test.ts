import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { isMssError, type ErrorCode } from '../../src/errors.js';
import type { TrustStore } from '../../src/pki/truststore.js';
import type { PkiManifest } from '../../sandbox/pki.js';
import { DEFAULT_ANS_SIGNER_SUBJECT } from '../../src/whitelist/config.js';
import { verifyWhitelist, type VerifiedWhitelist } from '../../src/whitelist/verify.js';
import { LIST_NS } from '../../src/whitelist/xml.js';
import { testPki, trustOf } from '../helpers/pki.js';
import { signedList } from '../helpers/whitelist.js';

let pki: PkiManifest;
let trust: TrustStore;
before(async () => {
  pki = await testPki();
  trust = trustOf(pki);
});

function verify(xml: string | Buffer, maxBytes = 1_000_000): VerifiedWhitelist {
  return verifyWhitelist(typeof xml === 'string' ? Buffer.from(xml, 'utf8') : xml, { trust, signer: DEFAULT_ANS_SIGNER_SUBJECT, maxBytes, source: 'test.xml' });
}

function refused(xml: string | Buffer, code: ErrorCode, maxBytes?: number): void {
  assert.throws(
    () => verify(xml, maxBytes),
    (e: unknown) => isMssError(e, code) && /test\.xml/.test(e.message),
    code,
  );
}

const domaine = (nom: string, dn: string, extra = '') =>
  `<Domaine><Nom>${nom}</Nom><Description>d</Description><DNCertificatOperateur>${dn}</DNCertificatOperateur><ResponsableContact>04 00 00 00 00, a@b.fr
</ResponsableContact><SupportContact/><DateMAJ>2025-01-27T15:49:34Z</DateMAJ>${extra}</Domaine>`;
const doc = (body: string, head = '<DateDeGeneration>2025-03-13T14:54:10Z</DateDeGeneration>') =>
  `<?xml version="1.0" encoding="UTF-8"?><ListeBlancheMSSante xmlns="${LIST_NS}">\n    ${head}\n    <ListeDomaines>${body}</ListeDomaines>\n</ListeBlancheMSSante>`;

const DN1 = 'CN=smtp-1.sesan.santnet.com,OU=1750048886,O=GIP SESAN,ST=Paris (75),C=FR';
const DN2 = 'CN=mss.enovacom.fr,OU=344368557300034,O=ENOVACOM,ST=Bouches-du-Rhône (13),C=FR';

test('EX_LBL_5010: the published shape is read; domains compare lowercase; a domain appears once per DN', () => {
  const v = verify(
    signedList(pki, {
      xml: doc(
        domaine('15-20.mssante.fr', DN2) +
          domaine('15-20.mssante.fr', DN1) +
          domaine('UC-CMP.mssante.fr', DN1) +
          domaine('uc-cmp.mssante.fr', DN1) +
          domaine('interop-mssante.apicrypt.org', DN2, '<FutureField>ignored</FutureField>'),
        '<versionFormat>1.0</versionFormat><DateDeGeneration>2025-03-13T14:54:10Z</DateDeGeneration>',
      ),
    }),
  );
  assert.equal(v.index.generated, '2025-03-13T14:54:10Z');
  assert.equal(v.index.versionFormat, '1.0');
  assert.equal(v.index.domainCount, 3);
  assert.equal(v.index.dnCount, 2);
  assert.deepEqual(v.index.dnsOf('15-20.MSSANTE.FR'), [DN2, DN1]);
  assert.deepEqual(v.index.dnsOf('UC-CMP.mssante.fr'), [DN1]);
  assert.deepEqual(v.index.domainsOf(DN1), ['15-20.mssante.fr', 'uc-cmp.mssante.fr']);
  assert.deepEqual(v.index.domainsOf('cn=SMTP-1.sesan.santnet.com, ou=1750048886, o=gip sesan, st=paris (75), c=fr'), [
    '15-20.mssante.fr',
    'uc-cmp.mssante.fr',
  ]);
  // RDN order is significant (RFC 4517): the reversed DN is another name.
  assert.deepEqual(v.index.domainsOf('c=fr,st=paris (75),o=gip sesan,ou=1750048886,cn=SMTP-1.sesan.santnet.com'), []);
  assert.ok(v.index.allows(DN2, 'interop-mssante.apicrypt.org'));
  assert.ok(!v.index.allows(DN1, 'interop-mssante.apicrypt.org'));
  assert.deepEqual(v.index.skipped, []);
});

test('entries that cannot be used are skipped and reported, the rest of the list is used', () => {
  const v = verify(
    signedList(pki, {
      xml: doc(
        domaine('ok.mssante.fr', DN1) +
          domaine('not a domain', DN1) +
          domaine('bad-dn.mssante.fr', 'CN=x,,O=y') +
          '<Domaine><Nom>no-dn.mssante.fr</Nom></Domaine>',
      ),
    }),
  );
  assert.deepEqual([...v.index.domains()], ['ok.mssante.fr']);
  assert.deepEqual(
    v.index.skipped.map((s) => s.position),
    [2, 3, 4],
  );
  assert.match(v.index.skipped[1]?.reason ?? '', /DN_INVALID|invalid distinguished name/);
});

test('a wrong root element or namespace is refused as such', () => {
  refused(doc(domaine('a.mssante.fr', DN1)).replaceAll('ListeBlancheMSSante', 'ListeBlanche'), 'WL_WRONG_ROOT');
  refused(doc(domaine('a.mssante.fr', DN1)).replace(` xmlns="${LIST_NS}"`, ''), 'WL_WRONG_ROOT');
  refused(doc(domaine('a.mssante.fr', DN1)).replace(LIST_NS, 'https://example.org/schema'), 'WL_WRONG_ROOT');
});

test('a list without DateDeGeneration, with a bad date or with two ListeDomaines is refused (WL_SHAPE, WL_DATE_INVALID)', () => {
  refused(signedList(pki, { xml: doc(domaine('a.mssante.fr', DN1), '') }), 'WL_SHAPE');
  refused(signedList(pki, { xml: doc(domaine('a.mssante.fr', DN1), '<DateDeGeneration>yesterday</DateDeGeneration>') }), 'WL_DATE_INVALID');
  const two = doc(domaine('a.mssante.fr', DN1)).replace(
    '</ListeBlancheMSSante>',
    `<ListeDomaines>${domaine('b.mssante.fr', DN1)}</ListeDomaines></ListeBlancheMSSante>`,
  );
  refused(signedList(pki, { xml: two }), 'WL_SHAPE');
});

test('not well-formed XML, XML 1.1, other encodings and invalid UTF-8 are refused', () => {
  refused(doc(domaine('a.mssante.fr', DN1)).replace('</ListeDomaines>', ''), 'WL_XML_MALFORMED');
  refused('', 'WL_XML_MALFORMED');
  refused(doc('').replace('version="1.0"', 'version="1.1"'), 'WL_XML_MALFORMED');
  refused(doc('').replace('encoding="UTF-8"', 'encoding="ISO-8859-1"'), 'WL_ENCODING');
  refused(Buffer.concat([Buffer.from(doc('').slice(0, 60)), Buffer.from([0xc3, 0x28]), Buffer.from(doc('').slice(60))]), 'WL_ENCODING');
  refused(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(doc(''), 'utf16le')]), 'WL_ENCODING');
});

test('XXE and entity expansion (billion laughs) are refused before parsing: no DTD at all', () => {
  const xxe = `<?xml version="1.0"?><!DOCTYPE ListeBlancheMSSante [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>${doc(domaine('&xxe;', DN1)).replace(/^<\?xml[^>]*>/, '')}`;
  refused(xxe, 'WL_DTD_FORBIDDEN');
  const lol = Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i};`.repeat(10)}">`).join('');
  refused(
    `<?xml version="1.0"?><!DOCTYPE l [<!ENTITY lol0 "lol">${lol}]><ListeBlancheMSSante xmlns="${LIST_NS}">&lol9;</ListeBlancheMSSante>`,
    'WL_DTD_FORBIDDEN',
  );
  refused(`<!doctype x><ListeBlancheMSSante xmlns="${LIST_NS}"/>`, 'WL_DTD_FORBIDDEN');
});

test('a body above whitelist.maxBytes is refused with the size and the limit', () => {
  assert.throws(
    () => verify(doc(domaine('a.mssante.fr', DN1).repeat(50)), 4096),
    (e: unknown) => isMssError(e, 'WL_TOO_LARGE') && /more than whitelist\.maxBytes \(4096\)/.test(e.message),
  );
});
