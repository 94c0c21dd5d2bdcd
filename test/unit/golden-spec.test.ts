// The golden conformance files of test/fixtures/spec (written by hand from the Référentiel's
// examples and tables, see its README): our client must produce the requests field by field
// — every difference below is a decision documented in docs/annuaire.md or docs/stats.md —
// and accept the responses; the sandbox's independent ANS peers accept the requests.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import type { Element } from '@xmldom/xmldom';
import { zipSync } from 'fflate';
import { correctionsIn } from '../../src/annuaire/corrections.js';
import { envelopeFrame, reportRequestBody } from '../../src/annuaire/envelope.js';
import { buildFeed } from '../../src/annuaire/feed.js';
import { feedBodyChunks } from '../../src/annuaire/feed-xml.js';
import { parseReportXml } from '../../src/annuaire/report-parse.js';
import { openReportZip } from '../../src/annuaire/report-zip.js';
import { reportZipOf, ticketOf } from '../../src/annuaire/send.js';
import { readSoapReply } from '../../src/annuaire/soap-response.js';
import { buildAssertion, samlTime } from '../../src/annuaire/vihf.js';
import { isMssError } from '../../src/errors.js';
import { certInfo, type CertInfo } from '../../src/pki/certificate.js';
import { dnValues, formatDn } from '../../src/pki/dn.js';
import { loadRegistryText } from '../../src/registry/load.js';
import { recordFindings, receptionProblem } from '../../sandbox/annuaire/controls.js';
import { checkHeader } from '../../sandbox/annuaire/header-checks.js';
import { Referential } from '../../sandbox/annuaire/referential.js';
import { parseRequest } from '../../sandbox/annuaire/request.js';
import type { PkiManifest } from '../../sandbox/pki.js';
import { checkArchive } from '../../sandbox/sipil-controls.js';
import { Journal } from '../../src/journal/journal.js';
import { loadRegistry } from '../../src/registry/load.js';
import { loadOptionsFrom } from '../../src/registry/open.js';
import { RuntimeFields } from '../../src/registry/runtime.js';
import { buildMonth } from '../../src/stats/build.js';
import { FileValidator } from '../../src/stats/controls.js';
import { EmbeddedStore } from '../../src/store/embedded.js';
import { ECHANGES_V16 } from '../../src/stats/format.js';
import { interpretReport } from '../../src/stats/report.js';
import { parseCompteRendu, parseDepot } from '../../src/stats/sipil-xml.js';
import { elementChildren, parseXml } from '../../src/whitelist/xml.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { testPki } from '../helpers/pki.js';
import { statsTestConfig } from '../helpers/stats.js';
import { tmpDir } from '../helpers/tmp.js';
import { sandboxEntries } from '../helpers/whitelist.js';
import { buildWhitelistXml } from '../../sandbox/whitelist-data.js';
import { readAnsList, type AnsList } from '../../sandbox/whitelist-reader.js';

const SPEC = path.join(REPO_ROOT, 'test', 'fixtures', 'spec');
const read = (name: string): string => fs.readFileSync(path.join(SPEC, name), 'utf8');
const DOMAIN = 'ch-sandbox-a.mssante.fr';
const ENDPOINT = 'https://127.0.0.1:8443/webservices/V1011/Alimentation/WSALIMENTATIONMSS';

let cert: CertInfo;
let whitelist: AnsList;
let operator: PkiManifest['operators'][number];

before(async () => {
  const pki = await testPki();
  operator = pki.operators[0] as PkiManifest['operators'][number];
  cert = certInfo(fs.readFileSync(operator.cert, 'utf8'));
  // The sandbox Annuaire's own reading of the ANS's list, as its component gives it.
  whitelist = readAnsList(Buffer.from(buildWhitelistXml(sandboxEntries(pki))), 'the sandbox list');
});

