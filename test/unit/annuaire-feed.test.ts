import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FEED, NS } from '../../src/annuaire/contract.js';
import { buildFeed, withdrawalFeed } from '../../src/annuaire/feed.js';
import { digestFeed, feedBodyChunks, recordXml } from '../../src/annuaire/feed-xml.js';
import type { FeedRecord } from '../../src/annuaire/record.js';
import { loadRegistryText } from '../../src/registry/load.js';
import type { Registry } from '../../src/registry/registry.js';
import type { BalRuntime } from '../../src/registry/runtime.js';
import { parseXml } from '../../src/whitelist/xml.js';
import { DOMAIN, LOAD, cab, org, per, registryYaml } from '../helpers/registry.js';

function registry(mailboxes: Array<Record<string, unknown>>): Registry {
  return loadRegistryText('/tmp/feed-test.yaml', registryYaml(mailboxes), LOAD).registry;
}

function records(reg: Registry, runtime: Record<string, BalRuntime> = {}): Map<string, FeedRecord> {
  const feed = buildFeed(
    reg,
    reg.all().map((b) => runtime[b.address] ?? {}),
    [DOMAIN],
  );
  return new Map((feed.domains[0]?.records ?? []).map((r) => [r.AdresseBAL as string, r]));
}

const A = (local: string): string => `${local}@${DOMAIN}`;

test('EX_PBA_5230, EX_PBA_5140, EX_PBA_5010: test, suspended and deleted mailboxes are left out, each with its rule; the rest is published', () => {
  const reg = registry([
    per('jean.dupont', 'Jean', 'DUPONT', '810000000101'),
    per('marie.curie', 'Marie', 'CURIE', '810000000102', { status: 'suspended', suspension: { at: '2025-05-01', reason: 'congé' } }),
    per('paul.martin', 'Paul', 'MARTIN', '810000000103', { status: 'deleted', deletion: { at: '2025-05-01' } }),
    org('test.interop', { test: true }),
  ]);
  const feed = buildFeed(
    reg,
    reg.all().map(() => ({})),
    [DOMAIN],
  );
  assert.deepEqual(
    feed.domains.map((d) => d.records.map((r) => r.AdresseBAL)),
    [[A('jean.dupont')]],
  );
  assert.deepEqual(
    feed.excluded.map((e) => [e.bal, e.reason, e.rule]),
    [
      [A('reponse.automatique-test'), 'test', 'EX_PBA_5230'],
      [A('marie.curie'), 'suspended', 'EX_PBA_5140'],
      [A('paul.martin'), 'deleted', 'EX_PBA_5140'],
      [A('test.interop'), 'test', 'EX_PBA_5230'],
    ],
  );
});

test('EX_PBA_5010: usager mailboxes (patient.mssante.fr) are never published', () => {
  const domain = 'patient.mssante.fr';
  const reg = loadRegistryText(
    '/tmp/u.yaml',
    `version: 1\nmailboxes:\n  - { address: reponse.automatique-test@${domain}, type: APP, created: 2024-01-01, test: true, structure: { type: FINESS, id: "130000001" }, responsible: { name: SI }, description: Auto }\n  - { address: 123456789012345@${domain}, type: APP, created: 2024-01-01, structure: { type: FINESS, id: "130000001" }, responsible: { name: SI }, description: Usager }\n`,
    { domains: [domain], finessRegistered: true },
  ).registry;
  const feed = buildFeed(
    reg,
    reg.all().map(() => ({})),
    [domain],
  );
  assert.equal(feed.domains[0]?.records.length, 0);
  assert.ok(feed.excluded.some((e) => e.bal === `123456789012345@${domain}` && e.reason === 'usager' && e.rule === 'EX_PBA_5010'));
});

test("EX_PBA_5040, EX_PBA_5050: ListeRouge is O for the user's choice and for a depublication for inactivity (EX_GBM_4440), N otherwise", () => {
  const reg = registry([
    per('jean.dupont', 'Jean', 'DUPONT', '810000000101'),
    per('marie.curie', 'Marie', 'CURIE', '810000000102', { listeRouge: true }),
    per('paul.martin', 'Paul', 'MARTIN', '810000000103'),
  ]);
  const r = records(reg, { [A('paul.martin')]: { depublishedAt: new Date('2025-05-01T00:00:00Z') } });
  assert.equal(r.get(A('jean.dupont'))?.ListeRouge, 'N');
  assert.equal(r.get(A('marie.curie'))?.ListeRouge, 'O');
  assert.equal(r.get(A('paul.martin'))?.ListeRouge, 'O');
});

