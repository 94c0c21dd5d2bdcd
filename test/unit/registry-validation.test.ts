import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isMssError } from '../../src/errors.js';
import { loadRegistryText } from '../../src/registry/load.js';
import type { RegistryProblem } from '../../src/registry/rules.js';
import { AUTOREPLY, DOMAIN, LOAD, cab, org, per, registryYaml } from '../helpers/registry.js';

const FILE = '/etc/mss-sidecar/registry.yaml';

function problems(mailboxes: Array<Record<string, unknown>>, opts = LOAD, text?: string): RegistryProblem[] {
  try {
    const r = loadRegistryText(FILE, text ?? registryYaml(mailboxes), opts);
    return [...r.registry.warnings];
  } catch (err) {
    if (isMssError(err, 'REGISTRY_INVALID')) return err.details.problems as RegistryProblem[];
    throw err;
  }
}

function expectError(mailboxes: Array<Record<string, unknown>>, rule: string, code: string, message: RegExp, opts = LOAD): RegistryProblem {
  const found = problems(mailboxes, opts);
  const p = found.find((x) => x.rule === rule && x.code === code && x.severity === 'error');
  assert.ok(p, `expected ${rule} ${code}, got ${JSON.stringify(found, null, 1)}`);
  assert.match(p.message, message);
  return p;
}

function expectValid(mailboxes: Array<Record<string, unknown>>, opts = LOAD): RegistryProblem[] {
  const found = problems(mailboxes, opts);
  assert.deepEqual(
    found.filter((p) => p.severity === 'error'),
    [],
  );
  return found;
}

test('a valid registry loads; every error message names file, line, key, mailbox and requirement', () => {
  expectValid([per('jean.dupont', 'Jean', 'Dupont', '810000000101')]);
  try {
    loadRegistryText(FILE, registryYaml([per('jean.dupont', 'Jean', 'Dupont', '810000000101', { phone: 'x'.repeat(21) })]), LOAD);
    assert.fail('should refuse');
  } catch (err) {
    assert.ok(isMssError(err, 'REGISTRY_INVALID'));
    assert.match(
      err.message,
      /\/etc\/mss-sidecar\/registry\.yaml:\d+: mailboxes\[1\]\.phone \(jean\.dupont@ch-test\.mssante\.fr\): Annuaire Telephone \[REGISTRY_FIELD_LENGTH\]: at most 20 characters/,
    );
    assert.match(err.message, /nothing was changed/);
  }
});

test('EX_GBM_4300: only letters, digits, ".", "_", "-", "+" and RFC 5321 lengths', () => {
  expectError([per('jean,dupont', 'Jean', 'Dupont', '810000000101', { created: '2024-01-01' })], 'EX_GBM_4300', 'REGISTRY_ADDRESS', /only letters, digits/);
  expectError([per('jean..dupont', 'Jean', 'Dupont', '810000000101', { created: '2024-01-01' })], 'EX_GBM_4300', 'REGISTRY_ADDRESS', /double dot/);
  expectError([per('jéan.dupont', 'Jean', 'Dupont', '810000000101', { created: '2024-01-01' })], 'EX_GBM_4300', 'REGISTRY_ADDRESS', /only letters/);
  expectError(
    [per('a'.repeat(65), 'Jean', 'Dupont', '810000000101', { created: '2024-01-01' })],
    'EX_GBM_4300',
    'REGISTRY_ADDRESS',
    /65 characters; RFC 5321 allows at most 64/,
  );
  expectValid([per('jean_dupont+cardio-2', 'Jean', 'Dupont', '810000000101', { created: '2024-01-01' })]);
  const p = problems([per('jean.dupont', 'Jean', 'Dupont', '810000000101', { address: 'jean.dupont@other.mssante.fr' })]);
  assert.ok(p.some((x) => x.code === 'REGISTRY_FOREIGN_DOMAIN' && /not one of the managed domains/.test(x.message)));
});

test('EX_GBM_4311: PER created from 2025-01-19 are prenom.nom (accents and spaces normalised); older ones keep their names', () => {
  expectError(
    [per('jdupont', 'Jean', 'Dupont', '810000000101', { created: '2025-01-19' })],
    'EX_GBM_4311',
    'REGISTRY_PER_NAMING',
    /expected jean\.dupont@ch-test\.mssante\.fr/,
  );
  expectValid([per('jdupont', 'Jean', 'Dupont', '810000000101', { created: '2025-01-18' })]);
  expectValid([per('eloise.le-gall', 'Éloïse', 'Le Gall', '810000000101')]);
  expectValid([per('eloise.legall', 'Éloïse', 'Le Gall', '810000000101')]);
  expectValid([per('jean-pierre.d-arc', 'Jean-Pierre', "D'Arc", '810000000101')]);
});

