import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { zipSync } from 'fflate';
import { correctionsIn } from '../../src/annuaire/corrections.js';
import { faultError } from '../../src/annuaire/faults.js';
import { buildMtom, parseMultipart } from '../../src/annuaire/mtom.js';
import { parseReportXml } from '../../src/annuaire/report-parse.js';
import { openReportZip } from '../../src/annuaire/report-zip.js';
import { readSoapReply } from '../../src/annuaire/soap-response.js';
import { exitCodeFor } from '../../src/cli/run-action.js';
import { isMssError } from '../../src/errors.js';
import { reportXml } from '../../sandbox/annuaire/batch.js';
import { faultReply, reportReply } from '../../sandbox/annuaire/replies.js';
import { REPO_ROOT } from '../helpers/cli.js';

const CTX = { service: 'report' as const, url: 'https://annuaire.test/cr', dn: 'CN=op', ticket: 'T42', domains: ['x.mssante.fr'] };
const reply = (status: number, body: string | Buffer, contentType = 'text/xml; charset=utf-8') => ({
  status,
  headers: { 'content-type': contentType },
  body: Buffer.from(body),
});

function zip(files: Record<string, string>): Uint8Array {
  return zipSync(Object.fromEntries(Object.entries(files).map(([k, v]) => [k, Buffer.from(v)])));
}

const XML = '<?xml version="1.0" encoding="UTF-8"?><CompteRenduAlimentation/>';
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

test('§6.4.2.5: the report ZIP holds cralimentationmss_<ticket>_<date>.xml and its SHA-256 checksum file, which is checked', () => {
  const ok = openReportZip(
    zip({
      'cralimentationmss_T42_20250602030000.xml': XML,
      'cralimentationmss_T42_20250602030000_checksum.txt': `${sha(XML).toUpperCase()}  cralimentationmss_T42_20250602030000.xml\n`,
    }),
    'T42',
    1 << 20,
  );
  assert.equal(ok.xml.toString(), XML);
  assert.deepEqual([ok.nameTicket, ok.nameDate, ok.checksum.status], ['T42', '20250602030000', 'ok']);
  const absent = openReportZip(zip({ 'cralimentationmss_T42_20250602030000.xml': XML }), 'T42', 1 << 20);
  assert.equal(absent.checksum.status, 'absent');
  assert.throws(
    () =>
      openReportZip(
        zip({ 'cralimentationmss_T42_20250602030000.xml': XML, 'cralimentationmss_T42_20250602030000_checksum.txt': sha('other') }),
        'T42',
        1 << 20,
      ),
    (e) => isMssError(e, 'ANNUAIRE_REPORT_CHECKSUM'),
  );
  assert.throws(
    () => openReportZip(zip({ 'readme.txt': 'x' }), 'T42', 1 << 20),
    (e) => isMssError(e, 'ANNUAIRE_REPORT_ZIP'),
  );
  assert.throws(
    () => openReportZip(Buffer.from('not a zip'), 'T42', 1 << 20),
    (e) => isMssError(e, 'ANNUAIRE_REPORT_ZIP'),
  );
  const big = 'x'.repeat(5000);
  assert.throws(
    () => openReportZip(zip({ 'cralimentationmss_T42_20250602030000.xml': big }), 'T42', 1000),
    (e) => isMssError(e, 'ANNUAIRE_REPORT_TOO_LARGE'),
  );
});

test("§6.4.2.5, §6.4.2.5.1.3: the report file name's date is read with 13 digits (the text's AAAAMMJJHHmss) or 14 (AAAAMMJJHHmmss); a report is never refused over its digit count", () => {
  for (const date of ['2025060203000', '20250602030000']) {
    const name = `cralimentationmss_T42_${date}`;
    const r = openReportZip(zip({ [`${name}.xml`]: XML, [`${name}_checksum.txt`]: sha(XML) }), 'T42', 1 << 20);
    assert.deepEqual([r.xmlName, r.nameTicket, r.nameDate, r.checksum.status], [`${name}.xml`, 'T42', date, 'ok'], date);
  }
  // A ticket with underscores keeps them; any other digit count is still the report.
  const odd = openReportZip(zip({ 'cralimentationmss_T_4_2_202506020300.xml': XML }), 'T_4_2', 1 << 20);
  assert.deepEqual([odd.nameTicket, odd.nameDate], ['T_4_2', '202506020300']);
});