/** The golden feed request with its {{…}} filled in: current dates, the test certificate. */
function goldenFeedRequest(now = Date.now()): string {
  const values: Record<string, string> = {
    ENDPOINT,
    ISSUE_INSTANT: samlTime(new Date(now - 60_000)),
    NOT_ON_OR_AFTER: samlTime(new Date(now + 3_000_000)),
    ISSUER_DN: formatDn(cert.subject),
    CN: dnValues(cert.subject, 'CN')[0] as string,
    RAISON_SOCIALE: operator.organisation,
    STRUCTURE_ID: operator.structureId,
    DOMAIN,
  };
  return read('annuaire-feed-request.xml').replace(/\{\{([A-Z_]+)\}\}/g, (m, k: string) => values[k] ?? m);
}

/** The same mailboxes in our registry: what our client turns into the feed. */
const REGISTRY = `version: 1
mailboxes:
  - { address: reponse.automatique-test@${DOMAIN}, type: APP, created: 2024-01-02, test: true, structure: { type: FINESS, id: "130099992" }, responsible: { name: SI }, description: Réponse automatique }
  - address: jean.dupont@${DOMAIN}
    type: PER
    created: 2024-03-01
    holder: { idNat: "810100000011", lastName: DUPONT, firstName: Jean }
    structure: { type: FINESS, id: "130099992" }
    phone: "01 02 03 04 05"
  - address: amina.diallo@${DOMAIN}
    type: PER
    created: 2024-03-01
    holder: { idNat: "3456789", lastName: DIALLO, firstName: Amina, civilite: DR, categorie: "01", profession: "10", specialite: SM26 }
    structure: { type: FINESS, id: "130099992" }
    service: Cardiologie
    listeRouge: true
  - address: secretariat.cardiologie@${DOMAIN}
    type: ORG
    created: 2024-03-01
    structure: { type: FINESS, id: "130099992" }
    service: Cardiologie
    responsible: { name: "Le chef de service de cardiologie" }
    description: Secrétariat de cardiologie
  - address: dpi@${DOMAIN}
    type: APP
    created: 2024-03-01
    structure: { type: FINESS, id: "130099992" }
    responsible: { name: Service informatique }
    description: Dossier patient informatisé
  - address: cabinet-moreau@${DOMAIN}
    type: CAB
    created: 2024-03-01
    description: Cabinet de groupe
    coHolders:
      - { idNat: "810100000066", lastName: MOREAU, firstName: Paul, responsible: true }
      - { idNat: "810100000077", lastName: SIMON, firstName: Julie }
`;

function clientFeedRequest(now = new Date()): string {
  const reg = loadRegistryText('/golden.yaml', REGISTRY, { domains: [DOMAIN], finessRegistered: true }).registry;
  const feed = buildFeed(
    reg,
    reg.all().map(() => ({})),
    [DOMAIN],
  );
  const assertion = buildAssertion({
    issuerDn: formatDn(cert.subject),
    nameId: dnValues(cert.subject, 'CN')[0] as string,
    subjectId: operator.organisation,
    structureId: operator.structureId,
    software: { name: 'mss-sidecar', version: '0.1.0', id: 'host-1' },
    now,
  });
  const frame = envelopeFrame('feed', ENDPOINT, assertion.xml);
  return frame.head + [...feedBodyChunks(feed.domains)].join('') + frame.tail;
}

const LABEL: Record<string, string> = {
  'http://schemas.xmlsoap.org/soap/envelope/': 'soap',
  'http://www.w3.org/2005/08/addressing': 'wsa',
  'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd': 'wsse',
  'urn:oasis:names:tc:SAML:2.0:assertion': 'saml2',
  'urn:hl7-org:v3': 'hl7',
  'http://www.w3.org/2001/XMLSchema-instance': 'xsi',
  'https://ws.annuaire.mssante.fr/webservices/V1011/Alimentation/WSALIMENTATIONMSS': 'alim',
};
const name = (ns: string | null | undefined, local: string): string => `${ns ? `${LABEL[ns] ?? `{${ns}}`}:` : ''}${local}`;