test('EX_GBM_4311: a suffix after prenom.nom only for a homonym on the domain, declared or found', () => {
  expectError([per('jean.dupont2', 'Jean', 'Dupont', '810000000101')], 'EX_GBM_4311', 'REGISTRY_PER_NAMING', /only for a homonym/);
  expectValid([per('jean.dupont2', 'Jean', 'Dupont', '810000000101', { homonym: true })]);
  expectValid([per('jean.dupont', 'Jean', 'Dupont', '810000000101'), per('jean.dupont.cardio', 'Jean', 'Dupont', '810000000102')]);
  expectError([per('jean.dupont.x.y.z', 'Jean', 'Dupont', '810000000101', { homonym: true })], 'EX_GBM_4311', 'REGISTRY_PER_NAMING', /suffix/);
});

test('EX_GBM_4000: test BALs say "test", carry no personal name, and are at most 25', () => {
  expectError([org('interop', { test: true })], 'EX_GBM_4000', 'REGISTRY_TEST_NAMING', /must contain "test"/);
  expectError(
    [org('test.roux', { test: true, coHolders: [{ idNat: '810000000104', lastName: 'Roux', firstName: 'Anne' }] })],
    'EX_GBM_4000',
    'REGISTRY_TEST_NAMING',
    /name of one of its users/,
  );
  expectValid([org('test.interop', { test: true })]);
  const many = Array.from({ length: 25 }, (_, i) => org(`test.${i}`, { test: true }));
  expectError(many, 'EX_GBM_4000', 'REGISTRY_TEST_LIMIT', /26 test BALs; at most 25/);
  expectValid(many.slice(0, 24));
});

test('EX_GBM_4010: a non-test BAL whose name says "test" is a warning', () => {
  const w = expectValid([org('contestations')]);
  assert.ok(w.some((p) => p.rule === 'EX_GBM_4010' && p.severity === 'warning'));
});

test('EX_GBM_4020: each managed domain has its reponse.automatique-test BAL, which is a test BAL', () => {
  const text = registryYaml([]).replace(/ {2}- address: reponse[\s\S]*?description: Réponse automatique\n/, '');
  const p = problems([], LOAD, text);
  assert.ok(
    p.some((x) => x.rule === 'EX_GBM_4020' && /no active reponse\.automatique-test@ch-test\.mssante\.fr/.test(x.message)),
    JSON.stringify(p),
  );
  const two = problems([], { ...LOAD, domains: [DOMAIN, 'autre.mssante.fr'] });
  assert.ok(two.some((x) => x.rule === 'EX_GBM_4020' && /autre\.mssante\.fr/.test(x.message)));
  const notTest = problems([], LOAD, registryYaml([]).replace('test: true', 'test: false'));
  assert.ok(notTest.some((x) => x.rule === 'EX_GBM_4020' && /set test: true/.test(x.message)));
});

test('EX_GBM_3020: an ORG BAL needs its structure; EX_GBM_4220: ORG and APP need a responsible', () => {
  expectError([org('secretariat', { structure: undefined })], 'EX_GBM_3020', 'REGISTRY_STRUCTURE', /needs its structure/);
  expectError([org('secretariat', { structure: { type: 'FINESS', id: '13000000' } })], 'EX_GBM_3020', 'REGISTRY_STRUCTURE', /not a FINESS number/);
  expectError([org('secretariat', { responsible: undefined })], 'EX_GBM_4220', 'REGISTRY_RESPONSIBLE', /Responsable opérationnel/);
  expectValid([org('secretariat', { structure: { type: 'FINESS', id: '2A0000001' } })]);
});

test('EX_GBM_3030: a CAB has exactly one responsible co-holder with an RPPS, at most 20 co-holders, no FINESS', () => {
  const co = (i: number, responsible = false) => ({ idNat: `8100000002${String(i).padStart(2, '0')}`, lastName: `Nom${i}`, firstName: `P${i}`, responsible });
  expectValid([cab('maison-sante', [co(1, true), co(2)])]);
  expectError([cab('maison-sante', [co(1), co(2)])], 'EX_GBM_3030', 'REGISTRY_CAB', /exactly one co-holder with responsible: true \(found 0\)/);
  expectError([cab('maison-sante', [co(1, true), co(2, true)])], 'EX_GBM_3030', 'REGISTRY_CAB', /found 2/);
  expectError([cab('maison-sante', [{ idNat: '0751234567', lastName: 'A', firstName: 'B', responsible: true }])], 'EX_GBM_3030', 'REGISTRY_CAB', /RPPS/);
  expectValid([
    cab(
      'maison-sante',
      Array.from({ length: 20 }, (_, i) => co(i, i === 0)),
    ),
  ]);
  expectError(
    [
      cab(
        'maison-sante',
        Array.from({ length: 21 }, (_, i) => co(i, i === 0)),
      ),
    ],
    'EX_GBM_3030',
    'REGISTRY_CAB',
    /21 co-holders; at most 20/,
  );
  expectError([cab('maison-sante', [co(1, true)], { structure: { type: 'FINESS', id: '130000001' } })], 'EX_GBM_3030', 'REGISTRY_CAB', /uses type ORG/);
});

