import assert from 'node:assert/strict';
import { test } from 'node:test';
import { zipSync } from 'fflate';
import { checkArchive } from '../../src/stats/archive-check.js';
import { FileValidator, type ControlContext, type FileCheck } from '../../src/stats/controls.js';
import { ECHANGES_LEGACY, ECHANGES_V16 } from '../../src/stats/format.js';

const NOW = new Date('2025-04-02T10:00:00+02:00');
const D = 'ch-test.mssante.fr';
const ctx = (over: Partial<ControlContext> = {}): ControlContext => ({
  now: NOW,
  timeZone: 'Europe/Paris',
  managesDomain: (d) => d === D || d === 'labo.ch-test.mssante.fr',
  alreadyAccepted: () => false,
  echangesLayouts: [ECHANGES_V16],
  maxErrorLines: 100,
  ...over,
});
const H = 'MAIL_ID;EXPEDITEUR;DESTINATAIRE;DATE;TAILLE;INS;CODECDA;NIL';
const ROW = `Q1;jean.dupont@${D};a@ch-voisin.mssante.fr;2025-03-10 10:00:00;2048;O;11488-4;LPS`;
const E = `202503_EchangesMSSante_${D}.csv`;
const C = `202503_ConnexionsMSSante_${D}.csv`;

function check(name: string, content: string | Uint8Array, c: ControlContext = ctx()): FileCheck {
  const v = new FileValidator(name, c);
  v.push(typeof content === 'string' ? Buffer.from(content) : content);
  v.end();
  return v.result();
}
const failing = (f: FileCheck): Array<[number, number]> => f.controls.filter((c) => c.retour !== 0).map((c) => [c.code, c.retour]);
const control = (f: FileCheck, code: number) => f.controls.find((c) => c.code === code);

test('§9.7.4.4.1: a well-formed Echanges file passes the ten controls', () => {
  const f = check(E, `${H}\n${ROW}\n`);
  assert.deepEqual(failing(f), []);
  assert.equal(f.controls.length, 10);
  assert.equal(f.codeRetour, 0);
});

test('§9.7.4.4.2: a well-formed Connexions file passes the eleven controls; empty date allowed (EX_SSU_5800)', () => {
  const f = check(C, `BAL;DATE_DERNIERE_CONNEXION\njean.dupont@${D};2025-03-10 10:00:00\nmarie.martin@${D};\nold@${D};1900-01-01 00:00:00\n`);
  assert.deepEqual(failing(f), []);
  assert.equal(f.controls.length, 11);
});

test('control n°1 (EX_PSU_5830): file name syntax, and files at the root of the archive', () => {
  for (const name of [
    '(202503)_EchangesMSSante_[ch-test.mssante.fr].csv',
    '2025-03_EchangesMSSante_ch-test.mssante.fr.csv',
    '202513_EchangesMSSante_ch-test.mssante.fr.csv',
    '202503_echangesMSSante_ch-test.mssante.fr.csv',
    'stats/202503_EchangesMSSante_ch-test.mssante.fr.csv',
    '202503_EchangesMSSante_ch-test.mssante.fr.txt',
  ]) {
    const f = check(name, `${H}\n${ROW}\n`);
    assert.deepEqual(failing(f), [[1, 1]], name);
    assert.equal(f.codeRetour, 1);
  }
});

test('control n°2: UTF-8 (an invalid byte, and a BOM)', () => {
  const latin1 = Buffer.concat([
    Buffer.from(`${H}\n`),
    Buffer.from(`Q1;jean.dupont@${D};a@ch-voisin.mssante.fr;2025-03-10 10:00:00;2048;O;;R\xe9sum\xe9\n`, 'latin1'),
  ]);
  const f = check(E, latin1);
  assert.deepEqual(control(f, 2)?.lines, [2]);
  assert.equal(control(f, 2)?.retour, 1);
  const bom = check(E, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`${H}\n${ROW}\n`)]));
  assert.deepEqual(failing(bom), [[2, 1]]);
  assert.match(control(bom, 2)?.messages[0] ?? '', /BOM/);
});

