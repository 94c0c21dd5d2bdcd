import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { buildMonth, type BuildResult } from '../../src/stats/build.js';
import { Journal } from '../../src/journal/journal.js';
import { columnProblem } from '../../src/stats/controls.js';
import { ECHANGES_V16, statsAddress, type Column } from '../../src/stats/format.js';
import { readZip } from '../../src/stats/zip.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { GOLDEN_MONTH, statsWorld, type StatsWorld } from '../helpers/stats.js';

const GOLDEN = path.join(REPO_ROOT, 'test', 'fixtures', 'stats');
let w: StatsWorld;
let b: BuildResult;
const read = (name: string): string => fs.readFileSync(path.join(b.dir, name), 'utf8');

before(async () => {
  w = await statsWorld();
  b = await buildMonth({ config: w.config, registry: w.registry, store: w.store, month: GOLDEN_MONTH, now: new Date('2025-04-01T00:30:00+02:00') });
  if (process.env.UPDATE_GOLDEN === '1') for (const f of b.files) fs.copyFileSync(path.join(b.dir, f.name), path.join(GOLDEN, f.name));
});
after(() => w.store.close());

test('EX_PSU_5010 EX_PSU_5830 EX_PSU_5840: golden Echanges and Connexions files of a synthetic month (Europe/Paris, DST on 2025-03-30)', () => {
  const golden = fs
    .readdirSync(GOLDEN)
    .filter((n) => n.endsWith('.csv'))
    .sort();
  assert.deepEqual(b.files.map((f) => f.name).sort(), golden);
  for (const name of golden) assert.equal(read(name), fs.readFileSync(path.join(GOLDEN, name), 'utf8'), name);
});

test('EX_PSU_5830: file names AAAAMM_EchangesMSSante_<domaine>.csv, one per managed domain; v1.6 header of 8 columns', () => {
  assert.deepEqual(b.files.map((f) => f.name).sort(), [
    '202503_ConnexionsMSSante_ch-test.mssante.fr.csv',
    '202503_ConnexionsMSSante_labo.ch-test.mssante.fr.csv',
    '202503_EchangesMSSante_ch-test.mssante.fr.csv',
    '202503_EchangesMSSante_labo.ch-test.mssante.fr.csv',
  ]);
  assert.equal(read('202503_EchangesMSSante_ch-test.mssante.fr.csv').split('\n')[0], 'MAIL_ID;EXPEDITEUR;DESTINATAIRE;DATE;TAILLE;INS;CODECDA;NIL');
});

test('EX_PSU_5830: one line per recipient, a retried message once, a bounced recipient counted, a never-delivered one not, received mail never', () => {
  const lines = read('202503_EchangesMSSante_ch-test.mssante.fr.csv').split('\n');
  const of = (id: string): string[] => lines.filter((l) => l.startsWith(`${id};`));
  assert.equal(of('4A1B2C3D01').length, 3, 'multi-recipient');
  assert.equal(of('4A1B2C3D02').length, 1, 'retried twice, then delivered');
  assert.equal(of('4A1B2C3D03').length, 1, 'bounced by the destination');
  assert.deepEqual(
    of('4A1B2C3D04').map((l) => l.split(';')[2]),
    ['a.medecin@ch-voisin.mssante.fr'],
    'only deferred: not sent',
  );
  assert.equal(of('5B000001').length, 0, 'received');
  assert.equal(new Set(of('4A1B2C3D01').map((l) => l.split(';').slice(3).join(';'))).size, 1, 'lines of one message share DATE, TAILLE and headers');
});

test('EX_PSU_5020: patient addresses become usager@patient.mssante.fr', () => {
  const all = read('202503_EchangesMSSante_ch-test.mssante.fr.csv') + read('202503_EchangesMSSante_labo.ch-test.mssante.fr.csv');
  assert.doesNotMatch(all, /\d{15}@patient/);
  assert.equal(all.match(/;usager@patient\.mssante\.fr;/g)?.length, 2);
});