test('§6.4.2.5.1.2: the ZIP arrives inline (base64) or as an MTOM attachment, byte for byte', () => {
  const payload = new Uint8Array([0x50, 0x4b, 0x0d, 0x0a, 0x2d, 0x2d, 0x0d, 0x0a, 0x00, 0xff]);
  const inline = reportReply('T42', payload, 'inline');
  const r1 = readSoapReply(reply(200, inline.body, inline.contentType), CTX, 1 << 20);
  assert.equal(Buffer.from(r1.payload.children[0]?.children.find((c) => c.local === 'Fichier')?.text ?? '', 'base64').equals(Buffer.from(payload)), true);
  const mtom = reportReply('T42', payload, 'mtom');
  assert.match(mtom.contentType, /^multipart\/related; type="application\/xop\+xml"/);
  const r2 = readSoapReply(reply(200, mtom.body, mtom.contentType), CTX, 1 << 20);
  const [attachment] = r2.attachments.values();
  assert.equal(attachment?.equals(Buffer.from(payload)), true);
  const built = buildMtom('<a/>', [
    { id: 'one', contentType: 'application/zip', body: payload },
    { id: 'two', contentType: 'text/plain', body: Buffer.from('hi') },
  ]);
  const mp = parseMultipart(built.body, built.contentType, 'test');
  assert.equal(mp.root.body.toString(), '<a/>');
  assert.deepEqual([...mp.byId.keys()], ['root.message@annuaire.sandbox', 'one', 'two']);
});

test('EX_WSA_5060: SOAP faults (Figure 26 shape and SOAP 1.1 shape) map to actionable coded errors; 401 means an expired certificate', () => {
  const codeOf = (status: number, body: string, ct?: string): string => {
    try {
      readSoapReply(reply(status, body, ct), CTX, 1 << 20);
      return 'no error';
    } catch (e) {
      return (e as { code: string }).code;
    }
  };
  const expected: Array<[string, string, number]> = [
    ['WSMSS06', 'ANNUAIRE_NOT_AUTHORIZED', 1],
    ['WSMSS12', 'ANNUAIRE_MALFORMED', 1],
    ['WSMSS15', 'TEMPORARY_ANNUAIRE_SAS', 3],
    ['WSMSS16', 'ANNUAIRE_TICKET_NOT_OURS', 1],
    ['WSMSS17', 'TEMPORARY_ANNUAIRE_PENDING', 3],
    ['WSMSS23', 'ANNUAIRE_TICKET_UNKNOWN', 1],
    ['WSMSS24', 'ANNUAIRE_FEED_FAILED', 1],
    ['WSMSS25', 'ANNUAIRE_TICKET_UNKNOWN', 1],
    ['WSMSS26', 'TEMPORARY_ANNUAIRE_REPORT_UNAVAILABLE', 3],
    ['WSMSS04', 'ANNUAIRE_VIHF_REFUSED', 1],
    ['certificate_revoked', 'ANNUAIRE_CERT_REVOKED', 1],
  ];
  for (const [wsmss, code, exit] of expected) {
    assert.equal(codeOf(500, faultReply(wsmss, 'message')), code, wsmss);
    assert.equal(exitCodeFor(code), exit, code);
  }
  const soap11 = `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><soap:Fault><faultcode>soap:Server</faultcode><faultstring>WSMSS 6 : Echec d'authentification</faultstring></soap:Fault></soap:Body></soap:Envelope>`;
  assert.equal(codeOf(500, soap11), 'ANNUAIRE_NOT_AUTHORIZED');
  const soap12 = `<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Body><env:Fault><env:Code><env:Value>env:Receiver</env:Value><env:Subcode><env:Value>WSMSS17</env:Value></env:Subcode></env:Code><env:Reason><env:Text xml:lang="fr">en cours</env:Text></env:Reason></env:Fault></env:Body></env:Envelope>`;
  assert.equal(codeOf(500, soap12), 'TEMPORARY_ANNUAIRE_PENDING');
  assert.equal(codeOf(401, '401: Authorization Required', 'text/plain'), 'ANNUAIRE_CERT_EXPIRED');
  assert.equal(codeOf(403, 'certificate_revoked', 'text/plain'), 'ANNUAIRE_CERT_REVOKED');
  assert.equal(codeOf(503, '<html>maintenance</html>', 'text/html'), 'HTTP_SERVER_ERROR');
  assert.equal(codeOf(200, '<!DOCTYPE x [<!ENTITY a "b">]><x/>'), 'ANNUAIRE_XML_DTD');
  assert.equal(codeOf(200, '<notsoap/>'), 'ANNUAIRE_NOT_SOAP');
  const e = faultError({ code: 'WSMSS06', reason: 'x', httpStatus: 500 }, CTX);
  assert.match(e.message, /CN=op is listed for x\.mssante\.fr in the liste blanche/);
});