test('EX_PBA_5090: IdentifiantPP is the RPPS (type 8) or ADELI (type 0) without the IdNat prefix; without one, type 10 and the BAL address (Tableau 15)', () => {
  const reg = registry([
    per('jean.dupont', 'Jean', 'DUPONT', '810000000101', { service: 'Cardiologie', phone: '01 02 03 04 05' }),
    per('marie.curie', 'Marie', 'CURIE', '0751234567'),
    per('amina.diallo', 'Amina', 'DIALLO', 'amina.local', {
      holder: { idNat: 'amina.local', lastName: 'DIALLO', firstName: 'Amina', civilite: 'DR', profession: '10', categorie: '01', specialite: 'SM26' },
    }),
  ]);
  const r = records(reg);
  assert.deepEqual(r.get(A('jean.dupont')), {
    TypeBAL: 'PER',
    AdresseBAL: A('jean.dupont'),
    TypeIdentifiantPP: '8',
    IdentifiantPP: '10000000101',
    TypeIdentifiantPM: '1',
    IdentifiantPM: '130000001',
    ServiceRattachement: 'Cardiologie',
    NomExercice: 'DUPONT',
    PrenomExercice: 'Jean',
    Telephone: '01 02 03 04 05',
    ListeRouge: 'N',
  });
  assert.deepEqual([r.get(A('marie.curie'))?.TypeIdentifiantPP, r.get(A('marie.curie'))?.IdentifiantPP], ['0', '751234567']);
  assert.deepEqual(r.get(A('amina.diallo')), {
    TypeBAL: 'PER',
    AdresseBAL: A('amina.diallo'),
    TypeIdentifiantPP: '10',
    IdentifiantPP: A('amina.diallo'),
    TypeIdentifiantPM: '1',
    IdentifiantPM: '130000001',
    CiviliteExercice: 'DR',
    NomExercice: 'DIALLO',
    PrenomExercice: 'Amina',
    CategorieProfessions: '01',
    Profession: '10',
    Specialite: 'SM26',
    ListeRouge: 'N',
  });
});

test('EX_GBM_3020, EX_GBM_5413: ORG/APP carry the structure, Responsable and Description; co-holders of an ORG and delegates are never declared', () => {
  const reg = registry([
    org('secretariat', {
      coHolders: [{ idNat: '810000000104', lastName: 'ROUX', firstName: 'Anne' }],
      delegates: [{ idNat: '810000000105', for: '810000000104', grantedBy: '810000000104' }],
    }),
  ]);
  assert.deepEqual(records(reg).get(A('secretariat')), {
    TypeBAL: 'ORG',
    AdresseBAL: A('secretariat'),
    TypeIdentifiantPM: '1',
    IdentifiantPM: '130000001',
    Responsable: 'Dr Chef de service',
    Description: 'Secrétariat',
    ListeRouge: 'N',
  });
});

test("EX_GBM_3030, EX_1.1.1_5010: a CAB is attached to its Responsable opérationnel's RPPS (TypeIdentifiantPP, IdentifiantPP, Responsable: RG_CTR_005/007/029) and declares its co-holders with exactly one responsible (EstResponsable O), no structure", () => {
  const reg = registry([
    cab('cabinet-lebrun', [
      { idNat: '810000000106', lastName: 'LEBRUN', firstName: 'Eva', responsible: true },
      { idNat: '0131234567', lastName: 'NOIR', firstName: 'Léo' },
    ]),
  ]);
  assert.deepEqual(records(reg).get(A('cabinet-lebrun')), {
    TypeBAL: 'CAB',
    AdresseBAL: A('cabinet-lebrun'),
    TypeIdentifiantPP: '8',
    IdentifiantPP: '10000000106',
    Responsable: 'Eva LEBRUN',
    Description: 'Cabinet de groupe',
    ListeRouge: 'N',
    coHolders: [
      { TypeIdentifiantPP: '8', IdentifiantPP: '10000000106', NomExercice: 'LEBRUN', PrenomExercice: 'Eva', EstResponsable: 'O' },
      { TypeIdentifiantPP: '0', IdentifiantPP: '131234567', NomExercice: 'NOIR', PrenomExercice: 'Léo', EstResponsable: 'N' },
    ],
  });
});

