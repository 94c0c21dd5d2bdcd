import assert from 'node:assert/strict';
import { test } from 'node:test';
import { zipSync } from 'fflate';
import { interpretReport, readReportBody } from '../../src/stats/report.js';
import { REPORT_CODES_T61, reportVerdict } from '../../src/stats/sipil-codes.js';
import { compteRenduXml, parseCompteRendu, parseDepot } from '../../src/stats/sipil-xml.js';

const SEED_DEPOT = `<?xml version="1.0" encoding="UTF-8"?>
<Depot xmlns="http://fr/asip/mss/sipil/manager/bean/warehouse">
  <Authentication>
    <Identite>bus.dev.mssante.fr</Identite>
    <Email/>
    <DomainesGeres>
      <Domaine>medecin-dev-mss.svc.meshcore.net</Domaine>
      <Domaine>pharmacien-dev-mss.svc.meshcore.net</Domaine>
    </DomainesGeres>
  </Authentication>
  <Statut>
    <Id>10</Id>
    <NomArchive>10_bus.dev.mssante.fr.zip</NomArchive>
    <CodeRetourGlobal>0</CodeRetourGlobal>
    <Message>Depot de l'archive OK</Message>
  </Statut>
</Depot>`;

// §6.9.3.2.1.2.2, Figure 38, as printed: "</Email>" without its opening tag.
const SEED_SEGMENT = `<?xml version="1.0" encoding="UTF-8"?>
<Depot xmlns="http://fr/asip/mss/sipil/manager/bean/warehouse">
  <Authentication>
    <Identite>bus.dev.mssante.fr</Identite>
  </Email>
  <DomainesGeres>
    <Domaine>infirmier.dev.mssante.fr</Domaine>
  </DomainesGeres>
</Authentication>
<Statut>
  <CodeRetourGlobal>4</CodeRetourGlobal>
  <Message>Depot de la partie de l'archive OK : 3</Message>
</Statut>
</Depot>`;

test('EX_SSU_5810 §6.9.3.2.1.1.2: the Depot answer of Figure 37 gives CodeRetourGlobal, Id, NomArchive, identity and domains', () => {
  const d = parseDepot(SEED_DEPOT);
  assert.deepEqual(
    { code: d.code, id: d.id, nom: d.nomArchive, identite: d.identite, n: d.domaines.length, lenient: d.lenient },
    { code: 0, id: '10', nom: '10_bus.dev.mssante.fr.zip', identite: 'bus.dev.mssante.fr', n: 2, lenient: false },
  );
});

test('§6.9.3.2.1.2.2: the segment answer of Figure 38, not well-formed as printed, is still read (lenient)', () => {
  const d = parseDepot(SEED_SEGMENT);
  assert.equal(d.code, 4);
  assert.equal(d.lenient, true);
  assert.equal(d.message, "Depot de la partie de l'archive OK : 3");
});

test('SIPIL XML with a DTD is refused (XXE), and an answer without CodeRetourGlobal is an error', () => {
  assert.throws(
    () =>
      parseDepot(
        `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><Depot><Statut><CodeRetourGlobal>0</CodeRetourGlobal></Statut></Depot>`,
      ),
    { code: 'STATS_XML_DTD' },
  );
  assert.throws(() => parseDepot('<html>Bad gateway</html>'), { code: 'STATS_XML_SHAPE' });
});

const CR_UNACCENTED = `<?xml version="1.0" encoding="UTF-8"?>
<CompteRendu><Authentication><Identite>mss.ch-test.fr</Identite><Email>dsi@ch-test.fr</Email><DomainesGeres><Domaine>ch-test.mssante.fr</Domaine></DomainesGeres></Authentication>
<Statut><NomArchive>202503.zip</NomArchive><Identifiant>42</Identifiant><CodeRetourGlobal>1</CodeRetourGlobal><Message>partiel</Message></Statut>
<Fichiers>
 <Fichier><InfoTraitement><NomFichier>202503_EchangesMSSante_ch-test.mssante.fr.csv</NomFichier><DateDebut>02/04/2025 10:00:01</DateDebut><DateFin>2025-04-02 10:00:05</DateFin><CodeRetour>1</CodeRetour></InfoTraitement>
  <Controles><Controle><CodeControle>7</CodeControle><CodeRetour>1</CodeRetour><Erreurs><Message>DATE invalide</Message><LigneErreur>3 7 12</LigneErreur></Erreurs><DateDebut>02/04/2025 10:00:01</DateDebut><DateFin>2025-04-02 10:00:02</DateFin></Controle></Controles></Fichier>
 <Fichier><InfoTraitement><NomFichier>202503_ConnexionsMSSante_ch-test.mssante.fr.csv</NomFichier><CodeRetour>2</CodeRetour></InfoTraitement>
  <Controles><Controle><CodeControle>11</CodeControle><CodeRetour>2</CodeRetour><Message>déjà reçu</Message></Controle></Controles></Fichier>
</Fichiers></CompteRendu>`;

