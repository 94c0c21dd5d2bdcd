// The sandbox ANS's own reader of the liste blanche (sandbox/whitelist-reader.ts), which the
// Annuaire and SIPIL peers authorise callers with, against the client's verifier on the
// hand-written lists of test/fixtures/spec (Tableaux 42–44): they agree on who may act for
// which domain; the sandbox, reading a list the ANS writes, refuses what the tables forbid.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import { isMssError } from '../../src/errors.js';
import { DEFAULT_ANS_SIGNER_SUBJECT } from '../../src/whitelist/config.js';
import { verifyWhitelist } from '../../src/whitelist/verify.js';
import type { PkiManifest } from '../../sandbox/pki.js';
import { readAnsList } from '../../sandbox/whitelist-reader.js';
import { AnsWhitelistSource } from '../../sandbox/whitelist-source.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { testPki, trustOf } from '../helpers/pki.js';
import { tmpDir } from '../helpers/tmp.js';
import { signedList } from '../helpers/whitelist.js';

const SPEC = path.join(REPO_ROOT, 'test', 'fixtures', 'spec');
const fixture = (name: string): string => fs.readFileSync(path.join(SPEC, name), 'utf8');

const XYZ = 'CN=mss.ch-xyz.fr,OU=1590000017,O=CH XYZ,ST=Nord (59),C=FR';
const ASIP = "CN=mss2.ch-xyz.fr,OU=318751275100020,O=AGENCE DES SYSTEMES D'INFORMATION PARTAG,ST=Paris (75),C=FR";

let pki: PkiManifest;
before(async () => {
  pki = await testPki();
});

/** The client's reading: the fixture signed by the sandbox ANS, verified as a downloaded copy. */
function clientReading(xml: string) {
  return verifyWhitelist(Buffer.from(signedList(pki, { xml })), { trust: trustOf(pki), signer: DEFAULT_ANS_SIGNER_SUBJECT, maxBytes: 1 << 20 }).index;
}

function refusal(xml: string): { code: string; message: string } {
  try {
    readAnsList(Buffer.from(xml), 'list');
  } catch (err) {
    assert.ok(isMssError(err), String(err));
    return { code: err.code, message: err.message };
  }
  return assert.fail('the sandbox reader accepted the list');
}

test("EX_LBL_5010 Tableaux 42–44: the client's verifier and the sandbox ANS's reader agree on the hand-written list — a DN for two domains, a domain for two DNs, names and DNs compared without case or spacing", () => {
  const xml = fixture('liste-blanche.xml');
  const client = clientReading(xml);
  const ans = readAnsList(Buffer.from(xml), 'liste-blanche.xml');
  assert.equal(ans.generated, '2024-03-20T02:00:00+01:00');
  assert.equal(ans.versionFormat, '1.0');
  assert.equal(ans.entries.length, 3);
  assert.deepEqual([...ans.domainsOf(XYZ)], ['ch-xyz.mssante.fr', 'ch-xyz-securise.fr']);
  const probes: Array<[string, string]> = [
    [XYZ, 'ch-xyz.mssante.fr'],
    [XYZ, 'CH-XYZ-SECURISE.FR'],
    [ASIP, 'ch-xyz.mssante.fr'],
    [ASIP, 'ch-xyz-securise.fr'],
    ['cn=MSS.CH-XYZ.FR, ou=1590000017, o=ch xyz, st=NORD (59), c=fr', 'ch-xyz.mssante.fr'],
    [XYZ, 'ch-abc.mssante.fr'],
    ['CN=mss.ch-abc.fr,OU=1590000025,O=CH ABC,ST=Nord (59),C=FR', 'ch-xyz.mssante.fr'],
    ['not a DN', 'ch-xyz.mssante.fr'],
  ];
  const verdicts = probes.map(([dn, domain]) => ({ dn, domain, client: client.allows(dn, domain), ans: ans.allows(dn, domain) }));
  assert.deepEqual(
    verdicts.map((v) => v.client),
    [true, true, true, false, true, false, false, false],
    'the expected reading',
  );
  assert.deepEqual(
    verdicts.filter((v) => v.client !== v.ans),
    [],
    'the two readers agree',
  );
  for (const domain of ['ch-xyz.mssante.fr', 'Ch-Xyz-Securise.fr', 'ch-abc.mssante.fr']) assert.equal(ans.hasDomain(domain), client.hasDomain(domain), domain);
  for (const [dn] of probes) assert.equal(ans.hasDn(dn), client.hasDn(dn), dn);
  // The ANS reads its list signed or not alike: the Signature is Tableau 42's, not checked.
  assert.deepEqual(readAnsList(Buffer.from(signedList(pki, { xml })), 'signed').entries, ans.entries);
});

