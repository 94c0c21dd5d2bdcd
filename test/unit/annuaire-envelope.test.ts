import assert from 'node:assert/strict';
import fs from 'node:fs';
import { before, test } from 'node:test';
import { SignedXml } from 'xml-crypto';
import { ACTION, ISSUER_FORMAT, NS, VIHF_ATTR } from '../../src/annuaire/contract.js';
import { envelopeFrame, reportRequestBody } from '../../src/annuaire/envelope.js';
import { buildAssertion, samlTime, validityWindow, type VihfInput } from '../../src/annuaire/vihf.js';
import { certInfo, type CertInfo } from '../../src/pki/certificate.js';
import { dnValues, formatDn } from '../../src/pki/dn.js';
import { checkHeader } from '../../sandbox/annuaire/header-checks.js';
import { parseRequest } from '../../sandbox/annuaire/request.js';
import type { PkiManifest } from '../../sandbox/pki.js';
import { DSIG_NS, parseXml } from '../../src/whitelist/xml.js';
import { testPki } from '../helpers/pki.js';
import { sandboxEntries } from '../helpers/whitelist.js';
import { buildWhitelistXml } from '../../sandbox/whitelist-data.js';
import { readAnsList, type AnsList } from '../../sandbox/whitelist-reader.js';

let pki: PkiManifest;
let cert: CertInfo;
let whitelist: AnsList;
let input: VihfInput;
const ENDPOINT = 'https://ws.partenaires.annuaire.sante.fr/web/services/V1011/Alimentation/WSALIMENTATIONMSS?wsdl';

before(async () => {
  pki = await testPki();
  const a = pki.operators[0] as PkiManifest['operators'][number];
  cert = certInfo(fs.readFileSync(a.cert, 'utf8'));
  // The sandbox Annuaire's own reading of the ANS's list, as its component gives it.
  whitelist = readAnsList(Buffer.from(buildWhitelistXml(sandboxEntries(pki))), 'the sandbox list');
  input = {
    issuerDn: formatDn(cert.subject),
    nameId: dnValues(cert.subject, 'CN')[0] as string,
    subjectId: a.organisation,
    structureId: a.structureId,
    software: { name: 'mss-sidecar', version: '0.1.0', id: 'host-1' },
    now: new Date(),
  };
});

function envelope(
  over: Partial<VihfInput> = {},
  body = '<alim:MESSAGE><alim:DOMAINE><alim:Domaine>x.mssante.fr</alim:Domaine></alim:DOMAINE><alim:COMPTESMSS/></alim:MESSAGE>',
): string {
  const f = envelopeFrame('feed', ENDPOINT, buildAssertion({ ...input, ...over }).xml);
  return f.head + body + f.tail;
}

const one = (doc: import('@xmldom/xmldom').Document | import('@xmldom/xmldom').Element, ns: string, name: string) => doc.getElementsByTagNameNS(ns, name)[0];