/** Every element as `path = text` (leaves) and every attribute as `path @name=value`, dynamic values replaced. */
function fields(xml: string): string[] {
  const out: string[] = [];
  const walk = (el: Element, at: string): void => {
    const local = el.localName ?? '';
    const key = local === 'Attribute' ? `${name(el.namespaceURI, local)}[${el.getAttribute('Name')}]` : name(el.namespaceURI, local);
    const p = `${at}/${key}`;
    for (const a of Array.from(el.attributes)) {
      if (a.name === 'xmlns' || a.prefix === 'xmlns' || (local === 'Attribute' && a.name === 'Name')) continue;
      out.push(`${p} @${name(a.namespaceURI, a.localName ?? a.name)}=${dynamic(a.localName ?? a.name, a.value)}`);
    }
    const kids = elementChildren(el);
    if (kids.length === 0) out.push(`${p} = ${dynamic(local, (el.textContent ?? '').replace(/\s+/g, ' ').trim())}`);
    for (const k of kids) walk(k, p);
  };
  const root = parseXml(xml, 'golden').documentElement as Element;
  walk(root, '');
  return out;
}

/** Values that differ by nature between two requests: ids, dates, the software's own name. */
function dynamic(field: string, value: string): string {
  if (field === 'MessageID') return '<message id>';
  if (field === 'ID') return '<assertion id>';
  if (['IssueInstant', 'NotBefore', 'NotOnOrAfter', 'AuthnInstant'].includes(field)) return '<date>';
  return value;
}

