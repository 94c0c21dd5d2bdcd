import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadRegistryText } from '../../src/registry/load.js';
import { publicationOf } from '../../src/registry/publication.js';
import { DOMAIN, LOAD, cab, org, per, registryYaml } from '../helpers/registry.js';

const reg = loadRegistryText(
  '/r.yaml',
  registryYaml([
    per('jean.dupont', 'Jean', 'Dupont', '810000000101', { delegates: [{ idNat: '810000000102', for: '810000000101' }] }),
    org('secretariat', {
      responsible: { idNat: '810000000103', name: 'Dr Petit' },
      coHolders: [{ idNat: '810000000101', lastName: 'Dupont', firstName: 'Jean' }],
      delegates: [{ idNat: '810000000102', for: '810000000103' }],
    }),
    org('direction', { responsible: { idNat: '810000000104', name: 'Directeur', accessesContent: false } }),
    cab('maison-sante', [
      { idNat: '810000000201', lastName: 'Leroy', firstName: 'Paul', responsible: true },
      { idNat: '810000000202', lastName: 'Moreau', firstName: 'Lucie' },
    ]),
    org('dpi', { type: 'APP', responsible: { idNat: '810000000105', name: 'DSI' } }),
    per('marie.curie', 'Marie', 'Curie', '810000000301', { status: 'suspended', suspension: { at: '2025-05-01', reason: 'compromise' } }),
    per('test.jean', 'X', 'Y', '810000000101', { test: true, created: '2024-01-01' }),
    per('eve.old', 'Eve', 'Old', '810000000401', { status: 'deleted', deletion: { at: '2025-05-01' }, created: '2024-01-01' }),
  ]),
  LOAD,
).registry;

test('EX_GBM_5414: canUse gives holder, responsible, co-holder and delegate roles, delegates with whom they act for', () => {
  const a = reg.canUse('810000000101', `jean.dupont@${DOMAIN}`);
  assert.deepEqual(
    { allowed: a.allowed, role: a.role, active: a.active, type: a.type, test: a.test },
    { allowed: true, role: 'holder', active: true, type: 'PER', test: false },
  );
  const d = reg.canUse('810000000102', `jean.dupont@${DOMAIN}`);
  assert.equal(d.role, 'delegate');
  assert.equal(d.delegateOf, '810000000101');
  assert.equal(d.allowed, true);
  assert.equal(reg.canUse('810000000103', `secretariat@${DOMAIN}`).role, 'responsible');
  assert.equal(reg.canUse('810000000101', `secretariat@${DOMAIN}`).role, 'co-holder');
  assert.equal(reg.canUse('810000000102', `secretariat@${DOMAIN}`).delegateOf, '810000000103');
  assert.equal(reg.canUse('810000000201', `maison-sante@${DOMAIN}`).role, 'responsible');
  assert.equal(reg.canUse('810000000202', `maison-sante@${DOMAIN}`).role, 'co-holder');
  assert.equal(reg.canUse('810000000101', `JEAN.DUPONT@${DOMAIN.toUpperCase()}`).role, 'holder', 'addresses are case-insensitive');
});

test('EX_GBM_4220: a responsible who does not access the content is refused, as are strangers and unknown BALs', () => {
  assert.deepEqual(reg.canUse('810000000104', `direction@${DOMAIN}`).reason, 'not-authorized');
  const x = reg.canUse('810000000999', `jean.dupont@${DOMAIN}`);
  assert.equal(x.allowed, false);
  assert.equal(x.reason, 'not-authorized');
  assert.equal(x.status, 'active');
  const u = reg.canUse('810000000101', `nobody@${DOMAIN}`);
  assert.deepEqual(
    { allowed: u.allowed, active: u.active, role: u.role, status: u.status, reason: u.reason },
    { allowed: false, active: false, role: undefined, status: undefined, reason: 'unknown-bal' },
  );
});

test('RE_GBM_4420: a suspended or deleted BAL refuses its users but says who they are; test BALs are flagged', () => {
  const s = reg.canUse('810000000301', `marie.curie@${DOMAIN}`);
  assert.deepEqual(
    { allowed: s.allowed, role: s.role, status: s.status, active: s.active, reason: s.reason },
    { allowed: false, role: 'holder', status: 'suspended', active: false, reason: 'suspended' },
  );
  assert.equal(reg.canUse('810000000401', `eve.old@${DOMAIN}`).reason, 'deleted');
  assert.equal(reg.canUse('810000000101', `test.jean@${DOMAIN}`).test, true);
});

test("EX_GBM_5411 EX_LPS_1200: APP BALs are not used with a person's identity; their structure is given for the AUTH-CLI certificate check", () => {
  const a = reg.canUse('810000000105', `dpi@${DOMAIN}`);
  assert.equal(a.allowed, false);
  assert.equal(a.reason, 'application-mailbox');
  assert.deepEqual(reg.appStructure(`dpi@${DOMAIN}`), { type: 'FINESS', typeCode: '1', id: '130000001', idNat: '1130000001' });
  assert.equal(reg.appStructure(`jean.dupont@${DOMAIN}`), undefined);
});

test('lookups for the milter and statistics: by address, our domains, every BAL, the BALs of a person', () => {
  assert.equal(reg.get(`Jean.Dupont@${DOMAIN}`)?.type, 'PER');
  assert.equal(reg.isOurDomain(DOMAIN), true);
  assert.equal(reg.isOurDomain('CH-TEST.mssante.fr'), true);
  assert.equal(reg.isOurDomain('other.mssante.fr'), false);
  assert.equal(reg.all().length, 9);
  assert.equal(reg.get(`eve.old@${DOMAIN}`)?.deletion?.at, '2025-05-01');
  assert.deepEqual(
    reg
      .mailboxesOf('810000000101')
      .map((m) => `${m.bal.localPart}:${m.decision.role}`)
      .sort(),
    ['jean.dupont:holder', 'secretariat:co-holder', 'test.jean:holder'],
  );
  assert.deepEqual(
    reg.suspended().map((b) => [b.address, b.suspension?.reason]),
    [[`marie.curie@${DOMAIN}`, 'compromise']],
  );
});

test('EX_PBA_5140 EX_PBA_5230 EX_PBA_5050: publication excludes test, suspended and deleted BALs; liste rouge says whether the user or inactivity set it', () => {
  const b = (l: string) => reg.get(`${l}@${DOMAIN}`) ?? assert.fail(l);
  assert.deepEqual(publicationOf(b('jean.dupont'), {}), { published: true, listeRouge: false });
  assert.deepEqual(publicationOf(b('jean.dupont'), { depublishedAt: new Date() }), { published: true, listeRouge: true, listeRougeOrigin: 'inactivity' });
  assert.equal(publicationOf(b('test.jean'), {}).published, false);
  assert.equal(publicationOf(b('marie.curie'), {}).published, false);
  assert.equal(publicationOf(b('eve.old'), {}).published, false);
});
