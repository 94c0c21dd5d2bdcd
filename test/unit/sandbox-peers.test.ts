// Where the sandbox's ANS peers (written from the text, sandbox/annuaire and
// sandbox/sipil*) and our client read the Référentiel differently, each difference shown:
// what the peer does, what the client does, and that the outcome for an operator is the one
// docs/annuaire.md and docs/stats.md decide.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { zipSync } from 'fflate';
import { validateRecord } from '../../src/annuaire/validate.js';
import { reportStamp } from '../../sandbox/annuaire/batch.js';
import { recordFindings } from '../../sandbox/annuaire/controls.js';
import { Referential } from '../../sandbox/annuaire/referential.js';
import { checkArchive } from '../../sandbox/sipil-controls.js';
import { compteRenduXml, type CompteRendu } from '../../sandbox/sipil-report.js';
import { FileValidator, type FileCheck } from '../../src/stats/controls.js';
import { ECHANGES_LEGACY, ECHANGES_V16 } from '../../src/stats/format.js';
import { interpretReport } from '../../src/stats/report.js';
import { parseCompteRendu } from '../../src/stats/sipil-xml.js';

const NOW = new Date('2025-04-02T08:00:00Z');
const E = '202503_EchangesMSSante_ch-test.mssante.fr.csv';
const HEADER = 'MAIL_ID;EXPEDITEUR;DESTINATAIRE;DATE;TAILLE;INS;CODECDA;NIL';
const ROW = '4XyZ1ab;jean.dupont@ch-test.mssante.fr;marie@ch-voisin.mssante.fr;2025-03-11 14:55:40;2048;O;34112-3;NIL-1';

/** The sandbox SIPIL's outcome per control number, and the client's local replay's. */
function both(name: string, text: string | Buffer): { sipil: Record<number, number>; client: Record<number, number>; sipilFile: number; clientFile: number } {
  const bytes = typeof text === 'string' ? Buffer.from(text) : text;
  const outcome = checkArchive(zipSync({ [name]: bytes }), { now: NOW, manages: () => true, alreadyAccepted: () => false });
  assert.equal(outcome.kind, 'files');
  const file = outcome.kind === 'files' ? outcome.files[0] : undefined;
  const v = new FileValidator(name, {
    now: NOW,
    timeZone: 'Europe/Paris',
    managesDomain: () => true,
    alreadyAccepted: () => false,
    echangesLayouts: [ECHANGES_V16, ECHANGES_LEGACY],
    maxErrorLines: 10,
  });
  v.push(bytes);
  const c: FileCheck = v.result();
  const map = (list: Array<{ code: number; retour: number }>) => Object.fromEntries(list.filter((x) => x.retour !== 0).map((x) => [x.code, x.retour]));
  return { sipil: map(file?.controls ?? []), client: map(c.controls), sipilFile: file?.codeRetour ?? -1, clientFile: c.codeRetour };
}

test("§9.7.4.4 Tableau 63: an Echanges file of 7 columns is refused by both (control n°5: the text's 5, Tableau 46's 8, never 7); the text's 5 and Tableau 46's 8 both pass the sandbox", () => {
  const seven = both(E, `${HEADER.split(';').slice(0, 7).join(';')}\n${ROW.split(';').slice(0, 7).join(';')}\n`);
  assert.deepEqual([seven.sipil[5], seven.client[5], seven.sipilFile, seven.clientFile], [1, 1, 1, 1]);
  assert.equal(both(E, `${HEADER}\n${ROW}\n`).sipilFile, 0);
  assert.equal(both(E, `${HEADER.split(';').slice(0, 5).join(';')}\n${ROW.split(';').slice(0, 5).join(';')}\n`).sipilFile, 0);
});

test('§9.7.4.4 control n°7, Tableau 46 « AAAA-MM-JJ HH:mm:SS »: a date in another format is refused by both; so is « null » for a Connexions date (EX_SSU_5800)', () => {
  const bad = both(E, `${HEADER}\n${ROW.replace('2025-03-11 14:55:40', '11/03/2025 14:55:40')}\n`);
  assert.deepEqual([bad.sipil[7], bad.client[7]], [1, 1]);
  const nul = both('202503_ConnexionsMSSante_ch-test.mssante.fr.csv', 'BAL;DATE_DERNIERE_CONNEXION\njean.dupont@ch-test.mssante.fr;null\n');
  assert.deepEqual([nul.sipil[7], nul.client[7]], [1, 1]);
});

test("two readings — a BOM: UTF-8 all the same for the sandbox (n°2 OK), which then fails the header's names (n°6); our replay fails it as encoding (n°2). Both refuse the file; we never write one", () => {
  const r = both(E, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`${HEADER}\n${ROW}\n`)]));
  assert.deepEqual([r.sipil[2], r.sipil[6], r.sipilFile], [undefined, 1, 1]);
  assert.deepEqual([r.client[2], r.clientFile], [1, 1]);
});

test("two readings — the global code: the sandbox writes Tableau 48's (1 = every file KO, 2 = some), Tableau 61 swaps them; our client decides by each file's CodeRetour, so both readings give « rejected »", () => {
  const files = (ko: number[]) => ko.map((c, i) => ({ name: `f${i}.csv`, codeRetour: c as 0 | 1 | 2, controls: [], startedAt: NOW, endedAt: NOW }));
  const cr = (code: number, ko: number[]): CompteRendu => ({ auth: { identite: 'op', domaines: [] }, identifiant: '1', code, message: '', files: files(ko) });
  assert.equal(interpretReport(parseCompteRendu(compteRenduXml(cr(1, [1, 1])))).verdict, 'rejected');
  assert.equal(interpretReport(parseCompteRendu(compteRenduXml(cr(2, [0, 1])))).verdict, 'rejected');
  assert.equal(interpretReport(parseCompteRendu(compteRenduXml(cr(0, [0, 2])))).verdict, 'accepted');
});

test('Tableau 15 « un code erreur MSS017 »: a médecin without civilité is RG_CTR_018 (MSS017) for the sandbox Annuaire and for our local validation', () => {
  const D = 'ch-sandbox-a.mssante.fr';
  const fields = {
    TypeBAL: 'PER',
    AdresseBAL: `a.b@${D}`,
    TypeIdentifiantPP: '10',
    IdentifiantPP: `a.b@${D}`,
    TypeIdentifiantPM: '1',
    IdentifiantPM: '130099992',
    NomExercice: 'B',
    PrenomExercice: 'A',
    CategorieProfessions: '01',
    Profession: '10',
    ListeRouge: 'N',
  };
  assert.deepEqual(
    recordFindings(D, { fields }, new Referential()).map((f) => `${f.rule} ${f.code}`),
    ['RG_CTR_018 MSS017'],
  );
  assert.deepEqual(
    validateRecord(D, fields, { finessRegistered: true }).anomalies.map((a) => `${a.rule} ${a.code}`),
    ['RG_CTR_018 MSS017'],
  );
});

test("§6.4.2.5: the sandbox names its reports with the text's 13-character date (AAAAMMJJHHmss), or 14 on request; our client reads both (annuaire-report.test.ts)", () => {
  const d = new Date('2025-06-02T03:04:05Z');
  assert.equal(reportStamp(d), '2025060203405');
  assert.equal(reportStamp(d, 14), '20250602030405');
});