test('EX_WSA_5030, EX_WSA_5040, EX_WSA_5050, EX_1.1.1_5010, EX_GBM_3030: our feed request is the golden one (Figure 24, Tableaux 4, 5, 13–16, CAB) field by field, but for the documented decisions', () => {
  const golden = new Set(fields(goldenFeedRequest()));
  const ours = new Set(fields(clientFeedRequest()));
  const software = (l: string) => /Attribute\[LPS_(Nom|Version|ID)\]\/saml2:AttributeValue = /.test(l);
  const onlyGolden = [...golden].filter((l) => !ours.has(l) && !software(l));
  const onlyOurs = [...ours].filter((l) => !golden.has(l) && !software(l));
  const H = '/soap:Envelope/soap:Header';
  const A = `${H}/wsse:Security/saml2:Assertion`;
  const S = `${A}/saml2:AttributeStatement`;
  // The three CE values of Tableau 5 as each side writes them (the example's codeSystemName and
  // displayName carry « VIH F », an OCR of VIHF; they are not checked by anyone).
  const ceLines = (side: 'example' | 'ours'): string[] => {
    const vihf = side === 'example' ? 'VIH F' : 'VIHF';
    const values: Array<[string, string, string[]]> = [
      ['urn:oasis:names:tc:xspa:1.0:subject:purposeofuse', 'PurposeOfUse', ['normal', '1.2.250.1.213.1.1.4.248', `modes accès ${vihf} 1.0`, 'Accès normal']],
      ['Profil_Utilisateur', 'Profil_Utilisateur', ['OPER', '1.2.250.1.213.1.9.1.1', 'R84', 'Opérateur MSSanté']],
      [
        'VIHF_Profil',
        'VIHF_Profil',
        ['profil_annuaire_PS', '1.2.250.1.213.1.1.4.312', `profil ${vihf}`, `Profil pour annuaire de professionnels de santé du ${vihf} 2.0`],
      ],
    ];
    const q = side === 'example' ? 'hl7:' : '';
    return values.flatMap(([attr, el, [code, system, systemName, display]]) => {
      const at = `${S}/saml2:Attribute[${attr}]/saml2:AttributeValue/hl7:${el}`;
      return [
        `${at} @${q}code=${code}`,
        `${at} @${q}codeSystem=${system}`,
        `${at} @${q}codeSystemName=${systemName}`,
        `${at} @${q}displayName=${display}`,
        `${at} @${side === 'example' ? 'hl7' : 'xsi'}:type=CE`,
      ];
    });
  };
  assert.deepEqual(
    onlyGolden.sort(),
    [
      // wsa:To: Figure 24 writes the endpoint and ?wsdl; we send the address posted to (docs/annuaire.md, assumption 5).
      `${H}/wsa:To = ${ENDPOINT}?wsdl`,
      // ReplyTo: Figure 24's <Address> is in a default namespace printed with a trailing space.
      `${H}/wsa:ReplyTo/{http://www.w3.org/2005/08/addressing }:Address = http://www.w3.org/2005/08/addressing/anonymous`,
      // Issuer/@Format: Tableau 5 (SAML 1.1 URN) over the example (SAML:2.0, which no standard defines): assumption 2.
      `${A}/saml2:Issuer @Format=urn:oasis:names:tc:SAML:2.0:nameid-format:X509SubjectName`,
      // Secteur_Activite: « Non » required, sent only when configured (vihf.secteurActivite).
      `${S}/saml2:Attribute[Secteur_Activite]/saml2:AttributeValue = SA07^1.2.250.1.71.4.2.4`,
      // CE values: the example qualifies the HL7 attributes (hl7:code…) and binds xsi to HL7; we
      // write HL7 v3 CE (unqualified attributes, the real xsi:type): assumption 10. The sandbox reads both.
      ...ceLines('example'),
    ].sort(),
  );
  assert.deepEqual(
    onlyOurs.sort(),
    [
      `${H}/wsa:To = ${ENDPOINT}`,
      `${H}/wsa:ReplyTo/wsa:Address = http://www.w3.org/2005/08/addressing/anonymous`,
      // Tableau 4: FAULTO « Oui » (the example has none): assumption 4.
      `${H}/wsa:FaultTo/wsa:Address = http://www.w3.org/2005/08/addressing/anonymous`,
      `${A}/saml2:Issuer @Format=urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName`,
      // Tableau 5 rows the example leaves out: Mode_Acces_Raison (« Vide »), PROFIL_UTILISATEUR_PERIMETRE (« Vide »).
      `${S}/saml2:Attribute[Mode_Acces_Raison]/saml2:AttributeValue = `,
      `${S}/saml2:Attribute[PROFIL_UTILISATEUR_PERIMETRE]/saml2:AttributeValue = `,
      ...ceLines('ours'),
    ].sort(),
  );
  // The body — every record of Tableaux 13–16 and the CAB — is identical, field by field and in order.
  const body = (xml: string) => fields(xml).filter((l) => l.startsWith('/soap:Envelope/soap:Body'));
  assert.deepEqual(body(clientFeedRequest()), body(goldenFeedRequest()));
});

test("the sandbox Annuaire accepts the Référentiel's own example: Figure 24's header (Issuer in the SAML:2.0 format between spaces, NotBefore = IssueInstant, hl7: attributes, ?wsdl, no FaultTo) and the golden body, every record without an anomaly", () => {
  const text = goldenFeedRequest();
  const req = parseRequest(text);
  assert.deepEqual(req.schemaErrors, []);
  assert.equal(checkHeader(req.header, { service: 'feed', client: cert, whitelist, now: new Date(), text }), undefined);
  const ref = new Referential();
  for (const m of req.messages) {
    for (const r of m.records) {
      assert.equal(receptionProblem(r), undefined, r.fields.AdresseBAL);
      assert.deepEqual(recordFindings(m.domain, r, ref), [], r.fields.AdresseBAL);
    }
  }
  assert.deepEqual(
    req.messages.map((m) => [m.domain, m.records.length]),
    [[DOMAIN, 5]],
  );
  // Our client's request passes the same peer.
  const ours = clientFeedRequest();
  const mine = parseRequest(ours);
  assert.equal(checkHeader(mine.header, { service: 'feed', client: cert, whitelist, now: new Date(), text: ours }), undefined);
});