test('EX_PBA_5011 EX_PBA_5220: an operator registered in FINESS attaches a FINESS to every published BAL; not SIREN/SIRET; test BALs exempt', () => {
  expectError([per('jean.dupont', 'Jean', 'Dupont', '810000000101', { structure: undefined })], 'EX_PBA_5011', 'REGISTRY_FINESS', /FINESS géographique/);
  expectError([org('dpi', { type: 'APP', structure: { type: 'SIRET', id: '12345678900012' } })], 'EX_PBA_5011', 'REGISTRY_FINESS', /not a SIRET/);
  expectValid([per('jean.dupont', 'Jean', 'Dupont', '810000000101', { structure: undefined })], { ...LOAD, finessRegistered: false });
  expectValid([org('dpi', { type: 'APP', structure: { type: 'SIRET', id: '12345678900012' } })], { ...LOAD, finessRegistered: false });
  expectValid([org('test.dpi', { test: true, type: 'APP', structure: { type: 'SIRET', id: '12345678900012' } })]);
  expectValid([org('secretariat', { structure: { type: 'FINESS', id: '130000002', mutualised: true } })]);
});

test('EX_PBA_5011: with operator.finessJuridique, a BAL on a FINESS juridique must be mutualised, and mutualised takes only a FINESS juridique (géographique vs juridique is checked, not only flagged)', () => {
  const ej = { ...LOAD, finessJuridique: ['130000009'] };
  expectError(
    [org('secretariat', { structure: { type: 'FINESS', id: '130000009' } })],
    'EX_PBA_5011',
    'REGISTRY_FINESS',
    /130000009 is a FINESS juridique/,
    ej,
  );
  expectError(
    [org('secretariat', { structure: { type: 'FINESS', id: '130000001', mutualised: true } })],
    'EX_PBA_5011',
    'REGISTRY_FINESS',
    /130000001 is not one of operator\.finessJuridique/,
    ej,
  );
  expectValid([org('secretariat', { structure: { type: 'FINESS', id: '130000009', mutualised: true } }), org('cardio')], ej);
  // Without the list the two kinds cannot be told apart: not checked.
  expectValid([org('secretariat', { structure: { type: 'FINESS', id: '130000009' } })]);
});

test('EX_PBA_5030: no distribution lists, no aliases, one address per mailbox (case-insensitive)', () => {
  expectError([org('tous-medecins', { members: ['a@b.fr', 'c@d.fr'] })], 'EX_PBA_5030', 'REGISTRY_DISTRIBUTION_LIST', /distribution list/);
  expectError([org('secretariat', { aliases: ['secr@x'] })], 'EX_PBA_5030', 'REGISTRY_DISTRIBUTION_LIST', /one physical mailbox/);
  const p = expectError(
    [per('jean.dupont', 'Jean', 'Dupont', '810000000101'), per('Jean.Dupont', 'Jean', 'Dupont', '810000000102')],
    'EX_PBA_5030',
    'REGISTRY_DUPLICATE_ADDRESS',
    /already mailbox #1/,
  );
  assert.equal(p.index, 2);
  assert.ok(p.line && p.line > 1);
});

test("EX_GBM_4310: a person's name in an ORG/APP name is a warning; a structure named after a doctor is fine", () => {
  const w = expectValid([per('jean.dupont', 'Jean', 'Dupont', '810000000101'), org('dupont.secretariat')]);
  assert.ok(w.some((p) => p.rule === 'EX_GBM_4310' && p.bal === `dupont.secretariat@${DOMAIN}` && p.severity === 'warning'));
  const ok = expectValid([per('jean.dupont', 'Jean', 'Dupont', '810000000101'), org('cabinet-dr-dupont')]);
  assert.ok(!ok.some((p) => p.rule === 'EX_GBM_4310'));
});

