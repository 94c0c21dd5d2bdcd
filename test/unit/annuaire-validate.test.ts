import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FeedRecord } from '../../src/annuaire/record.js';
import { validateFeed, validateRecord, type ValidationContext } from '../../src/annuaire/validate.js';

const D = 'ch-test.mssante.fr';
const CTX: ValidationContext = { finessRegistered: true };

const per = (o: FeedRecord = {}): FeedRecord => ({
  TypeBAL: 'PER',
  AdresseBAL: `jean.dupont@${D}`,
  TypeIdentifiantPP: '8',
  IdentifiantPP: '10000000101',
  TypeIdentifiantPM: '1',
  IdentifiantPM: '130000001',
  NomExercice: 'DUPONT',
  PrenomExercice: 'Jean',
  ListeRouge: 'N',
  ...o,
});
const per10 = (o: FeedRecord = {}): FeedRecord => ({
  TypeBAL: 'PER',
  AdresseBAL: `amina.diallo@${D}`,
  TypeIdentifiantPP: '10',
  IdentifiantPP: `amina.diallo@${D}`,
  TypeIdentifiantPM: '1',
  IdentifiantPM: '130000001',
  CiviliteExercice: 'DR',
  NomExercice: 'DIALLO',
  PrenomExercice: 'Amina',
  CategorieProfessions: '01',
  Profession: '10',
  Specialite: 'SM26',
  ListeRouge: 'N',
  ...o,
});
const org = (o: FeedRecord = {}): FeedRecord => ({
  TypeBAL: 'ORG',
  AdresseBAL: `secretariat@${D}`,
  TypeIdentifiantPM: '1',
  IdentifiantPM: '130000001',
  Responsable: 'Dr X',
  Description: 'Secrétariat',
  ListeRouge: 'N',
  ...o,
});
const cab = (o: FeedRecord = {}): FeedRecord => ({
  TypeBAL: 'CAB',
  AdresseBAL: `cabinet@${D}`,
  TypeIdentifiantPP: '8',
  IdentifiantPP: '10000000106',
  Responsable: 'Eva LEBRUN',
  ListeRouge: 'N',
  Description: 'Cabinet',
  coHolders: [
    { TypeIdentifiantPP: '8', IdentifiantPP: '10000000106', NomExercice: 'LEBRUN', PrenomExercice: 'Eva', EstResponsable: 'O' },
    { TypeIdentifiantPP: '0', IdentifiantPP: '131234567', NomExercice: 'NOIR', PrenomExercice: 'Léo', EstResponsable: 'N' },
  ],
  ...o,
});

/** [rule, code, criticality] of every anomaly of one record. */
function found(r: FeedRecord, ctx = CTX): string[] {
  return validateRecord(D, r, ctx).anomalies.map((a) => `${a.rule} ${a.code ?? '-'} ${a.criticality[0]}`);
}

test('valid PER (RPPS, ADELI, internal), ORG, APP and CAB records raise nothing', () => {
  for (const r of [per(), per({ TypeIdentifiantPP: '0', IdentifiantPP: '131234567' }), per10(), org(), org({ TypeBAL: 'APP' }), cab()])
    assert.deepEqual(found(r), [], JSON.stringify(r));
});

