import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import { test } from 'node:test';
import forge from 'node-forge';
import { isMssError } from '../../src/errors.js';
import { canonicalDn, dnEquals, dnFromCertificate, dnFromNameDer, formatDn, parseDn } from '../../src/pki/dn.js';
import { testPki } from '../helpers/pki.js';

// DER builder for names with the string types certificates use.
function tlv(tag: number, content: Buffer): Buffer {
  const len = content.length < 128 ? Buffer.from([content.length]) : Buffer.from([0x81, content.length]);
  return Buffer.concat([Buffer.from([tag]), len, content]);
}
const OID_CN = Buffer.from([0x06, 0x03, 0x55, 0x04, 0x03]);
const OID_O = Buffer.from([0x06, 0x03, 0x55, 0x04, 0x0a]);
const OID_C = Buffer.from([0x06, 0x03, 0x55, 0x04, 0x06]);
const OID_ST = Buffer.from([0x06, 0x03, 0x55, 0x04, 0x08]);
const OID_OU = Buffer.from([0x06, 0x03, 0x55, 0x04, 0x0b]);
const ava = (oid: Buffer, tag: number, value: Buffer): Buffer => tlv(0x31, tlv(0x30, Buffer.concat([oid, tlv(tag, value)])));

const LISTED = 'CN=mss.ch-sandbox-a.fr,OU=1130099991,O=CENTRE HOSPITALIER SANDBOX A,ST=Bouches-du-Rhône (13),C=FR';

function same(a: string, b: string): void {
  assert.equal(canonicalDn(a), canonicalDn(b), `${a}  ≠  ${b}`);
}
function differ(a: string, b: string): void {
  assert.notEqual(canonicalDn(a), canonicalDn(b), `${a}  =  ${b}`);
}

test('EX_LBL_5010: RDN order is significant (RFC 4517 distinguishedNameMatch): the list writes CN first, the DER C first', () => {
  differ(LISTED, 'C=FR,ST=Bouches-du-Rhône (13),O=CENTRE HOSPITALIER SANDBOX A,OU=1130099991,CN=mss.ch-sandbox-a.fr');
  differ('CN=AC,OU=IGC-SANTE,OU=0002 187512751,O=ASIP-SANTE,C=FR', 'CN=AC,OU=0002 187512751,OU=IGC-SANTE,O=ASIP-SANTE,C=FR');
  same('CN=AC,OU=IGC-SANTE,OU=0002 187512751,O=ASIP-SANTE,C=FR', 'cn=ac, ou=igc-sante, ou=0002 187512751, o=asip-sante, c=fr');
  // Same attributes, content differs: never equal.
  differ('CN=a,OU=b', 'CN=b,OU=a');
  // A repeated attribute counts: one OU is not two.
  differ('CN=a,OU=x,OU=x', 'CN=a,OU=x');
  // The DER order (C first) is read into the list's order (CN first).
  const der = tlv(
    0x30,
    Buffer.concat([ava(OID_C, 0x13, Buffer.from('FR')), ava(OID_O, 0x0c, Buffer.from('ORG')), ava(OID_CN, 0x0c, Buffer.from('mss.exemple.fr'))]),
  );
  assert.equal(dnFromNameDer(der).canonical, canonicalDn('CN=mss.exemple.fr,O=ORG,C=FR'));
  assert.notEqual(dnFromNameDer(der).canonical, canonicalDn('C=FR,O=ORG,CN=mss.exemple.fr'));
});

test('EX_LBL_5010: the real list\'s writing still matches the certificates: quoted values with double spaces, ", " separators, NFC/NFD, case', () => {
  // A certificate subject as IGC-Santé issues it (DER, UTF8String, C first)…
  const cert = dnFromNameDer(
    tlv(
      0x30,
      Buffer.concat([
        ava(OID_C, 0x13, Buffer.from('FR')),
        ava(OID_ST, 0x0c, Buffer.from('Bouches-du-Rh\u00f4ne (13)')),
        ava(OID_O, 0x0c, Buffer.from("CENTRE HOSPITALIER  D'EXEMPLE")),
        ava(OID_OU, 0x0c, Buffer.from('1130099991')),
        ava(OID_CN, 0x0c, Buffer.from('mss.ch-exemple.fr')),
      ]),
    ),
  );
  // …and the ways the published list writes such a DN (synthetic DNs of the same shapes).
  for (const written of [
    "CN=mss.ch-exemple.fr,OU=1130099991,O=CENTRE HOSPITALIER  D'EXEMPLE,ST=Bouches-du-Rh\u00f4ne (13),C=FR",
    'CN=mss.ch-exemple.fr,OU=1130099991,O="CENTRE HOSPITALIER  D\'EXEMPLE",ST=Bouches-du-Rh\u00f4ne (13),C=FR',
    "CN=mss.ch-exemple.fr, OU=1130099991, O=CENTRE HOSPITALIER D'EXEMPLE, ST=Bouches-du-Rho\u0302ne (13), C=FR",
    "cn=MSS.CH-EXEMPLE.FR,ou=1130099991,o=centre hospitalier d'exemple,st=BOUCHES-DU-RHÔNE (13),c=fr",
  ]) {
    assert.ok(dnEquals(cert, written), written);
  }
});