test('EX_GBM_4310: a person\'s name in the description or service of an ORG/APP BAL is a warning too ("décrire … avec des informations nominatives"); after a title it is fine', () => {
  const w = expectValid([
    per('jean.dupont', 'Jean', 'Dupont', '810000000101'),
    org('secretariat', { description: 'Boîte de Jean Dupont', service: 'Service de M. Dupont' }),
  ]);
  const hits = w.filter((p) => p.rule === 'EX_GBM_4310' && p.bal === `secretariat@${DOMAIN}`);
  assert.deepEqual(
    hits.map((p) => [p.path.join('.'), p.severity]),
    [
      ['description', 'warning'],
      ['service', 'warning'],
    ],
  );
  const ok = expectValid([
    per('jean.dupont', 'Jean', 'Dupont', '810000000101'),
    org('secretariat', { description: 'Secrétariat du Dr Dupont', service: 'Cardiologie' }),
  ]);
  assert.ok(!ok.some((p) => p.rule === 'EX_GBM_4310'));
});

test('EX_GBM_5411: APP BALs have no delegates; a delegate acts for the holder/responsible/co-holder, never for another delegate', () => {
  expectError(
    [org('dpi', { type: 'APP', delegates: [{ idNat: '810000000555', for: '810000000900' }] })],
    'EX_GBM_5411',
    'REGISTRY_DELEGATION',
    /applicative BALs have no delegates/,
  );
  expectError(
    [
      per('jean.dupont', 'Jean', 'Dupont', '810000000101', {
        delegates: [
          { idNat: '810000000102', for: '810000000101' },
          { idNat: '810000000103', for: '810000000102' },
        ],
      }),
    ],
    'EX_GBM_5411',
    'REGISTRY_DELEGATION',
    /another delegate \(delegates cannot delegate\)/,
  );
  expectError(
    [per('jean.dupont', 'Jean', 'Dupont', '810000000101', { delegates: [{ idNat: '810000000102', for: '810000000101', grantedBy: '810000000777' }] })],
    'EX_GBM_5411',
    'REGISTRY_DELEGATION',
    /cannot grant/,
  );
  expectError(
    [per('jean.dupont', 'Jean', 'Dupont', '810000000101', { coHolders: [{ idNat: '810000000102', lastName: 'A', firstName: 'B' }] })],
    'EX_GBM_5410',
    'REGISTRY_COHOLDERS',
    /personal BAL has one holder/,
  );
});

test('EX_GBM_4230 EX_GBM_3040: a PER names its holder; other types have none', () => {
  expectError([per('jean.dupont', 'Jean', 'Dupont', '810000000101', { holder: undefined })], 'EX_GBM_4230', 'REGISTRY_HOLDER', /needs its holder/);
  expectError(
    [org('secretariat', { holder: { idNat: '810000000101', lastName: 'Dupont', firstName: 'Jean' } })],
    'EX_GBM_3040',
    'REGISTRY_SCHEMA',
    /has no personal holder/,
  );
});

test('a PER without RPPS/ADELI (TypeIdentifiantPP 10) carries profession, categorie 01, civilite and a structure', () => {
  const local = { idNat: 'ldap:jdoe', lastName: 'Doe', firstName: 'John' };
  const p = problems([per('john.doe', 'John', 'Doe', 'x', { holder: local })]);
  assert.ok(p.some((x) => x.rule === 'Annuaire Tableau 15' && /profession/.test(x.message)));
  assert.ok(p.some((x) => x.rule === 'Annuaire RG_CTR_024'));
  expectError(
    [per('john.doe', 'John', 'Doe', 'x', { holder: { ...local, profession: '10', categorie: '01', civilite: 'PC' } })],
    'Annuaire RG_CTR_018',
    'REGISTRY_HOLDER',
    /does not fit profession 10/,
  );
  expectValid([per('john.doe', 'John', 'Doe', 'x', { holder: { ...local, profession: '10', categorie: '01', civilite: 'DR', specialite: 'SM26' } })]);
});

test('EX_GBM_4440: the contact for notices must be outside the Espace de Confiance', () => {
  expectError(
    [per('jean.dupont', 'Jean', 'Dupont', '810000000101', { contact: { email: 'jean@autre.mssante.fr' } })],
    'EX_GBM_4440',
    'REGISTRY_CONTACT',
    /outside the Espace de Confiance/,
  );
  expectValid([per('jean.dupont', 'Jean', 'Dupont', '810000000101', { contact: { email: 'jean@gmail.com' } })]);
});