test('§9.7.3 format controls (Tableau 57, WSMSS12): RG_CTR_002, 003, 004, 046, 006, 015, 032, lengths X(n), XML characters, EX_GBM_4300 address characters', () => {
  assert.deepEqual(found(per({ TypeBAL: undefined })), ['RG_CTR_002 WSMSS12 B']);
  assert.deepEqual(found(per({ TypeBAL: 'XYZ' })), ['RG_CTR_003 WSMSS12 B']);
  assert.deepEqual(found(per({ AdresseBAL: undefined })), ['RG_CTR_004 WSMSS12 B']);
  assert.deepEqual(found(per({ AdresseBAL: `${'a'.repeat(65)}@${D}` })), ['RG_CTR_046 WSMSS12 B']);
  assert.deepEqual(found(per({ AdresseBAL: `jean#dupont@${D}` })), ['EX_GBM_4300 WSMSS12 B']);
  assert.deepEqual(found(per({ TypeIdentifiantPP: '3' })), ['RG_CTR_006 WSMSS12 B']);
  assert.deepEqual(found(org({ TypeIdentifiantPM: '4' })), ['RG_CTR_015 WSMSS12 B']);
  assert.deepEqual(found(per({ ListeRouge: undefined })), ['RG_CTR_032 WSMSS12 B']);
  assert.deepEqual(found(per({ ListeRouge: 'Y' })), ['RG_CTR_032 WSMSS12 B']);
  // Tableau 57 RG_CTR_032: "pour tout enregistrement" — a CAB too (its table names RG_CTR_104).
  assert.deepEqual(found(cab({ ListeRouge: undefined })), ['RG_CTR_032 WSMSS12 B']);
  // RG_CTR_006: "BAL de TypeBAL = PER ou CAB".
  assert.deepEqual(found(cab({ TypeIdentifiantPP: '3' })), ['RG_CTR_006 WSMSS12 B']);
  assert.deepEqual(found(per({ NomExercice: 'N'.repeat(81) })), ['XSD WSMSS12 B']);
  assert.deepEqual(found(per({ IdentifiantPP: '1'.repeat(12) })), ['XSD WSMSS12 B']);
  assert.deepEqual(found(org({ Description: 'bip\u0007' })), ['XSD WSMSS12 B']);
});

test('§9.7.3 required fields: RG_CTR_005, 007, 019, 020 (PER); 009, 013, 022, 025 (PER 10); 011, 014, 029, 030 (ORG/APP); 108, 106, 120–123 (CAB)', () => {
  assert.deepEqual(found(per({ TypeIdentifiantPP: undefined, IdentifiantPP: undefined, NomExercice: undefined, PrenomExercice: undefined })), [
    'RG_CTR_005 MSS005 B',
    'RG_CTR_007 MSS007 B',
    'RG_CTR_019 MSS018 B',
    'RG_CTR_020 MSS019 B',
  ]);
  assert.deepEqual(
    found(
      per10({
        TypeIdentifiantPM: undefined,
        IdentifiantPM: undefined,
        CategorieProfessions: undefined,
        Profession: undefined,
        CiviliteExercice: undefined,
        Specialite: undefined,
      }),
    ),
    ['RG_CTR_009 MSS009 B', 'RG_CTR_013 MSS012 B', 'RG_CTR_022 MSS021 B', 'RG_CTR_025 MSS024 B'],
  );
  assert.deepEqual(found(org({ TypeIdentifiantPM: undefined, IdentifiantPM: undefined, Responsable: undefined, Description: undefined })), [
    'RG_CTR_011 MSS011 B',
    'RG_CTR_014 MSS013 B',
    'RG_CTR_029 MSS028 B',
    'RG_CTR_030 MSS029 B',
  ]);
  // RG_CTR_030 names CAB with ORG and APP (the CAB table calls it RG_CTR_108): MSS029.
  assert.deepEqual(found(cab({ Description: undefined })), ['RG_CTR_030 MSS029 B']);
  assert.deepEqual(found(cab({ coHolders: [] })), ['RG_CTR_106 - B']);
  assert.deepEqual(found(cab({ coHolders: [{ EstResponsable: 'O' }] })), ['RG_CTR_120 - B', 'RG_CTR_121 - B', 'RG_CTR_122 - B', 'RG_CTR_123 - B']);
});

test('§9.7.3 nomenclature codes: RG_CTR_010 (G07), 017 (R11), 023 (R37), 026 (G15), 027 (R38/R40/R44), 140 (co-holder G08)', () => {
  assert.deepEqual(found(per10({ CiviliteExercice: 'XX' })), ['RG_CTR_017 MSS016 B']);
  assert.deepEqual(found(per10({ CiviliteExercice: undefined })), ['RG_CTR_018 MSS017 B'], 'a médecin needs a civilité: MSS017 (Tableau 15)');
  assert.deepEqual(found(per10({ CategorieProfessions: 'A1' })), ['RG_CTR_023 MSS022 B']);
  assert.deepEqual(found(per10({ Profession: 'X' })), ['RG_CTR_026 MSS025 B']);
  assert.deepEqual(found(per10({ Specialite: 'sm26' })), ['RG_CTR_027 MSS026 B']);
  assert.deepEqual(found(cab({ coHolders: [{ TypeIdentifiantPP: '10', IdentifiantPP: 'x', NomExercice: 'N', PrenomExercice: 'P', EstResponsable: 'O' }] })), [
    'RG_CTR_140 - B',
  ]);
});