test('Tableau 44: a DNCertificatOperateur not in the order CN, OU, O, ST, C is refused by the sandbox ANS (the list it writes never has one); the client keeps the list, and that DN matches no certificate', () => {
  const xml = fixture('liste-blanche-dn-order.xml');
  const r = refusal(xml);
  assert.equal(r.code, 'SANDBOX_LIST_DN');
  assert.match(r.message, /Domaine 3: DNCertificatOperateur « C=FR,ST=Paris \(75\).* has C,ST,O,OU,CN; Tableau 44 wants CN,OU,O,ST,C in that order/);
  const client = clientReading(xml);
  assert.equal(client.allows(XYZ, 'ch-xyz.mssante.fr'), true, 'the rest of the list is in force for the client');
  assert.equal(client.allows(ASIP, 'ch-xyz.mssante.fr'), false, 'RDN order is significant: the reversed DN is not the certificate subject');
});

test('Tableaux 42–44: the sandbox ANS refuses a list outside the tables, naming the table', () => {
  const base = fixture('liste-blanche.xml');
  const cases: Array<[string, string, string, RegExp]> = [
    [
      'a parameter Tableau 42 does not list',
      '<versionFormat>',
      '<Commentaire>x</Commentaire><versionFormat>',
      /SANDBOX_LIST_SHAPE .*Commentaire is not a parameter of the list \(Tableau 42\)/,
    ],
    ['two ListeDomaines', '</ListeDomaines>', '</ListeDomaines><ListeDomaines/>', /SANDBOX_LIST_SHAPE .*2 ListeDomaines in the list, Tableau 42 wants 1/],
    ['no DateDeGeneration', '<DateDeGeneration>2024-03-20T02:00:00+01:00</DateDeGeneration>', '', /SANDBOX_LIST_SHAPE .*0 DateDeGeneration/],
    [
      'a versionFormat of 51 characters',
      '<versionFormat>1.0</versionFormat>',
      `<versionFormat>${'v'.repeat(51)}</versionFormat>`,
      /versionFormat has 51 characters, Tableau 42 allows 50/,
    ],
    [
      'DateDeGeneration not an xsd:dateTime',
      '2024-03-20T02:00:00+01:00</DateDeGeneration>',
      '20/03/2024 02:00</DateDeGeneration>',
      /SANDBOX_LIST_DATE .*not an xsd:dateTime \(Tableau 42\)/,
    ],
    ['DateMAJ not an xsd:dateTime', '2024-01-15T10:00:00Z', '2024-13-15T10:00:00Z', /SANDBOX_LIST_DATE .*Domaine 2: DateMAJ « 2024-13-15T10:00:00Z »/],
    [
      'a Nom of 256 characters',
      '<Nom>ch-xyz-securise.fr</Nom>',
      `<Nom>${'a.'.repeat(127)}fr</Nom>`,
      /Domaine 2: Nom has 256 characters, Tableau 43 allows 255/,
    ],
    ['a Nom that is no domain name', '<Nom>ch-xyz-securise.fr</Nom>', '<Nom>ch xyz</Nom>', /Nom « ch xyz » is not a domain name/],
    [
      'a domain without DNCertificatOperateur',
      `<DNCertificatOperateur>${ASIP}</DNCertificatOperateur>`,
      '',
      /Domaine 3: 0 DNCertificatOperateur in the domain, Tableau 43 wants one/,
    ],
    ['a field Tableau 43 does not list', '<SupportContact/>', '<SupportContact/><Telephone/>', /Telephone is not a field of a domain \(Tableau 43\)/],
    ['a DN that is not RFC 2253', ASIP, 'CN=mss2.ch-xyz.fr,OU', /SANDBOX_LIST_DN .*is not an RFC 2253 DN \(Tableau 43\)/],
    ['a DN without ST', ASIP, 'CN=mss2.ch-xyz.fr,OU=318751275100020,O=ASIP,C=FR', /has CN,OU,O,C; Tableau 44 wants CN,OU,O,ST,C/],
    ['a DN outside France', ASIP, 'CN=mss2.ch-xyz.fr,OU=318751275100020,O=ASIP,ST=Paris (75),C=BE', /has C=BE; Tableau 44 wants C=FR/],
    ['another root', 'ListeBlancheMSSante xmlns=', 'ListeBlanche xmlns=', /SANDBOX_LIST_SHAPE .*root element/],
    ['a DTD', '<ListeBlancheMSSante', '<!DOCTYPE x [<!ENTITY e "x">]><ListeBlancheMSSante', /SANDBOX_LIST_UNREADABLE .*DOCTYPE/],
    ['not well-formed', '</ListeDomaines>', '</ListeDomaine>', /SANDBOX_LIST_UNREADABLE .*not well-formed/],
  ];
  for (const [what, from, to, expected] of cases) {
    const changed =
      from === 'ListeBlancheMSSante xmlns=' ? base.replace(from, to).replace('</ListeBlancheMSSante>', '</ListeBlanche>') : base.replace(from, to);
    assert.notEqual(changed, base, `${what}: the fixture changed`);
    const r = refusal(changed);
    assert.match(`${r.code} ${r.message}`, expected, what);
  }
});