test('the sandbox Annuaire refuses what the text forbids: a CAB without IdentifiantPP is rejected (MSS007, RG_CTR_007 « PER ou CAB »); a record without ListeRouge refuses the message (WSMSS12, Tableau 57 RG_CTR_032)', () => {
  const noId = goldenFeedRequest().replace('<alim:IdentifiantPP>10100000066</alim:IdentifiantPP>\n          <alim:Responsable>', '<alim:Responsable>');
  const cab = parseRequest(noId).messages[0]?.records.find((r) => r.fields.TypeBAL === 'CAB');
  assert.ok(cab && cab.fields.IdentifiantPP === undefined);
  assert.equal(receptionProblem(cab), undefined, 'a schema-valid message');
  assert.deepEqual(
    recordFindings(DOMAIN, cab, new Referential()).map((f) => `${f.rule} ${f.code} ${f.criticite}`),
    ['RG_CTR_007 MSS007 Bloquante'],
  );
  const noRouge = goldenFeedRequest().replace('<alim:ListeRouge>O</alim:ListeRouge>', '');
  const per10 = parseRequest(noRouge).messages[0]?.records.find((r) => r.fields.TypeIdentifiantPP === '10');
  assert.match(receptionProblem(per10 as never) ?? '', /^RG_CTR_032/);
});

test('§6.4.2.3.4, §6.4.2.5.1.2, Figure 26: our client accepts the golden answers — the ticket, the report ZIP (13-digit name, checksum, Tableaux 20–24) and a WSMSS06 fault', () => {
  const ctx = (service: 'feed' | 'report') => ({ service, url: ENDPOINT, dn: formatDn(cert.subject), ticket: 'T42', domains: [DOMAIN] });
  const reply = (body: string) => ({ status: 200, headers: { 'content-type': 'text/xml; charset=utf-8' }, body: Buffer.from(body) });
  assert.equal(ticketOf(readSoapReply(reply(read('annuaire-feed-response.xml')), ctx('feed'), 1 << 20).payload), '202506020045120001');

  const xmlName = 'cralimentationmss_T42_2025060203000.xml';
  const xml = fs.readFileSync(path.join(SPEC, xmlName));
  const zip = zipSync({ [xmlName]: xml, [xmlName.replace('.xml', '_checksum.txt')]: Buffer.from(createHash('sha256').update(xml).digest('hex')) });
  const answer = read('annuaire-report-response.xml').replace('{{ZIP_BASE64}}', Buffer.from(zip).toString('base64'));
  const got = reportZipOf(readSoapReply(reply(answer), ctx('report'), 1 << 22), 'T42');
  assert.equal(got.delivery, 'inline');
  const file = openReportZip(got.zip, 'T42', 1 << 22);
  assert.deepEqual([file.nameTicket, file.nameDate, file.checksum.status], ['T42', '2025060203000', 'ok']);
  const report = parseReportXml(file.xml.toString('utf8'), xmlName);
  assert.equal(report.ticket, 'T42');
  assert.deepEqual(
    report.rules.map((r) => r.code),
    ['MSS020'],
  );
  const [d] = report.domains;
  assert.deepEqual([d?.domain, d?.counters.NbBALLus, d?.counters.NbBALErrBlo, d?.counters.NbBALSup], [DOMAIN, 5, 1, 1]);
  assert.deepEqual(
    d?.anomalies.map((a) => `${a.code} ${a.rule} ${a.criticality} ${a.bal}`),
    [`MSS008 RG_CTR_008 Bloquante paul.inconnu@${DOMAIN}`, `MSS043 RG_CTR_045 Warning luc.bernard@${DOMAIN}`],
  );
  // EX_PBA_5100: the ADELI the Annuaire replaced by an RPPS is found.
  assert.deepEqual(
    correctionsIn(report.domains).map((c) => [c.bal, c.from, c.to]),
    [[`luc.bernard@${DOMAIN}`, '0131234567', '810100000033']],
  );

  assert.throws(
    () => readSoapReply({ ...reply(read('annuaire-fault.xml')), status: 500 }, ctx('feed'), 1 << 20),
    (e) => isMssError(e, 'ANNUAIRE_NOT_AUTHORIZED'),
  );
  // And the golden report request is what our client sends, the ticket and the envelope aside.
  assert.match(
    read('annuaire-report-request.xml').replace(/\s+/g, ''),
    new RegExp(
      reportRequestBody('{{TICKET}}')
        .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
        .replace(/\s+/g, ''),
    ),
  );
  assert.match(
    envelopeFrame('report', ENDPOINT.replace('Alimentation/WSALIMENTATIONMSS', 'CR/WSCRALIMENTATIONMSS'), '<x/>').head,
    /<wsa:Action>http:\/\/annuaire\.mssante\.fr\/webservices\/V1011\/cr\/WSCRAlimentationMSS\/crAlimentationMSS<\/wsa:Action>/,
  );
});