test('§9.7.3: format, required and nomenclature controls stop at the first blocking anomaly; the other controls run only then', () => {
  // A missing NomExercice (required) hides the RPPS of the wrong shape (RG_CTR_008, later).
  const r = validateRecord(D, per({ NomExercice: undefined, IdentifiantPP: '123' }), CTX);
  assert.equal(r.phase1Blocked, true);
  assert.deepEqual(
    r.anomalies.map((a) => a.rule),
    ['RG_CTR_019'],
  );
  // A format error hides the required-field ones.
  assert.deepEqual(found(per({ ListeRouge: undefined, NomExercice: undefined })), ['RG_CTR_032 WSMSS12 B']);
});

test('§9.7.3 other controls: RG_CTR_001, 008 and 016 (shapes), 018, 024, 028, 035, 036, 047; G15 codes outside the local copy are warnings', () => {
  assert.deepEqual(found(per({ AdresseBAL: 'jean.dupont@autre.mssante.fr' })), ['RG_CTR_001 MSS001 B']);
  assert.deepEqual(found(per({ IdentifiantPP: '1234567890' })), ['RG_CTR_008 MSS008 B']);
  assert.deepEqual(found(per({ TypeIdentifiantPP: '0', IdentifiantPP: '12345' })), ['RG_CTR_008 MSS008 B']);
  assert.deepEqual(found(org({ IdentifiantPM: '12345' })), ['RG_CTR_016 MSS015 B']);
  assert.deepEqual(found(per10({ CiviliteExercice: 'PC' })), ['RG_CTR_018 MSS017 B'], "PC is a pharmacien's civilité");
  assert.deepEqual(found(per10({ CategorieProfessions: '06' })), ['RG_CTR_024 MSS023 B']);
  assert.deepEqual(found(per10({ Profession: '40', CiviliteExercice: 'DR', Specialite: 'SP01' })), ['RG_CTR_028 MSS027 B']);
  assert.deepEqual(found(per10({ Profession: '21', CiviliteExercice: 'PC', Specialite: 'SCD01' })), ['RG_CTR_028 MSS027 B']);
  assert.deepEqual(found(per10({ Profession: '60', CiviliteExercice: undefined, Specialite: 'SM26' })), ['RG_CTR_028 MSS027 B']);
  assert.deepEqual(found(per10({ IdentifiantPP: `autre@${D}` })), ['RG_CTR_035 MSS034 B']);
  assert.deepEqual(found(per({ TypeIdentifiantPM: undefined, IdentifiantPM: undefined, ServiceRattachement: 'Cardiologie' }), { finessRegistered: false }), [
    'RG_CTR_036 MSS035 B',
  ]);
  assert.deepEqual(found(per10({ CategorieProfessions: '06', TypeIdentifiantPM: undefined, IdentifiantPM: undefined }), { finessRegistered: false }), [
    'RG_CTR_024 MSS023 B',
    'RG_CTR_047 MSS045 W',
  ]);
  assert.deepEqual(found(per10({ Profession: '97', CiviliteExercice: undefined, Specialite: undefined })), ['RG_CTR_026 MSS025 W']);
});

test('EX_PBA_5011, EX_PBA_5220: a FINESS-registered operator attaches a FINESS to every BAL but CABs; SIREN/SIRET reported as RG_CTR_033 (MSS032)', () => {
  assert.deepEqual(found(per({ TypeIdentifiantPM: undefined, IdentifiantPM: undefined })), ['EX_PBA_5011 - B']);
  assert.deepEqual(found(org({ TypeIdentifiantPM: '3', IdentifiantPM: '12345678900011' })), ['EX_PBA_5011 MSS032 B']);
  assert.deepEqual(found(org({ TypeIdentifiantPM: '3', IdentifiantPM: '12345678900011' }), { finessRegistered: false }), []);
  assert.deepEqual(found(cab()), []);
});