test('RFC 4518 §2.2: U+FEFF and the other "mapped to nothing" characters are removed, not turned into spaces; tabs and NBSP are spaces', () => {
  same('CN=mss.exemple.fr', 'CN=mss.exem\uFEFFple.fr');
  differ('CN=mss exemple.fr', 'CN=mss\uFEFFexemple.fr');
  same('O=CENTREHOSPITALIER', 'O=CENTRE\u00ADHOSPITALIER');
  same('O=AB', 'O=A\u200BB\u200D');
  same('O=CENTRE HOSPITALIER', 'O=CENTRE\tHOSPITALIER');
  same('O=CENTRE HOSPITALIER', 'O=CENTRE\u00a0HOSPITALIER');
  // A value holding a prohibited character (private use, U+FFFD) equals nothing, itself included.
  assert.notEqual(parseDn('CN=a\uE000').canonical, parseDn('CN=a\uE000').canonical);
  assert.notEqual(parseDn('CN=a\uFFFD').canonical, parseDn('CN=a').canonical);
});

test('RFC 4517: a #hex value is compared as its BER value; a string reading "#04026162" is not the OCTET STRING #04026162', () => {
  const certWithText = dnFromNameDer(tlv(0x30, ava(OID_CN, 0x0c, Buffer.from('#04026162'))));
  assert.ok(!dnEquals(certWithText, 'CN=#04026162'), 'UTF8String "#04026162" vs BER OCTET STRING');
  assert.ok(dnEquals(certWithText, 'CN=\\#04026162'), 'the escaped string is that string');
  const certWithOctets = dnFromNameDer(tlv(0x30, ava(OID_CN, 0x04, Buffer.from('ab'))));
  assert.ok(dnEquals(certWithOctets, 'CN=#04026162'), 'the same BER value');
  assert.ok(!dnEquals(certWithOctets, 'CN=ab'));
  // A #hex DirectoryString is its string, whatever the ASN.1 string type (UTF8String here).
  assert.ok(dnEquals(dnFromNameDer(tlv(0x30, ava(OID_CN, 0x13, Buffer.from('abc')))), 'CN=#0c03616263'));
});

test('EX_LBL_5010: attribute types compare by meaning: case, aliases, OIDs', () => {
  same('cn=x,ou=y,o=z,st=Paris (75),c=FR', 'CN=x,OU=y,O=z,ST=Paris (75),C=FR');
  same('2.5.4.3=x,2.5.4.11=y,2.5.4.10=z,2.5.4.8=w,2.5.4.6=FR', 'CN=x,OU=y,O=z,ST=w,C=FR');
  same('OID.2.5.4.3=x,S=w,commonName=y', 'CN=x,ST=w,CN=y');
  same('E=a@b.fr,emailAddress=c@d.fr', 'EMAILADDRESS=a@b.fr,1.2.840.113549.1.9.1=c@d.fr');
  same('SERIALNUMBER=123,serialNumber=456', '2.5.4.5=123,2.5.4.5=456');
  assert.throws(
    () => parseDn('C N=x'),
    (e: unknown) => isMssError(e, 'DN_INVALID'),
  );
});

test('EX_LBL_5010: values compare case-, space- and Unicode-insensitively', () => {
  same(LISTED, 'CN=MSS.CH-SANDBOX-A.FR, OU=1130099991, O=centre  hospitalier   sandbox a, ST=BOUCHES-DU-RHÔNE (13), C=fr');
  same('CN = x , OU = y', 'CN=x,OU=y');
  // Composed "ô" and o + combining circumflex are the same text (NFKC).
  same('ST=Bouches-du-Rh\u00f4ne (13)', 'ST=Bouches-du-Rho\u0302ne (13)');
  // Full-width and non-breaking spaces normalise too.
  same('O=ＡＢＣ\u00a0SANTE', 'O=ABC SANTE');
  differ('ST=Bouches-du-Rhône (13)', 'ST=Bouches-du-Rhone (13)');
});