test('control n°3: Unix line ends only (CRLF refused, with the lines)', () => {
  const f = check(E, `${H}\r\n${ROW}\r\n`);
  assert.deepEqual(failing(f), [[3, 1]]);
  assert.deepEqual(control(f, 3)?.lines, [1, 2]);
});

test('control n°4: the separator is « ; »', () => {
  const f = check(E, `${H.replace(/;/g, ',')}\n${ROW.replace(/;/g, ',')}\n`);
  assert.equal(control(f, 4)?.retour, 1);
  assert.deepEqual(control(f, 4)?.lines, [1, 2]);
});

test('control n°5: 8 fields per Echanges line (v1.6), 2 per Connexions line; an extra ";" is caught', () => {
  const f = check(E, `${H}\n${ROW};extra\n${ROW}\n\n`);
  assert.deepEqual(failing(f), [[5, 1]]);
  assert.deepEqual(control(f, 5)?.lines, [2, 4]);
  const c = check(C, `BAL;DATE_DERNIERE_CONNEXION\njean.dupont@${D}\n`);
  assert.deepEqual(failing(c), [[5, 1]]);
});

test('control n°5/6: the legacy 5-column layout passes where it is accepted (sandbox), fails where v1.6 is expected', () => {
  const legacy = `MAIL_ID;EXPEDITEUR;DESTINATAIRE;DATE;TAILLE\nQ1;jean.dupont@${D};a@ch-voisin.mssante.fr;2025-03-10 10:00:00;2048\n`;
  assert.deepEqual(failing(check(E, legacy, ctx({ echangesLayouts: [ECHANGES_V16, ECHANGES_LEGACY] }))), []);
  assert.deepEqual(
    failing(check(E, legacy)).map(([c]) => c),
    [5, 6],
  );
});

test('control n°6: header names exact, case-sensitive (EX_PSU_5810: columns never renamed)', () => {
  const f = check(E, `${H.toLowerCase()}\n${ROW}\n`);
  assert.deepEqual(failing(f), [[6, 1]]);
  assert.match(control(f, 6)?.messages[0] ?? '', /case-sensitive/);
  assert.deepEqual(failing(check(E, '')), [[6, 1]]);
});

test('control n°7: row consistency — address, date, integer size, INS flag, lengths; patient INS refused (EX_PSU_5020); "null" refused (EX_SSU_5800)', () => {
  const rows = [
    `Q1;jean.dupont@${D};not-an-address;2025-03-10 10:00:00;2048;O;;`,
    `Q2;jean.dupont@${D};a@ch-voisin.mssante.fr;2025-02-30 10:00:00;2048;O;;`,
    `Q3;jean.dupont@${D};a@ch-voisin.mssante.fr;10/03/2025 10:00:00;2048;O;;`,
    `Q4;jean.dupont@${D};a@ch-voisin.mssante.fr;2025-03-10 10:00:00;2 ko;O;;`,
    `Q5;jean.dupont@${D};a@ch-voisin.mssante.fr;2025-03-10 10:00:00;2048;Oui;;`,
    `Q6;jean.dupont@${D};123456789012345@patient.mssante.fr;2025-03-10 10:00:00;2048;O;;`,
    `;jean.dupont@${D};a@ch-voisin.mssante.fr;2025-03-10 10:00:00;2048;O;;`,
    `Q8;jean.dupont@${D};a@ch-voisin.mssante.fr;2025-03-10 10:00:00;2048;O;${'x'.repeat(256)};`,
  ];
  const f = check(E, `${H}\n${ROW}\n${rows.join('\n')}\n`);
  assert.deepEqual(failing(f), [[7, 1]]);
  assert.deepEqual(control(f, 7)?.lines, [3, 4, 5, 6, 7, 8, 9, 10]);
  assert.ok(control(f, 7)?.messages.some((m) => /EX_PSU_5020/.test(m)));
  const c = check(C, `BAL;DATE_DERNIERE_CONNEXION\njean.dupont@${D};null\n`);
  assert.match(control(c, 7)?.messages[0] ?? '', /null.*EX_SSU_5800/);
});

