// The exclusive canonicalization the digest is computed over (c14n.ts) against two other
// implementations: xml-crypto's (on an @xmldom/xmldom DOM) and libxml2's (xmllint --exc-c14n);
// and the whole verification against xmlsec1 on the same signed files.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import { ExclusiveCanonicalization } from 'xml-crypto';
import type { PkiManifest } from '../../sandbox/pki.js';
import { canonicalString } from '../../src/whitelist/c14n.js';
import { contentFrom, readContent } from '../../src/whitelist/content.js';
import { checkSignatureForm, signedContent } from '../../src/whitelist/signature.js';
import { streamList } from '../../src/whitelist/xml-stream.js';
import { DEFAULT_ANS_SIGNER_SUBJECT } from '../../src/whitelist/config.js';
import { verifyWhitelist } from '../../src/whitelist/verify.js';
import { parseXml } from '../../src/whitelist/xml.js';
import { parseXmlTree, type XmlCodes } from '../../src/whitelist/xml-tree.js';
import { testPki, trustOf } from '../helpers/pki.js';
import { tmpDir } from '../helpers/tmp.js';
import { signedList } from '../helpers/whitelist.js';

const CODES: XmlCodes = { malformed: 'WL_XML_MALFORMED', tooComplex: 'WL_TOO_COMPLEX', dtd: 'WL_DTD_FORBIDDEN', shape: 'WL_SHAPE' };
const tree = (xml: string) => parseXmlTree(xml, 'doc.xml', { maxDepth: 64, maxNodes: 100_000 }, CODES);

// Namespaces declared, redeclared, unused, undeclared; attributes to sort by namespace URI and
// name; values with every character c14n escapes; CDATA, character references, CR LF, comments.
const DOCS = [
  '<r xmlns="urn:a" xmlns:b="urn:b" xmlns:unused="urn:u"><b:x b:attr="1" z="2" a="&#9;t&#10;&#13;&quot;&lt;&gt;&amp;"/><y xmlns="">t&#13;x &gt; &lt; &amp;<![CDATA[ <cdata> & ]]></y><z xmlns="urn:a">  </z><q xmlns:c="urn:c" c:k="v" xml:lang="fr"><c:in xmlns:c="urn:c2"/></q></r>',
  '<p:r xmlns:p="urn:p" xmlns="urn:d"><e a="1&#x9;\nx"><p:f/></e><g xmlns="" h=" a  b "/>\r\n</p:r>',
  '<r xmlns:a="urn:a" xmlns:b="urn:b"><x b:z="1" a:z="2" z="0" b:y="3"/><é ü="1" a="2">𝒳 é ﬃ &#x1D4B3;</é></r>',
  '<ListeBlancheMSSante xmlns="https://listeblanche.mssante.fr/schema"><DateDeGeneration>2025-03-13T14:54:10Z</DateDeGeneration><ListeDomaines>\r\n <Domaine><Nom>a.mssante.fr</Nom><DNCertificatOperateur>CN=x,O="A  B",ST=Rhône</DNCertificatOperateur></Domaine></ListeDomaines></ListeBlancheMSSante>',
];

test('EX_2.2_5040: c14n.ts gives the exclusive canonical form xml-crypto and libxml2 (xmllint --exc-c14n) give', () => {
  const dir = tmpDir();
  for (const xml of DOCS) {
    const mine = canonicalString(tree(xml));
    const xmlCrypto = new ExclusiveCanonicalization().process(parseXml(xml, 'doc.xml').documentElement as never, {
      inclusiveNamespacesPrefixList: [],
      defaultNs: '',
      ancestorNamespaces: [],
    });
    assert.equal(mine, xmlCrypto, `xml-crypto: ${xml}`);
    const file = path.join(dir, 'doc.xml');
    fs.writeFileSync(file, xml);
    assert.equal(mine, execFileSync('xmllint', ['--exc-c14n', file], { encoding: 'utf8' }), `libxml2: ${xml}`);
  }
  // Comments are not part of the canonical form (exc-c14n without comments).
  assert.equal(canonicalString(tree('<r>a<!-- c -->b</r>')), '<r>ab</r>');
});

test('EX_2.2_5040: an InclusiveNamespaces PrefixList renders its prefixes where in scope and not already in scope at the parent (Canonical XML rules)', () => {
  const xml = '<r xmlns="urn:d" xmlns:k="urn:k" xmlns:u="urn:u"><a><b xmlns:k="urn:k2"/></a></r>';
  assert.equal(canonicalString(tree(xml), { inclusivePrefixes: ['k', '#default'] }), '<r xmlns="urn:d" xmlns:k="urn:k"><a><b xmlns:k="urn:k2"></b></a></r>');
  assert.equal(canonicalString(tree(xml)), '<r xmlns="urn:d"><a><b></b></a></r>');
});

let pki: PkiManifest;
before(async () => {
  pki = await testPki();
});