test('§6.9.3.2.1 Figures 37–38, Tableau 48: our client reads the golden Depot answers (the segment examples are not well-formed) and the golden CompteRendu', () => {
  const classic = parseDepot(read('sipil-depot-classic.xml'));
  assert.deepEqual(
    [classic.code, classic.id, classic.nomArchive, classic.identite, classic.domaines.length, classic.lenient],
    [0, '10', '10_bus.dev.mssante.fr.zip', 'bus.dev.mssante.fr', 7, false],
  );
  const segment = parseDepot(read('sipil-depot-segment.xml'));
  assert.deepEqual([segment.code, segment.message, segment.lenient], [4, "Depot de la partie de l'archive OK : 3", true]);
  const last = parseDepot(read('sipil-depot-last-segment.xml'));
  assert.deepEqual([last.code, last.id, last.nomArchive], [0, '31', '31_bus.dev.mssante.fr.zip']);
  const cr = parseCompteRendu(read('sipil-compterendu.xml'));
  assert.deepEqual(
    cr.files.map((f) => [f.nomFichier, f.codeRetour, f.dateDebut, f.dateFin]),
    [
      ['202008_EchangesMSSante_mssante.fr.csv', 1, '2020-09-02 10:15:01', '2020-09-02 10:15:03'],
      ['202008_ConnexionsMSSante_ch-sud.mssante.fr.csv', 0, '2020-09-02 10:15:03', '2020-09-02 10:15:04'],
    ],
  );
  assert.deepEqual(
    cr.files[0]?.controls.map((c) => [c.code, c.codeRetour, c.errors.flatMap((e) => e.lines)]),
    [
      [1, 0, []],
      [5, 1, [3, 7, 12]],
      [10, 2, []],
    ],
  );
  const o = interpretReport(cr, '10');
  assert.deepEqual([o.verdict, o.blockingFiles], ['rejected', ['202008_EchangesMSSante_mssante.fr.csv']]);
});