test("EX_GBM_3030, RG_CTR_005, RG_CTR_007, RG_CTR_029: a CAB record carries the TypeIdentifiantPP and IdentifiantPP of its Responsable opérationnel (RPPS) and a Responsable, required like a PER's and an ORG's", () => {
  assert.deepEqual(found(cab({ TypeIdentifiantPP: undefined, IdentifiantPP: undefined, Responsable: undefined })), [
    'RG_CTR_005 MSS005 B',
    'RG_CTR_007 MSS007 B',
    'RG_CTR_029 MSS028 B',
  ]);
  assert.deepEqual(found(cab({ IdentifiantPP: undefined })), ['RG_CTR_007 MSS007 B']);
  // EX_GBM_3030: "au numéro RPPS du Responsable opérationnel": type 8, the responsible co-holder's number.
  assert.deepEqual(found(cab({ TypeIdentifiantPP: '0', IdentifiantPP: '131234567' })), ['EX_GBM_3030 - B']);
  assert.deepEqual(found(cab({ IdentifiantPP: '10000000999' })), ['EX_GBM_3030 - B']);
});

test('EX_GBM_3030: a CAB has at most 20 co-holders and exactly one responsible, identified by an RPPS (RG_CTR_106, 141)', () => {
  const many = Array.from({ length: 21 }, (_, i) => ({
    TypeIdentifiantPP: '8',
    IdentifiantPP: String(10000000200 + i),
    NomExercice: 'N',
    PrenomExercice: 'P',
    EstResponsable: i === 0 ? 'O' : 'N',
  }));
  assert.deepEqual(found(cab({ IdentifiantPP: '10000000200', coHolders: many })), ['EX_GBM_3030 - B']);
  const two = cab().coHolders?.map((c) => ({ ...c, EstResponsable: 'O' }));
  assert.deepEqual(found(cab({ coHolders: two })), ['RG_CTR_106 - B']);
  const adeliResp = cab().coHolders?.map((c, i) => ({ ...c, EstResponsable: i === 1 ? 'O' : 'N' }));
  assert.deepEqual(found(cab({ coHolders: adeliResp })), ['EX_GBM_3030 - B']);
  assert.deepEqual(
    found(
      cab({ IdentifiantPP: '42', coHolders: [{ TypeIdentifiantPP: '8', IdentifiantPP: '42', NomExercice: 'N', PrenomExercice: 'P', EstResponsable: 'O' }] }),
    ),
    ['RG_CTR_141 - B'],
  );
});

test('RG_CTR_044, EX_PBA_5030: an address twice in the file (across domains too) is blocking', () => {
  const v = validateFeed([{ domain: D, records: [per(), org(), per()] }], CTX);
  assert.deepEqual(
    v.anomalies.map((a) => `${a.rule} ${a.code}`),
    ['RG_CTR_044 MSS042'],
  );
  assert.equal(v.blocking, 1);
  assert.equal(v.rejected, 1);
});

test('RG_CTR_000, EX_WSA_5010: with the local liste blanche, a domain not listed (MSS000) or not listed for our DN (WSMSS06) is blocking', () => {
  const whitelist = { hasDomain: (d: string) => d !== 'absent.mssante.fr', allows: (_dn: string, d: string) => d === D };
  const v = validateFeed(
    [
      { domain: D, records: [per()] },
      { domain: 'absent.mssante.fr', records: [] },
      { domain: 'autre.mssante.fr', records: [] },
    ],
    { ...CTX, whitelist, dn: 'CN=x' },
  );
  assert.deepEqual(
    v.anomalies.map((a) => `${a.domain} ${a.rule} ${a.code}`),
    ['absent.mssante.fr RG_CTR_000 MSS000', 'autre.mssante.fr EX_WSA_5010 WSMSS06'],
  );
  assert.equal(v.warnings, 0);
});

test("anomalies name the domain, the BAL, the field, the rule and the Annuaire's message", () => {
  const [a] = validateRecord(D, per({ NomExercice: undefined }), CTX).anomalies;
  assert.deepEqual(
    { ...a },
    {
      domain: D,
      bal: `jean.dupont@${D}`,
      typeBal: 'PER',
      field: 'NomExercice',
      rule: 'RG_CTR_019',
      code: 'MSS018',
      criticality: 'Bloquante',
      message: "Le nom d'exercice est obligatoire pour tout professionnel de santé avec ou sans identifiant national",
      detail: 'NomExercice is missing',
    },
  );
});