test('EX_PSU_5820: suspended/deleted before the month, test mailboxes and null-sender messages are left out; those suspended or deleted during it stay', () => {
  const e = read('202503_EchangesMSSante_ch-test.mssante.fr.csv');
  const c = read('202503_ConnexionsMSSante_ch-test.mssante.fr.csv');
  for (const gone of ['paul.durand', 'anne.petit', 'boite.test', 'reponse.automatique-test', 'nouveau.venu'])
    assert.doesNotMatch(c, new RegExp(`^${gone}@`, 'm'), gone);
  for (const kept of ['luc.bernard', 'sophie.roux', 'marie.martin']) assert.match(c, new RegExp(`^${kept}@`, 'm'), kept);
  assert.doesNotMatch(e, /^4A1B2C3D06;|^4A1B2C3D07;|^4A1B2C3D10;/m);
  assert.match(e, /^4A1B2C3D08;luc\.bernard/m);
  assert.doesNotMatch(e, /;boite\.test@/);
  assert.equal(b.echanges.left.nullSender, 1);
  assert.deepEqual(b.echanges.left.excludedSender, { 'suspended-before': 1, test: 1 });
});

test('EX_SSU_5800 RE_SSU_5800: never connected is empty (never "null"), unknown is 1900-01-01 00:00:00, an APP mailbox shows its last exchange', () => {
  const c = read('202503_ConnexionsMSSante_ch-test.mssante.fr.csv');
  assert.match(c, /^marie\.martin@ch-test\.mssante\.fr;$/m);
  assert.match(c, /^ancien\.compte@ch-test\.mssante\.fr;1900-01-01 00:00:00$/m);
  assert.match(c, /^dpi\.urgences@ch-test\.mssante\.fr;2025-03-16 03:00:00$/m, "the month's last send, after the recorded exchange");
  assert.doesNotMatch(c, /null/i);
});

test('EX_PSU_5810: month boundaries and dates in Europe/Paris, across the DST change', () => {
  const e = read('202503_EchangesMSSante_ch-test.mssante.fr.csv');
  assert.match(e, /^4A1B2C3D12;.*;2025-03-01 00:00:00;/m, 'first second of the month (2025-02-28T23:00:00Z)');
  assert.match(e, /^4A1B2C3D13;.*;2025-03-31 23:59:59;/m, 'last second (2025-03-31T21:59:59Z, summer time)');
  assert.doesNotMatch(e, /^4A1B2C3D14;|^4A1B2C3D15;/m);
  assert.match(
    read('202503_ConnexionsMSSante_ch-test.mssante.fr.csv'),
    /^secretariat\.cardio@ch-test\.mssante\.fr;2025-03-31 08:00:00$/m,
    '07:00 winter offset from the month start is 08:00 in summer time',
  );
});

test('EX_PSU_5830: a value with ";" or a line break does not break the line (addresses too); missing headers give empty columns; INS other than O/N is emptied', () => {
  const e = read('202503_EchangesMSSante_ch-test.mssante.fr.csv');
  for (const line of e.trimEnd().split('\n')) assert.equal(line.split(';').length, 8, line);
  assert.match(e, /^4A1B2C3D18;jean\.dupont@ch-test\.mssante\.fr;"a,b"@ch-voisin\.mssante\.fr;/m, 'a quoted local part with ";" as recipient');
  assert.equal(columnProblem(ECHANGES_V16[2] as Column, '"a,b"@ch-voisin.mssante.fr'), undefined, 'and it passes control n°7');
  assert.match(e, /;O;34112-3,PRESC-BIO,15508-5;<idEditeur\/idLogiciel\/idVersion>$/m);
  assert.match(e, /^4A1B2C3D05;.*;;;Webmail Injected: header$/m);
  assert.match(e, /^4A1B2C3D03;.*;2049;;;$/m);
  assert.match(e, /^4A1B2C3D08;.*;;;$/m);
  assert.equal(b.echanges.insDropped, 1);
});