test("Tableaux 20–24: the report is read per domain, counters and anomalies with the Annuaire's known values, blocking first, whatever the wrappers", () => {
  const nested = reportXml('T42', [
    {
      domain: 'x.mssante.fr',
      counters: { NbBALLus: 3, NbBALDelta: 2, NbBALCrees: 1, NbBALMaj: 1, NbBALSup: 0, NbBALErrBlo: 1, NbBALErrNBlo: 1 },
      anomalies: [
        {
          record: { fields: { AdresseBAL: 'a@x.mssante.fr', TypeBAL: 'PER', TypeIdentifiantPP: '0', IdentifiantPP: '131234567' } },
          rule: 'RG_CTR_045',
          code: 'MSS043',
          criticite: 'Warning',
          message: 'plus valide',
          detail: '',
          annuaire: { nom: 'BERNARD', prenom: 'Luc', typeIdentifiantPP: '8', identifiantPP: '10100000033' },
        },
        {
          record: { fields: { AdresseBAL: 'b@x.mssante.fr', TypeBAL: 'PER' } },
          rule: 'RG_CTR_008',
          code: 'MSS008',
          criticite: 'Bloquante',
          message: 'inconnu',
          detail: '',
        },
      ],
    },
    {
      domain: 'y.mssante.fr',
      counters: { NbBALLus: 0, NbBALDelta: 0, NbBALCrees: 0, NbBALMaj: 0, NbBALSup: 4, NbBALErrBlo: 0, NbBALErrNBlo: 0 },
      anomalies: [],
    },
  ]);
  const r = parseReportXml(nested, 'report.xml');
  assert.equal(r.ticket, 'T42');
  assert.deepEqual(
    r.rules.map((x) => x.code),
    ['MSS020'],
  );
  assert.deepEqual(
    r.domains.map((d) => [d.domain, d.counters.NbBALLus, d.counters.NbBALSup, d.anomalies.length]),
    [
      ['x.mssante.fr', 3, 0, 2],
      ['y.mssante.fr', 0, 4, 0],
    ],
  );
  const [first, second] = r.domains[0]?.anomalies ?? [];
  assert.deepEqual([first?.code, first?.rule, first?.criticality], ['MSS008', 'RG_CTR_008', 'Bloquante'], 'blocking first');
  assert.deepEqual(second?.annuaire, { nom: 'BERNARD', prenom: 'Luc', typeIdentifiantPP: '8', identifiantPP: '10100000033' });
  // A flatter layout, the letter O in CodeMSSO, "BLOQUANTE" in capitals.
  const flat =
    '<R><Ticket>T9</Ticket><Domaine>z.mssante.fr</Domaine><NbBALLus>1</NbBALLus><A><CodeMSSO>MSSO18</CodeMSSO><MotifErreur>nom</MotifErreur><CriticiteErreur>BLOQUANTE</CriticiteErreur><AdresseBAL>c@z.mssante.fr</AdresseBAL></A></R>';
  const f = parseReportXml(flat, 'flat.xml');
  assert.deepEqual(
    f.domains.map((d) => [d.domain, d.counters.NbBALLus, d.anomalies[0]?.code, d.anomalies[0]?.rule, d.anomalies[0]?.criticality]),
    [['z.mssante.fr', 1, 'MSS018', 'RG_CTR_019', 'Bloquante']],
  );
});

test('EX_PBA_5100: the identifiers the Annuaire corrects are found (sent ADELI → known RPPS), once per mailbox', () => {
  const domains = [
    {
      domain: 'x',
      counters: {} as never,
      anomalies: [
        {
          domain: 'x',
          bal: 'a@x',
          rule: 'RG_CTR_045',
          code: 'MSS043',
          criticality: 'Warning' as const,
          message: '',
          sent: { typeIdentifiantPP: '0', identifiantPP: '131234567' },
          annuaire: { typeIdentifiantPP: '8', identifiantPP: '10100000033' },
        },
        {
          domain: 'x',
          bal: 'a@x',
          rule: 'RG_CTR_021',
          code: 'MSS020',
          criticality: 'Warning' as const,
          message: '',
          sent: { typeIdentifiantPP: '0', identifiantPP: '131234567' },
          annuaire: { typeIdentifiantPP: '8', identifiantPP: '10100000033' },
        },
        {
          domain: 'x',
          bal: 'b@x',
          rule: 'RG_CTR_021',
          code: 'MSS020',
          criticality: 'Warning' as const,
          message: '',
          sent: { typeIdentifiantPP: '8', identifiantPP: '10100000044' },
          annuaire: { nom: 'PETIT' },
        },
      ],
    },
  ];
  assert.deepEqual(correctionsIn(domains), [{ bal: 'a@x', from: '0131234567', to: '810100000033', code: 'MSS043' }]);
});

test('every coded error of the Annuaire client is documented in docs/annuaire.md', () => {
  const doc = fs.readFileSync(path.join(REPO_ROOT, 'docs', 'annuaire.md'), 'utf8');
  const codes = new Set<string>();
  for (const dir of ['src/annuaire', 'src/cli']) {
    for (const f of fs.readdirSync(path.join(REPO_ROOT, dir))) {
      if (!f.endsWith('.ts')) continue;
      for (const m of fs.readFileSync(path.join(REPO_ROOT, dir, f), 'utf8').matchAll(/'((?:TEMPORARY_|CONFIG_)?ANNUAIRE_[A-Z_]+)'/g)) codes.add(m[1] as string);
    }
  }
  assert.ok(codes.size > 20);
  assert.deepEqual(
    [...codes].filter((c) => !doc.includes(`\`${c}\``)),
    [],
  );
});