test('the ANS peers read the ANS list file again when it changes; a file refused or gone leaves them without a list (no older copy to fall back on)', () => {
  const dir = tmpDir('mss-ans-list-');
  const file = path.join(dir, 'ans-list.xml');
  /** Replace the file the way an editor or the host would: a new file renamed over the old. */
  const publish = (text: string): void => {
    fs.writeFileSync(`${file}.tmp`, text);
    fs.renameSync(`${file}.tmp`, file);
  };
  const source = new AnsWhitelistSource(file);
  assert.throws(() => source.list(), { code: 'SANDBOX_LIST_UNREADABLE' });
  publish(fixture('liste-blanche.xml'));
  assert.equal(source.list().allows(ASIP, 'ch-xyz.mssante.fr'), true);
  publish(fixture('liste-blanche.xml').replace(/<Domaine>(?:(?!<\/Domaine>)[\s\S])*mss2\.ch-xyz\.fr[\s\S]*?<\/Domaine>/, ''));
  assert.equal(source.list().allows(ASIP, 'ch-xyz.mssante.fr'), false, 'the removed entry is gone');
  assert.equal(source.list().allows(XYZ, 'ch-xyz.mssante.fr'), true);
  publish(fixture('liste-blanche-dn-order.xml'));
  assert.throws(() => source.list(), { code: 'SANDBOX_LIST_DN' });
  assert.equal(source.current(), undefined);
  publish(fixture('liste-blanche.xml'));
  assert.equal(source.current()?.allows(ASIP, 'ch-xyz.mssante.fr'), true);
  fs.rmSync(file);
  assert.throws(() => source.list(), { code: 'SANDBOX_LIST_UNREADABLE' });
});