test('EX_PSU_5830 EX_PSU_5840: ";" and line breaks in a sender, a recipient or a BAL keep 8 (2) fields and one line per row (control n°5)', async () => {
  const w2 = await statsWorld();
  try {
    const at = '2025-03-24T09:00:00Z';
    await new Journal(w2.store).record([
      {
        type: 'submitted',
        at,
        mailId: '4A1B2C3E01',
        sender: '"x;y"@ch-test.mssante.fr',
        recipients: ['"p;q\r\nr"@ch-voisin.mssante.fr', 'ok@ch-voisin.mssante.fr'],
        size: 100,
      },
      { type: 'submitted', at, mailId: '4A1B2C3E02', sender: 'jean.dupont@ch-test.mssante.fr', recipients: ['"l\u2028m;n"@ch-voisin.mssante.fr'], size: 100 },
    ]);
    const built = await buildMonth({
      config: w2.config,
      registry: w2.registry,
      store: w2.store,
      month: GOLDEN_MONTH,
      now: new Date('2025-04-01T00:30:00+02:00'),
      outDir: path.join(w2.dir, 'semi'),
    });
    const e = fs.readFileSync(path.join(built.dir, '202503_EchangesMSSante_ch-test.mssante.fr.csv'), 'utf8');
    for (const line of e.trimEnd().split('\n')) assert.equal(line.split(';').length, 8, line);
    const rows = e.split('\n').filter((l) => l.startsWith('4A1B2C3E0'));
    assert.deepEqual(
      rows.map((l) => l.split(';').slice(1, 3)),
      [
        ['"x,y"@ch-test.mssante.fr', '"p,q r"@ch-voisin.mssante.fr'],
        ['"x,y"@ch-test.mssante.fr', 'ok@ch-voisin.mssante.fr'],
        ['jean.dupont@ch-test.mssante.fr', '"l m,n"@ch-voisin.mssante.fr'],
      ],
    );
    // The BAL column goes through the same rule (statsAddress is the one place both files use).
    assert.equal(statsAddress('"a;b"@CH-TEST.mssante.fr'), '"a,b"@ch-test.mssante.fr');
    assert.equal(`${statsAddress('"a\nb"@ch-test.mssante.fr')};`.split(';').length, 2);
    assert.equal(statsAddress('"a;b"@patient.mssante.fr'), 'usager@patient.mssante.fr', 'EX_PSU_5020 first');
  } finally {
    await w2.store.close();
  }
});

test('EX_PSU_5830: UTF-8 without BOM, LF only, integer sizes', () => {
  for (const f of b.files) {
    const bytes = fs.readFileSync(path.join(b.dir, f.name));
    assert.notDeepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
    assert.ok(!bytes.includes(0x0d));
    assert.equal(bytes[bytes.length - 1], 0x0a);
  }
  for (const line of read('202503_EchangesMSSante_ch-test.mssante.fr.csv').trimEnd().split('\n').slice(1)) assert.match(line.split(';')[4] as string, /^\d+$/);
});

test('EX_PSU_5810: the archive holds the four files at its root, and rebuilding gives the same bytes', async () => {
  const names: string[] = [];
  readZip(b.archive.file, (n) => void names.push(n));
  assert.deepEqual(names.sort(), b.files.map((f) => f.name).sort());
  const again = await buildMonth({ config: w.config, registry: w.registry, store: w.store, month: GOLDEN_MONTH, now: new Date('2025-04-01T00:30:00+02:00') });
  assert.equal(again.archive.sha256, b.archive.sha256);
});

test('EX_PSU_5830: legacy-5 mode writes the 5 columns of §9.7.4.4.1 from the same column set', async () => {
  const config = { ...w.config, stats: { ...w.config.stats, echangesFormat: 'legacy-5' as const } };
  const legacy = await buildMonth({
    config,
    registry: w.registry,
    store: w.store,
    month: GOLDEN_MONTH,
    now: new Date('2025-04-01T00:30:00+02:00'),
    outDir: path.join(w.dir, 'legacy'),
  });
  const text = fs.readFileSync(path.join(legacy.dir, '202503_EchangesMSSante_ch-test.mssante.fr.csv'), 'utf8');
  assert.equal(text.split('\n')[0], 'MAIL_ID;EXPEDITEUR;DESTINATAIRE;DATE;TAILLE');
  for (const line of text.trimEnd().split('\n')) assert.equal(line.split(';').length, 5);
});