test('EX_WSA_5030: the body is one MESSAGE per domain (DOMAINE, COMPTESMSS) in the feed namespace, fields in the order of the tables, text escaped', () => {
  const reg = registry([per('jean.dupont', 'Jean', 'DUPONT', '810000000101', { service: 'Cardio & <Rythmo>' })]);
  const feed = buildFeed(
    reg,
    reg.all().map(() => ({})),
    [DOMAIN, 'autre.mssante.fr'],
  );
  const xml = `<alim:${FEED.operation} xmlns:alim="${NS.feed}">${[...feedBodyChunks(feed.domains)].join('')}</alim:${FEED.operation}>`;
  const doc = parseXml(xml, 'feed');
  const messages = doc.getElementsByTagNameNS(NS.feed, FEED.message);
  assert.equal(messages.length, 2);
  assert.equal(doc.getElementsByTagNameNS(NS.feed, FEED.domaineName)[1]?.textContent, 'autre.mssante.fr');
  const compte = doc.getElementsByTagNameNS(NS.feed, FEED.compte)[0];
  const names: string[] = [];
  for (let n = compte?.firstChild; n; n = n.nextSibling) names.push((n as unknown as { localName: string }).localName);
  assert.deepEqual(names, [
    'TypeBAL',
    'AdresseBAL',
    'TypeIdentifiantPP',
    'IdentifiantPP',
    'TypeIdentifiantPM',
    'IdentifiantPM',
    'ServiceRattachement',
    'NomExercice',
    'PrenomExercice',
    'ListeRouge',
  ]);
  assert.equal(doc.getElementsByTagNameNS(NS.feed, 'ServiceRattachement')[0]?.textContent, 'Cardio & <Rythmo>');
  assert.match(
    recordXml({
      TypeBAL: 'CAB',
      AdresseBAL: 'x@y.fr',
      TypeIdentifiantPP: '8',
      IdentifiantPP: '1',
      Responsable: 'R',
      ListeRouge: 'N',
      Description: 'd',
      coHolders: [{ TypeIdentifiantPP: '8', IdentifiantPP: '1', NomExercice: 'N', PrenomExercice: 'P', EstResponsable: 'O' }],
    }),
    /<alim:AdresseBAL>x@y\.fr<\/alim:AdresseBAL><alim:TypeIdentifiantPP>8<\/alim:TypeIdentifiantPP><alim:IdentifiantPP>1<\/alim:IdentifiantPP><alim:Responsable>R<\/alim:Responsable><alim:ListeRouge>N<\/alim:ListeRouge><alim:Description>d<\/alim:Description><alim:ListeCotitulaires><alim:Cotulaire><alim:TypeIdentifiantPP>8/,
  );
});

test('RE_1.1.1_5020: the feed digest is deterministic and changes when one field of one mailbox changes', () => {
  const a = registry([per('jean.dupont', 'Jean', 'DUPONT', '810000000101')]);
  const b = registry([per('jean.dupont', 'Jean', 'DUPONT', '810000000101', { phone: '01 02 03 04 05' })]);
  const d = (reg: Registry) =>
    digestFeed(
      buildFeed(
        reg,
        reg.all().map(() => ({})),
        [DOMAIN],
      ).domains,
    );
  assert.equal(d(a).sha256, d(a).sha256);
  assert.notEqual(d(a).sha256, d(b).sha256);
  assert.equal(d(a).records, 1);
});

test("EX_GBM_6020: a withdrawal is the domain's message with no mailbox", () => {
  const f = withdrawalFeed('Labo.Exemple.mssante.fr');
  assert.deepEqual(f.domains, [{ domain: 'labo.exemple.mssante.fr', records: [] }]);
  assert.match([...feedBodyChunks(f.domains)].join(''), /<alim:COMPTESMSS><\/alim:COMPTESMSS>/);
});