test('EX_SSU_5820 Tableau 48: CompteRendu with unaccented names; per-file and per-control codes, messages, error lines; both date formats', () => {
  const cr = parseCompteRendu(CR_UNACCENTED);
  assert.equal(cr.identifiant, '42');
  assert.equal(cr.files.length, 2);
  const [e, c] = cr.files;
  assert.equal(e?.dateDebut, '2025-04-02 10:00:01');
  assert.equal(e?.dateFin, '2025-04-02 10:00:05');
  assert.deepEqual(e?.controls[0], {
    code: 7,
    codeRetour: 1,
    errors: [{ message: 'DATE invalide', lines: [3, 7, 12] }],
    dateDebut: '2025-04-02 10:00:01',
    dateFin: '2025-04-02 10:00:02',
  });
  assert.deepEqual(c?.controls[0]?.errors, [{ message: 'déjà reçu', lines: [] }], 'Message directly under Contrôle (Tableau 48 levels)');
  const o = interpretReport(cr, '42');
  assert.equal(o.verdict, 'rejected');
  assert.deepEqual(o.blockingFiles, ['202503_EchangesMSSante_ch-test.mssante.fr.csv']);
  assert.deepEqual(o.warningFiles, ['202503_ConnexionsMSSante_ch-test.mssante.fr.csv']);
  assert.equal(o.readings.length, 2, 'code 1 reads differently in Tableaux 61 and 48: both are said');
});

test('EX_SSU_5820: accented names (Contrôles, CodeContrôle) as the sandbox writes them, inside REPORT.ZIP', () => {
  const xml = compteRenduXml(parseCompteRendu(CR_UNACCENTED));
  assert.match(xml, /<Contrôles><Contrôle><CodeContrôle>7/);
  const back = readReportBody(zipSync({ 'CR_42.xml': Buffer.from(xml) }), true);
  assert.equal(back.files[0]?.controls[0]?.code, 7);
  assert.deepEqual(back.files[0]?.controls[0]?.errors[0]?.lines, [3, 7, 12]);
});

test('EX_SSU_5820 §9.7.4.3 vs §6.9.3.2.2.2: every global code has a verdict, with both readings where the tables disagree', () => {
  const expected: Record<number, string> = {
    0: 'accepted',
    1: 'rejected',
    2: 'rejected',
    4: 'rejected',
    5: 'rejected',
    6: 'pending',
    7: 'rejected',
    8: 'error',
    99: 'unknown-id',
    100: 'error',
  };
  for (const code of Object.keys(REPORT_CODES_T61).map(Number)) {
    const v = reportVerdict({ code, fileCodes: [] });
    assert.equal(v.verdict, expected[code], `code ${code}`);
    const cr = parseCompteRendu(`<CompteRendu><Statut><CodeRetourGlobal>${code}</CodeRetourGlobal></Statut></CompteRendu>`);
    assert.equal(interpretReport(cr).verdict, expected[code]);
  }
  assert.equal(reportVerdict({ code: 1, fileCodes: [] }).readings.length, 2);
  assert.equal(reportVerdict({ code: 6, fileCodes: [] }).readings.length, 2, '6: still processing (T61) or other failure (T48)');
  assert.equal(reportVerdict({ code: 0, fileCodes: [] }).readings.length, 1);
  // Per-file codes decide when files are listed, whatever the global reading.
  assert.equal(reportVerdict({ code: 2, fileCodes: [0, 2] }).verdict, 'accepted');
  assert.equal(reportVerdict({ code: 0, fileCodes: [0, 1] }).verdict, 'rejected');
});