test("EX_PSU_5830, EX_PSU_5840, §9.7.4.4: the Référentiel's example files pass our local controls and the sandbox SIPIL's", () => {
  const files = ['202008_EchangesMSSante_mssante.fr.csv', '202008_ConnexionsMSSante_ch-sud.mssante.fr.csv'];
  const now = new Date('2020-09-02T08:00:00Z');
  for (const f of files) {
    const v = new FileValidator(f, {
      now,
      timeZone: 'Europe/Paris',
      managesDomain: () => true,
      alreadyAccepted: () => false,
      echangesLayouts: [ECHANGES_V16],
      maxErrorLines: 10,
    });
    v.push(fs.readFileSync(path.join(SPEC, f)));
    const r = v.result();
    assert.equal(r.codeRetour, 0, `${f}: ${JSON.stringify(r.controls.filter((c) => c.retour !== 0))}`);
  }
  const zip = zipSync(Object.fromEntries(files.map((f) => [f, fs.readFileSync(path.join(SPEC, f))])));
  const outcome = checkArchive(zip, { now, manages: () => true, alreadyAccepted: () => false });
  assert.equal(outcome.kind, 'files');
  if (outcome.kind === 'files')
    assert.deepEqual(
      outcome.files.map((f) => [f.name, f.codeRetour]),
      files.map((f) => [f, 0]),
    );
});

test("EX_PSU_5830, EX_PSU_5840: our statistics build writes the Référentiel's example rows (Tableaux 46, 47) from the same facts, field by field", async () => {
  const dir = tmpDir('mss-golden-stats-');
  const config = statsTestConfig(dir, { loginsRecordedSince: '2020-01-01' }, { domains: ['mssante.fr', 'ch-sud.mssante.fr'] });
  const auto = (d: string) => ({
    address: `reponse.automatique-test@${d}`,
    type: 'APP',
    created: '2020-01-01',
    test: true,
    structure: { type: 'FINESS', id: '130000001' },
    responsible: { name: 'SI' },
    description: 'Réponse automatique',
  });
  const per = (address: string, idNat: string) => ({
    address,
    type: 'PER',
    created: '2020-01-01',
    holder: { idNat, lastName: 'USER', firstName: 'Ps' },
    structure: { type: 'FINESS', id: '130000001' },
  });
  fs.writeFileSync(
    config.registry.file,
    `version: 1\nmailboxes:\n${[auto('mssante.fr'), auto('ch-sud.mssante.fr'), per('ans@mssante.fr', '810000000001'), per('Ps_user@ch-sud.mssante.fr', '810000000002')].map((m) => `  - ${JSON.stringify(m)}`).join('\n')}\n`,
  );
  const store = new EmbeddedStore(path.join(config.state.dir, 'store'));
  try {
    // The facts behind the examples: 2020-08-11 14:55:40 in Paris is 12:55:40 UTC.
    await new Journal(store).record([
      {
        type: 'submitted',
        at: '2020-08-11T12:55:40.000Z',
        mailId: '1256321',
        sender: 'ans@mssante.fr',
        recipients: ['ans-2@mssante.fr'],
        size: 21,
        ins: 'O',
        codeCda: '34112-3',
        nil: '<idEditeur/idLogiciel/idVersion>',
      },
      { type: 'delivery', at: '2020-08-11T12:55:41.000Z', mailId: '1256321', sender: 'ans@mssante.fr', recipient: 'ans-2@mssante.fr', outcome: 'delivered' },
    ]);
    await new RuntimeFields(store).setLastLogin('ps_user@ch-sud.mssante.fr', new Date('2020-08-11T12:55:40.000Z'), '810000000002', 'Europe/Paris');
    const b = await buildMonth({
      config,
      registry: loadRegistry(config.registry.file, loadOptionsFrom(config)),
      store,
      month: { year: 2020, month: 8 },
      now: new Date('2020-09-01T00:30:00+02:00'),
    });
    const built = (n: string) => fs.readFileSync(path.join(b.dir, n), 'utf8');
    assert.equal(built('202008_EchangesMSSante_mssante.fr.csv'), read('202008_EchangesMSSante_mssante.fr.csv'));
    // The registry keeps addresses in lowercase (the example writes Ps_user): the only difference.
    assert.equal(
      built('202008_ConnexionsMSSante_ch-sud.mssante.fr.csv'),
      read('202008_ConnexionsMSSante_ch-sud.mssante.fr.csv').replace('Ps_user@', 'ps_user@'),
    );
  } finally {
    await store.close();
  }
});