test('EX_LBL_5010: RFC 4514 escapes, hex UTF-8, #BER and RFC 1779 quoting', () => {
  const dn = parseDn('CN=a\\,b\\+c\\"d\\\\e,O=Rh\\C3\\B4ne,OU=\\ lead,L=#0c03616263,ST="Paris, (75)";C=FR');
  assert.deepEqual(
    dn.rdns.map((r) => r.map((a) => `${a.type}=${a.value}`)),
    [['CN=a,b+c"d\\e'], ['O=Rhône'], ['OU= lead'], ['L=abc'], ['ST=Paris, (75)'], ['C=FR']],
  );
  same('O=Rh\\C3\\B4ne', 'O=Rhône');
  same('CN=#0c03616263', 'CN=abc');
  same('CN=a\\2Cb', 'CN=a\\,b');
  // A #BER value that is not a string keeps its encoding.
  assert.equal(parseDn('UID=#020101').rdns[0]?.[0]?.ber, '020101');
  for (const bad of ['CN', 'CN=a\\', 'O=\\C3\\28', 'CN="abc', 'CN=#0c0', 'CN=x,,OU=y', 'CN=#0c0461']) {
    assert.throws(
      () => parseDn(bad),
      (e: unknown) => isMssError(e, 'DN_INVALID') && e.message.includes(bad),
      bad,
    );
  }
});

test('EX_LBL_5010: multi-valued RDNs compare with their attributes sorted, and differ from separate RDNs', () => {
  same('CN=a+OU=b,O=c', 'OU=b+CN=a,O=c');
  differ('CN=a+OU=b,O=c', 'CN=a,OU=b,O=c');
  assert.equal(formatDn(parseDn('CN=a+OU=b,O=c')), 'CN=a+OU=b,O=c');
});

test('formatDn escapes what RFC 4514 requires and keeps UTF-8 readable', () => {
  assert.equal(formatDn(parseDn('CN=a\\,b,O=\\#x,OU=y\\ ,ST=Rhône')), 'CN=a\\,b,O=\\#x,OU=y\\ ,ST=Rhône');
  assert.ok(dnEquals(formatDn(parseDn(LISTED)), LISTED));
});

test('EX_LBL_5010: a certificate subject (node X509Certificate, DER, forge) equals its list entry', async () => {
  const pki = await testPki();
  const op = pki.operators[0];
  assert.ok(op);
  const pem = fs.readFileSync(op.cert, 'utf8');
  const x = new X509Certificate(pem);
  const fromNode = dnFromCertificate(x);
  const fromDer = dnFromCertificate(new Uint8Array(x.raw));
  assert.equal(fromNode.canonical, canonicalDn(op.subject));
  assert.equal(fromDer.canonical, fromNode.canonical);
  assert.equal(formatDn(fromNode), LISTED);
  // node-forge reads the same certificate; its subject, written as RFC 2253, compares equal.
  const f = forge.pki.certificateFromPem(pem);
  const forgeDn = [...f.subject.attributes]
    .reverse()
    .map((a) => `${a.shortName}=${forge.util.decodeUtf8(String(a.value))}`)
    .join(',');
  assert.ok(dnEquals(forgeDn, op.subject), forgeDn);
});

test('subjects in UTF8String, PrintableString, IA5String, BMPString and TeletexString decode to the same text', () => {
  const bmp = Buffer.from('Rhône', 'utf16le').swap16();
  const name = (cnTag: number, cn: Buffer, oTag: number, o: Buffer) => tlv(0x30, Buffer.concat([ava(OID_O, oTag, o), ava(OID_CN, cnTag, cn)]));
  const utf8 = dnFromNameDer(name(0x0c, Buffer.from('mss.exemple.fr'), 0x0c, Buffer.from('Rhône')));
  assert.equal(formatDn(utf8), 'CN=mss.exemple.fr,O=Rhône');
  for (const [cnTag, oTag, o] of [
    [0x13, 0x1e, bmp],
    [0x16, 0x14, Buffer.from('Rhône', 'latin1')],
  ] as const) {
    assert.equal(dnFromNameDer(name(cnTag, Buffer.from('mss.exemple.fr'), oTag, o)).canonical, utf8.canonical);
  }
  // Multi-valued RDN from DER: one SET with two attributes.
  const multi = tlv(
    0x30,
    tlv(0x31, Buffer.concat([tlv(0x30, Buffer.concat([OID_CN, tlv(0x0c, Buffer.from('a'))])), tlv(0x30, Buffer.concat([OID_O, tlv(0x0c, Buffer.from('b'))]))])),
  );
  assert.equal(dnFromNameDer(multi).canonical, canonicalDn('O=b+CN=a'));
  assert.throws(
    () => dnFromNameDer(tlv(0x30, ava(OID_CN, 0x0c, Buffer.from([0xc3, 0x28])))),
    (e: unknown) => isMssError(e, 'DER_MALFORMED'),
  );
});

test('canonical forms are cached: a million lookups of a listed DN stay in the microsecond range', () => {
  canonicalDn(LISTED);
  const t = process.hrtime.bigint();
  for (let i = 0; i < 1_000_000; i++) canonicalDn(LISTED);
  const nsEach = Number(process.hrtime.bigint() - t) / 1e6;
  assert.ok(nsEach < 2000, `${nsEach} ns per lookup`);
});