test('control n°8 (EX_SSU_5810): the operator manages the domain of the file name; no liste blanche → technical error 100', () => {
  const f = check(`202503_EchangesMSSante_autre.mssante.fr.csv`, `${H}\n${ROW}\n`);
  assert.deepEqual(failing(f), [[8, 1]]);
  const unknown = check(E, `${H}\n${ROW}\n`, ctx({ managesDomain: () => undefined, whitelistProblem: 'no verified liste blanche' }));
  assert.deepEqual(failing(unknown), [[8, 100]]);
  assert.equal(unknown.codeRetour, 1);
});

test('Connexions control n°9: every domain in the file is managed by the operator', () => {
  const f = check(C, `BAL;DATE_DERNIERE_CONNEXION\njean.dupont@${D};\nx@autre.mssante.fr;\n`);
  assert.deepEqual(failing(f), [[9, 1]]);
  assert.deepEqual(control(f, 9)?.lines, [3]);
});

test('control n°9/10 (EX_PSU_5810): the period is the previous month; older is a warning, more than 3 months off is blocking, the current month is blocking', () => {
  const at = (name: string) => check(name, name.includes('Connexions') ? 'BAL;DATE_DERNIERE_CONNEXION\n' : `${H}\n`);
  assert.deepEqual(failing(at(`202503_EchangesMSSante_${D}.csv`)), []);
  assert.deepEqual(failing(at(`202502_EchangesMSSante_${D}.csv`)), [[9, 2]]);
  assert.equal(at(`202502_EchangesMSSante_${D}.csv`).codeRetour, 2);
  assert.deepEqual(failing(at(`202412_EchangesMSSante_${D}.csv`)), [[9, 2]]);
  assert.deepEqual(failing(at(`202411_EchangesMSSante_${D}.csv`)), [[9, 1]]);
  assert.deepEqual(failing(at(`202504_EchangesMSSante_${D}.csv`)), [[9, 1]]);
  assert.deepEqual(failing(at(`202411_ConnexionsMSSante_${D}.csv`)), [[10, 1]]);
});

test('control n°10/11: a file of the same name already accepted is a warning, not a refusal', () => {
  const f = check(E, `${H}\n${ROW}\n`, ctx({ alreadyAccepted: () => true }));
  assert.deepEqual(failing(f), [[10, 2]]);
  assert.equal(f.codeRetour, 2);
  assert.deepEqual(failing(check(C, 'BAL;DATE_DERNIERE_CONNEXION\n', ctx({ alreadyAccepted: () => true }))), [[11, 2]]);
});

test('LigneErreur is capped (maxErrorLines) while every line in error is counted', () => {
  const f = check(E, `${H}\n${Array.from({ length: 50 }, () => 'bad').join('\n')}\n`, ctx({ maxErrorLines: 5 }));
  assert.deepEqual(control(f, 5)?.lines, [2, 3, 4, 5, 6]);
  assert.equal(control(f, 5)?.linesInError, 50);
});

test('§9.7.4.3 archive codes: 0 all OK, 1 partly KO, 2 all KO, 4 empty, 5 cannot be opened', () => {
  const ok = Buffer.from(`${H}\n${ROW}\n`);
  const ko = Buffer.from(`${H}\r\n`);
  assert.equal(checkArchive(zipSync({ [E]: ok }), ctx()).code, 0);
  assert.equal(checkArchive(zipSync({ [E]: ok, [`202503_EchangesMSSante_labo.${D}.csv`]: ko }), ctx()).code, 1);
  assert.equal(checkArchive(zipSync({ [E]: ko }), ctx()).code, 2);
  assert.equal(checkArchive(zipSync({}), ctx()).code, 4);
  assert.equal(checkArchive(Buffer.from('not a zip at all'), ctx()).code, 5);
  const nested = checkArchive(zipSync({ dir: { [E]: ok } }), ctx());
  assert.equal(nested.code, 2);
  assert.match(nested.files[0]?.controls[0]?.messages[0] ?? '', /root/);
});