test('EX_2.2_5040: xmlsec1 (libxml2) and mss-sidecar agree on signed lists: the good one verifies for both, a modified one for neither', () => {
  const dir = tmpDir();
  const trust = trustOf(pki);
  const xmlsec = (file: string) =>
    spawnSync('xmlsec1', ['--verify', '--enabled-key-data', 'x509', '--trusted-pem', pki.root.cert, '--untrusted-pem', pki.intermediate.cert, file], {
      encoding: 'utf8',
    }).status === 0;
  const ours = (file: string) => {
    try {
      verifyWhitelist(fs.readFileSync(file), { trust, signer: DEFAULT_ANS_SIGNER_SUBJECT, maxBytes: 1_000_000 });
      return true;
    } catch {
      return false;
    }
  };
  const good = signedList(pki);
  const cases: Array<[string, string, boolean]> = [
    ['as signed', good, true],
    ['CR LF line ends', good.replace(/\n/g, '\r\n'), true],
    ['a comment added', good.replace('<ListeDomaines>', '<ListeDomaines><!-- note -->'), true],
    ['a character reference for a letter', good.replace('<Nom>dgs', '<Nom>&#100;gs'), true],
    ['a letter changed', good.replace('<Nom>dgs', '<Nom>dgt'), false],
    ['an attribute added', good.replace('<ListeDomaines>', '<ListeDomaines x="1">'), false],
  ];
  for (const [name, xml, valid] of cases) {
    const file = path.join(dir, 'list.xml');
    fs.writeFileSync(file, xml);
    assert.equal(xmlsec(file), valid, `xmlsec1, ${name}`);
    assert.equal(ours(file), valid, `mss-sidecar, ${name}`);
  }
});

test('EX_2.2_5040: a list signed by xmlsec1 with an InclusiveNamespaces PrefixList verifies (whole-tree path); dropping the listed declaration is caught', () => {
  const dir = tmpDir();
  const template = `<?xml version="1.0" encoding="UTF-8"?><ListeBlancheMSSante xmlns="https://listeblanche.mssante.fr/schema" xmlns:x="urn:x">
    <DateDeGeneration>2025-03-13T14:54:10Z</DateDeGeneration>
    <ListeDomaines>
        <Domaine><Nom>a.mssante.fr</Nom><Description>d</Description><DNCertificatOperateur>${pki.operators[0]?.subject}</DNCertificatOperateur></Domaine>
    </ListeDomaines>
<Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo><CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/><Reference URI=""><Transforms><Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/><Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"><InclusiveNamespaces xmlns="http://www.w3.org/2001/10/xml-exc-c14n#" PrefixList="x"/></Transform></Transforms><DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><DigestValue/></Reference></SignedInfo><SignatureValue/><KeyInfo><X509Data/></KeyInfo></Signature></ListeBlancheMSSante>`;
  fs.writeFileSync(path.join(dir, 'template.xml'), template);
  execFileSync('xmlsec1', [
    '--sign',
    '--privkey-pem',
    `${pki.ansSigner.key},${pki.ansSigner.cert}`,
    '--output',
    path.join(dir, 'signed.xml'),
    path.join(dir, 'template.xml'),
  ]);
  const signed = fs.readFileSync(path.join(dir, 'signed.xml'), 'utf8');
  const opts = { trust: trustOf(pki), signer: DEFAULT_ANS_SIGNER_SUBJECT, maxBytes: 1_000_000 };
  assert.equal(verifyWhitelist(Buffer.from(signed), opts).index.domainCount, 1);
  // The unused x prefix is in what was signed only because of the PrefixList.
  assert.throws(
    () => verifyWhitelist(Buffer.from(signed.replace(' xmlns:x="urn:x"', '')), opts),
    (e: unknown) => (e as { code?: string }).code === 'WL_DIGEST_MISMATCH',
  );
});

test('EX_2.2_5040: the one-pass reader (xml-stream.ts) digests and reads exactly what the tree path does', () => {
  const trust = trustOf(pki);
  const now = new Date();
  const base = signedList(pki, { generated: new Date(now.getTime() - 3_600_000) });
  const variants = [
    base,
    base.replace(/\n/g, '\r\n'),
    base.replace('<ListeDomaines>', '<ListeDomaines><!-- a comment --><Extra a="1">x<Nom>not an entry</Nom></Extra>'),
    base.replace('<Nom>dgs.mssante.fr</Nom>', '<Nom>dgs<!-- c -->.mssante.fr</Nom><Nom>second.mssante.fr</Nom>'),
    base.replace(/<Description>([^<]*)<\/Description>/, '<Description><![CDATA[<&>]]>&#233;<b>ignored</b></Description>'),
  ];
  for (const xml of variants) {
    const text = xml.replace(/^\uFEFF/, '');
    const streamed = streamList(text, 'list.xml', { maxDepth: 32, maxNodes: 10_000 }, CODES);
    const root = tree(text);
    const sig = checkSignatureForm(root, 'list.xml');
    const canonical = signedContent(root, sig);
    assert.equal(streamed.digest.toString('hex'), createHash('sha256').update(canonical, 'utf8').digest('hex'), 'same digest');
    const fromTree = readContent(root, 'list.xml', now, 24);
    const fromStream = contentFrom(streamed.generated ?? '', streamed.versionFormat, streamed.domaines, 'list.xml', now, 24);
    assert.deepEqual(fromStream, fromTree);
  }
  // The whole verification: CR LF and comments change nothing signed; an added element does.
  const opts = { trust, signer: DEFAULT_ANS_SIGNER_SUBJECT, maxBytes: 1_000_000, at: now };
  assert.equal(verifyWhitelist(Buffer.from(variants[1] as string), opts).index.domainCount, 6);
  assert.throws(
    () => verifyWhitelist(Buffer.from(variants[2] as string), opts),
    (e: unknown) => (e as { code?: string }).code === 'WL_DIGEST_MISMATCH',
  );
});