test('EX_WSA_5030, EX_WSA_5050: UTF-8, SOAP envelope and the namespaces of §6.3.2.1, a Header with the WS-Addressing elements of Tableau 4', () => {
  const text = envelope();
  assert.match(text, /^<\?xml version="1\.0" encoding="UTF-8"\?>/);
  const doc = parseXml(text, 'envelope');
  const root = doc.documentElement;
  assert.equal(root?.namespaceURI, NS.soap);
  assert.equal(root?.localName, 'Envelope');
  for (const [prefix, ns] of [
    ['xsd', NS.xsd],
    ['mssante', NS.mssante],
    ['mssanteEntete', NS.mssanteEntete],
  ])
    assert.equal(root?.getAttribute(`xmlns:${prefix}`), ns);
  const header = one(doc, NS.soap, 'Header');
  assert.ok(header, 'Header present');
  assert.equal(one(doc, NS.wsa, 'Action')?.textContent, ACTION.feed);
  assert.equal(ACTION.feed, 'http://annuaire.mssante.fr/webservices/V1011/alimentation/WSAlimentationMSS/alimentationMSS');
  assert.match(one(doc, NS.wsa, 'MessageID')?.textContent ?? '', /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(one(doc, NS.wsa, 'To')?.textContent, 'https://ws.partenaires.annuaire.sante.fr/web/services/V1011/Alimentation/WSALIMENTATIONMSS');
  assert.equal(one(one(doc, NS.wsa, 'ReplyTo') as never, NS.wsa, 'Address')?.textContent, 'http://www.w3.org/2005/08/addressing/anonymous');
  assert.ok(one(doc, NS.wsa, 'FaultTo'), 'FaultTo (Tableau 4 FAULTO)');
  const security = one(doc, NS.wsse, 'Security');
  assert.equal(security?.parentNode, header);
  assert.equal(one(doc, NS.saml, 'Assertion')?.parentNode, security);
  const op = one(doc, NS.soap, 'Body')?.firstChild as unknown as { namespaceURI: string; localName: string };
  assert.deepEqual([op.namespaceURI, op.localName], ['https://ws.annuaire.mssante.fr/webservices/V1011/Alimentation/WSALIMENTATIONMSS', 'alimentationMSS']);
  const report = envelopeFrame('report', 'https://ws.annuaire.mssante.fr/webservices/V1011/CR/WSCRALIMENTATIONMSS', '<x/>');
  assert.match(
    report.head + reportRequestBody('T1') + report.tail,
    /<wsa:Action>http:\/\/annuaire\.mssante\.fr\/webservices\/V1011\/cr\/WSCRAlimentationMSS\/crAlimentationMSS<\/wsa:Action>.*<cr:crAlimentationMSS xmlns:cr="https:\/\/ws\.annuaire\.mssante\.fr\/webservices\/V1011\/CR\/WSCRALIMENTATIONMSS"><cr:TICKET>T1<\/cr:TICKET>/,
  );
});

test('EX_WSA_5040: the VIHF assertion carries every field of Tableau 5 (Issuer = certificate DN as X509SubjectName, window issueInstant < notBefore < now < NotOnOrAfter ≤ issueInstant + 1 h)', () => {
  const now = new Date('2025-06-01T00:30:00.400Z');
  const doc = parseXml(envelope({ now }), 'envelope');
  const a = one(doc, NS.saml, 'Assertion');
  assert.equal(a?.getAttribute('Version'), '2.0');
  assert.match(a?.getAttribute('ID') ?? '', /^_[0-9a-f-]{36}$/);
  const issue = Date.parse(a?.getAttribute('IssueInstant') ?? '');
  const issuer = one(doc, NS.saml, 'Issuer');
  assert.equal(issuer?.getAttribute('Format'), ISSUER_FORMAT);
  assert.equal(issuer?.textContent, 'CN=mss.ch-sandbox-a.fr,OU=1130099991,O=CENTRE HOSPITALIER SANDBOX A,ST=Bouches-du-Rhône (13),C=FR');
  assert.equal(one(doc, NS.saml, 'NameID')?.textContent, 'mss.ch-sandbox-a.fr');
  const cond = one(doc, NS.saml, 'Conditions');
  const nb = Date.parse(cond?.getAttribute('NotBefore') ?? '');
  const na = Date.parse(cond?.getAttribute('NotOnOrAfter') ?? '');
  assert.ok(
    issue < nb && nb < now.getTime() && now.getTime() < na && na <= issue + 3_600_000,
    `${issue} < ${nb} < ${now.getTime()} < ${na} ≤ ${issue + 3_600_000}`,
  );
  assert.equal(one(doc, NS.saml, 'AuthnStatement')?.getAttribute('AuthnInstant'), samlTime(new Date(issue)));
  assert.equal(one(doc, NS.saml, 'AuthnContextClassRef')?.textContent, 'urn:oasis:names:tc:SAML:2.0:ac:classes:Password');
  const attrs = new Map<string, import('@xmldom/xmldom').Element>();
  for (const el of Array.from(doc.getElementsByTagNameNS(NS.saml, 'Attribute'))) attrs.set(el.getAttribute('Name') ?? '', el);
  const value = (name: string): string | undefined => attrs.get(name)?.getElementsByTagNameNS(NS.saml, 'AttributeValue')[0]?.textContent ?? undefined;
  const ce = (name: string) => {
    const el = attrs.get(name)?.getElementsByTagNameNS(NS.saml, 'AttributeValue')[0]?.firstChild as unknown as import('@xmldom/xmldom').Element;
    return {
      ns: el.namespaceURI,
      type: el.getAttributeNS(NS.xsi, 'type'),
      code: el.getAttribute('code'),
      codeSystem: el.getAttribute('codeSystem'),
      codeSystemName: el.getAttribute('codeSystemName'),
      displayName: el.getAttribute('displayName'),
    };
  };
  assert.equal(value(VIHF_ATTR.version), '2.0');
  assert.ok(attrs.has(VIHF_ATTR.role));
  assert.equal(value(VIHF_ATTR.resourceId), '');
  assert.equal(value(VIHF_ATTR.resourceUrn), 'urn:MSSANTE');
  assert.deepEqual(ce(VIHF_ATTR.purposeOfUse), {
    ns: NS.hl7,
    type: 'CE',
    code: 'normal',
    codeSystem: '1.2.250.1.213.1.1.4.248',
    codeSystemName: 'modes accès VIHF 1.0',
    displayName: 'Accès normal',
  });
  assert.equal(value(VIHF_ATTR.modeAccesRaison), '');
  assert.equal(value(VIHF_ATTR.subjectId), 'CENTRE HOSPITALIER SANDBOX A');
  assert.equal(value(VIHF_ATTR.structure), '1130099991');
  assert.equal(value(VIHF_ATTR.lpsNom), 'mss-sidecar');
  assert.equal(value(VIHF_ATTR.lpsVersion), '0.1.0');
  assert.equal(value(VIHF_ATTR.lpsId), 'host-1');
  assert.deepEqual(ce(VIHF_ATTR.profil), {
    ns: NS.hl7,
    type: 'CE',
    code: 'OPER',
    codeSystem: '1.2.250.1.213.1.9.1.1',
    codeSystemName: 'R84',
    displayName: 'Opérateur MSSanté',
  });
  assert.equal(value(VIHF_ATTR.profilPerimetre), '');
  assert.deepEqual(ce(VIHF_ATTR.vihfProfil), {
    ns: NS.hl7,
    type: 'CE',
    code: 'profil_annuaire_PS',
    codeSystem: '1.2.250.1.213.1.1.4.312',
    codeSystemName: 'profil VIHF',
    displayName: 'Profil pour annuaire de professionnels de santé du VIHF 2.0',
  });
  assert.equal(attrs.has(VIHF_ATTR.secteur), false, 'Secteur_Activite only when configured');
  const withSector = parseXml(envelope({ secteurActivite: 'SA07^1.2.250.1.71.4.2.4' }), 'e');
  assert.match(withSector.toString(), /Name="Secteur_Activite"><saml2:AttributeValue>SA07\^1\.2\.250\.1\.71\.4\.2\.4</);
  const w = validityWindow(now);
  assert.deepEqual(
    [samlTime(w.issueInstant), samlTime(w.notBefore), samlTime(w.notOnOrAfter)],
    ['2025-06-01T00:28:00Z', '2025-06-01T00:29:00Z', '2025-06-01T01:28:00Z'],
  );
});

test('EX_WSA_5040: a signed assertion carries an enveloped exc-c14n rsa-sha256 signature after the Issuer that verifies with the operator certificate', () => {
  const a = pki.operators[0] as PkiManifest['operators'][number];
  const xml = buildAssertion({ ...input, sign: { keyPem: fs.readFileSync(a.key, 'utf8'), certPem: fs.readFileSync(a.cert, 'utf8') } }).xml;
  const doc = parseXml(xml, 'assertion');
  const sig = doc.getElementsByTagNameNS(DSIG_NS, 'Signature')[0];
  assert.equal((sig?.previousSibling as unknown as { localName: string }).localName, 'Issuer');
  assert.match(xml, /SignatureMethod Algorithm="http:\/\/www\.w3\.org\/2001\/04\/xmldsig-more#rsa-sha256"/);
  assert.match(xml, /CanonicalizationMethod Algorithm="http:\/\/www\.w3\.org\/2001\/10\/xml-exc-c14n#"/);
  assert.match(xml, /Transform Algorithm="http:\/\/www\.w3\.org\/2000\/09\/xmldsig#enveloped-signature"/);
  const sx = new SignedXml({ publicCert: fs.readFileSync(a.cert, 'utf8') });
  sx.loadSignature(sig as never);
  assert.equal(sx.checkSignature(xml), true);
  assert.equal(sx.getReferences()[0]?.uri, `#${doc.documentElement?.getAttribute('ID')}`);
  // The sandbox verifies it inside the envelope, and refuses it once altered.
  const env = (x: string) => envelopeFrame('feed', ENDPOINT, x);
  const ok = env(xml);
  assert.equal(headerFault(ok.head + ok.tail), undefined);
  const bad = env(xml.replace('<saml2:AttributeValue>host-1', '<saml2:AttributeValue>host-2'));
  assert.equal(headerFault(bad.head + bad.tail)?.code, 'WSMSS06');
});

function headerFault(text: string, client: CertInfo = cert, now = new Date()) {
  const req = parseRequest(text);
  return checkHeader(req.header, { service: 'feed', client, whitelist, now, text });
}

test('EX_WSA_5060, §9.7.1: the sandbox Annuaire accepts the envelope and answers each VIHF defect with its WSMSS code', () => {
  const good = envelope();
  assert.equal(headerFault(good), undefined);
  const now = Date.now();
  const at = (ms: number) => samlTime(new Date(now + ms));
  const cases: Array<[string, (s: string) => string, string]> = [
    ['no Security', (s) => s.replace(/<wsse:Security[\s\S]*<\/wsse:Security>/, ''), 'WSMSS01'],
    ['no Assertion', (s) => s.replace(/<saml2:Assertion[\s\S]*<\/saml2:Assertion>/, ''), 'WSMSS02'],
    ['no IssueInstant', (s) => s.replace(/ IssueInstant="[^"]*"/, ''), 'WSMSS03'],
    ['IssueInstant in the future', (s) => s.replace(/IssueInstant="[^"]*"/, `IssueInstant="${at(60_000)}"`), 'WSMSS04'],
    ['no Issuer', (s) => s.replace(/<saml2:Issuer[^>]*>[^<]*<\/saml2:Issuer>/, ''), 'WSMSS05'],
    ['no NotBefore', (s) => s.replace(/ NotBefore="[^"]*"/, ''), 'WSMSS07'],
    ['NotBefore before IssueInstant', (s) => s.replace(/NotBefore="[^"]*"/, `NotBefore="${at(-3_000_000)}"`), 'WSMSS08'],
    ['no NotOnOrAfter', (s) => s.replace(/ NotOnOrAfter="[^"]*"/, ''), 'WSMSS09'],
    ['NotOnOrAfter beyond IssueInstant + 1 h', (s) => s.replace(/NotOnOrAfter="[^"]*"/, `NotOnOrAfter="${at(7_200_000)}"`), 'WSMSS10'],
    ['no Profil_Utilisateur', (s) => s.replace(/<saml2:Attribute Name="Profil_Utilisateur">[\s\S]*?<\/saml2:Attribute>/, ''), 'WSMSS11'],
    ['Issuer of another DN', (s) => s.replace(/CN=mss\.ch-sandbox-a\.fr/, 'CN=autre.fr'), 'WSMSS13'],
    ['Identifiant_Structure of another structure', (s) => s.replace('<saml2:AttributeValue>1130099991<', '<saml2:AttributeValue>1130000000<'), 'WSMSS14'],
    ['Issuer not a DN', (s) => s.replace(/(<saml2:Issuer[^>]*>)[^<]*/, '$1not a dn'), 'WSMSS18'],
    ['no NameID', (s) => s.replace(/<saml2:Subject>[\s\S]*?<\/saml2:Subject>/, ''), 'WSMSS19'],
    ['Profil_Utilisateur not OPER', (s) => s.replace('code="OPER"', 'code="PS"'), 'WSMSS21'],
    ['no Identifiant_Structure', (s) => s.replace(/<saml2:Attribute Name="Identifiant_Structure">[\s\S]*?<\/saml2:Attribute>/, ''), 'WSMSS22'],
    ['wrong wsa:Action', (s) => s.replace(ACTION.feed, ACTION.report), 'WSMSS12'],
    ['no MessageID', (s) => s.replace(/<wsa:MessageID>[^<]*<\/wsa:MessageID>/, ''), 'WSMSS12'],
    ['Issuer Format not X509SubjectName', (s) => s.replace(ISSUER_FORMAT, 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress'), 'WSMSS12'],
    ['Ressource_URN missing', (s) => s.replace(/<saml2:Attribute Name="Ressource_URN">[\s\S]*?<\/saml2:Attribute>/, ''), 'WSMSS12'],
  ];
  for (const [name, mutate, code] of cases) {
    const text = mutate(good);
    assert.notEqual(text, good, name);
    assert.equal(headerFault(text)?.code, code, name);
  }
  // A DN absent from the liste blanche (the rogue certificate, consistent Issuer).
  const rogue = certInfo(fs.readFileSync(pki.rogue.cert, 'utf8'));
  const f = envelopeFrame('feed', ENDPOINT, buildAssertion({ ...input, issuerDn: formatDn(rogue.subject), structureId: '1590000000' }).xml);
  assert.equal(headerFault(f.head + f.tail, rogue)?.code, 'WSMSS06');
});