test('RE_GBM_4430: a suspended BAL records when and why; a deleted one when', () => {
  expectError([org('secretariat', { status: 'suspended' })], 'RE_GBM_4430', 'REGISTRY_STATUS', /suspension\.at and suspension\.reason/);
  expectError([org('secretariat', { status: 'deleted' })], 'EX_GBM_6010', 'REGISTRY_STATUS', /deletion\.at/);
  expectValid([org('secretariat', { status: 'suspended', suspension: { at: '2025-05-01', reason: 'spam' } })]);
});

test('Annuaire field lengths: NomExercice 80, PrenomExercice 50, Description/Responsable/Service 160, IdentifiantPM 32, AdresseBAL 256', () => {
  expectError(
    [
      per('jean.dupont', 'Jean', 'Dupont', '810000000101', {
        holder: { idNat: '810000000101', lastName: 'D'.repeat(81), firstName: 'Jean' },
        created: '2024-01-01',
      }),
    ],
    'Annuaire NomExercice',
    'REGISTRY_FIELD_LENGTH',
    /at most 80/,
  );
  expectError(
    [
      per('jean.dupont', 'Jean', 'Dupont', '810000000101', {
        holder: { idNat: '810000000101', lastName: 'Dupont', firstName: 'J'.repeat(51) },
        created: '2024-01-01',
      }),
    ],
    'Annuaire PrenomExercice',
    'REGISTRY_FIELD_LENGTH',
    /at most 50/,
  );
  expectError([org('secretariat', { description: 'x'.repeat(161) })], 'Annuaire Description', 'REGISTRY_FIELD_LENGTH', /at most 160/);
  expectError([org('secretariat', { responsible: { name: 'x'.repeat(161) } })], 'Annuaire Responsable', 'REGISTRY_FIELD_LENGTH', /at most 160/);
  expectError([org('secretariat', { service: 'x'.repeat(161) })], 'Annuaire ServiceRattachement', 'REGISTRY_FIELD_LENGTH', /at most 160/);
  expectError([org('secretariat', { structure: { type: 'FINESS', id: '1'.repeat(33) } })], 'Annuaire IdentifiantPM', 'REGISTRY_FIELD_LENGTH', /at most 32/);
  const long = `${'a'.repeat(60)}@${'b'.repeat(200)}.${DOMAIN}`;
  expectError([org('x', { address: long })], 'Annuaire AdresseBAL', 'REGISTRY_FIELD_LENGTH', /at most 256 characters \(RFC 5321/);
});

test('bad input: YAML syntax errors and duplicate keys name the line; unquoted identifiers and unknown keys are explained', () => {
  assert.throws(
    () => loadRegistryText(FILE, 'version: 1\nmailboxes:\n  - address: a@b\n    type: PER\n    type: ORG\n', LOAD),
    (e: unknown) => isMssError(e, 'REGISTRY_YAML_INVALID') && /registry\.yaml:5:/.test(e.message),
  );
  assert.throws(
    () => loadRegistryText(FILE, 'version: 1\nmailboxes: [\n', LOAD),
    (e: unknown) => isMssError(e, 'REGISTRY_YAML_INVALID'),
  );
  const text = registryYaml([per('jean.dupont', 'Jean', 'Dupont', '810000000101', { colour: 'blue' })]).replace('"810000000101"', '810000000101');
  try {
    loadRegistryText(FILE, text, LOAD);
    assert.fail('should refuse');
  } catch (err) {
    assert.ok(isMssError(err, 'REGISTRY_INVALID'));
    const lines = text.split('\n');
    const idLine = lines.findIndex((l) => l.includes('idNat: 810000000101')) + 1;
    const colourLine = lines.findIndex((l) => l.includes('colour: blue')) + 1;
    assert.match(
      err.message,
      new RegExp(
        `registry\\.yaml:${idLine}: mailboxes\\[1\\]\\.holder\\.idNat \\(jean\\.dupont@ch-test\\.mssante\\.fr\\): registry schema \\[REGISTRY_SCHEMA\\]: expected a string \\(quote identifiers`,
      ),
    );
    assert.match(err.message, new RegExp(`registry\\.yaml:${colourLine}: mailboxes\\[1\\]\\.colour .*unknown key "colour"`));
  }
  assert.throws(
    () => loadRegistryText(FILE, 'mailboxes: 3\n', LOAD),
    (e: unknown) => isMssError(e, 'REGISTRY_INVALID') && /mailboxes must be a list/.test(e.message),
  );
  assert.throws(
    () => loadRegistryText(FILE, 'version: 2\nmailbox: []\n', LOAD),
    (e: unknown) => isMssError(e, 'REGISTRY_INVALID') && /unknown top-level key "mailbox"/.test(e.message) && /version 2 is not supported/.test(e.message),
  );
  void AUTOREPLY;
});
