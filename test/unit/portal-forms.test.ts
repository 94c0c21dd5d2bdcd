// The portal's forms are read with the registry's own rules (identifier format, Annuaire
// field lengths, EX_GBM_3030), so that a form accepts what the registry accepts and says
// why in French; the page templates escape whatever the registry holds.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { coHolderAddForm, delegateAddForm, delegateChangeForm, descriptionForm, listeRougeForm, personForm, responsibleForm } from '../../src/portal/forms.js';
import { html } from '../../src/portal/html.js';
import { delegationsPage } from '../../src/portal/pages/delegations.js';
import { capabilitiesOf } from '../../src/portal/roles.js';
import { T } from '../../src/portal/texts.js';
import { Registry } from '../../src/registry/registry.js';
import { balSchema, delegateSchema, personSchema, responsibleSchema } from '../../src/registry/schema.js';
import { DOMAIN, per } from '../helpers/registry.js';

const NAME_MAX = delegateSchema.shape.name.unwrap().maxLength ?? 0;
const DESCRIPTION_MAX = balSchema.shape.description.unwrap().maxLength ?? 0;

test("EX_GBM_5413: the delegate form takes the registry's identifier rule and name length, trims, and reads no other field (a forged requester is ignored)", () => {
  const ok = delegateAddForm({ idNat: ' 810000000401 ', name: ' Claire Fabre ', requestedBy: '810000000999', by: '810000000999', _csrf: 'x' });
  assert.deepEqual(ok, { ok: true, value: { idNat: '810000000401', name: 'Claire Fabre' } });
  assert.deepEqual(delegateAddForm({ idNat: 'sec.cardio@local' }), { ok: true, value: { idNat: 'sec.cardio@local' } }, 'a local directory identifier');
  assert.deepEqual(delegateAddForm({ idNat: 'x y' }), { ok: false, errors: { idNat: T.form.idNat } });
  assert.deepEqual(delegateAddForm({}), { ok: false, errors: { idNat: T.form.required } });
  assert.equal(NAME_MAX, 160);
  assert.deepEqual(delegateAddForm({ idNat: '810000000401', name: 'x'.repeat(NAME_MAX + 1) }), { ok: false, errors: { name: T.form.tooLong(NAME_MAX) } });
  assert.equal(delegateAddForm({ idNat: '810000000401', name: 'x'.repeat(NAME_MAX) }).ok, true);
  assert.deepEqual(
    delegateChangeForm({ idNat: '810000000401', name: '' }),
    { ok: true, value: { idNat: '810000000401', name: '' } },
    'an empty name removes it',
  );
  assert.deepEqual(
    personForm({ idNat: ['810000000401', '810000000402'] }),
    { ok: false, errors: { idNat: T.form.choice } },
    'a repeated field is not its first value',
  );
});

test('the forms accept exactly what the registry schema accepts for the same fields', () => {
  const inputs = ['810000000401', '0751234567', 'sec.cardio@local', 'x y', '', '-lead', 'a'.repeat(128), 'a'.repeat(129), 'ok/é'];
  for (const idNat of inputs) {
    const form = delegateAddForm({ idNat }).ok;
    const entry = { ...per('jean.dupont', 'Jean', 'Dupont', '810000000101'), delegates: [{ idNat, for: '810000000101' }] };
    assert.equal(form, balSchema.safeParse(entry).success, JSON.stringify(idNat));
  }
  for (const lastName of ['DUPONT', '', 'x'.repeat(80), 'x'.repeat(81)]) {
    assert.equal(
      coHolderAddForm({ idNat: '810000000201', lastName, firstName: 'Paul' }, { type: 'ORG' }).ok,
      personSchema.safeParse({ idNat: '810000000201', lastName, firstName: 'Paul' }).success,
      lastName,
    );
  }
  for (const name of ['Dr X, chef de service', '', 'x'.repeat(160), 'x'.repeat(161)]) {
    assert.equal(
      responsibleForm({ idNat: '810000000101', name }, { type: 'ORG' }).ok,
      responsibleSchema.safeParse({ idNat: '810000000101', name }).success,
      name,
    );
  }
});

test('EX_GBM_5410 EX_GBM_3030: a CAB co-holder is identified by RPPS or ADELI, an ORG co-holder may have a local identifier; names take the Annuaire lengths', () => {
  assert.equal(coHolderAddForm({ idNat: '810000000201', lastName: 'MOREAU', firstName: 'Paul' }, { type: 'CAB' }).ok, true);
  assert.equal(coHolderAddForm({ idNat: '0751234567', lastName: 'MOREAU', firstName: 'Paul' }, { type: 'CAB' }).ok, true);
  assert.deepEqual(coHolderAddForm({ idNat: 'interne.42', lastName: 'MOREAU', firstName: 'Paul' }, { type: 'CAB' }), {
    ok: false,
    errors: { idNat: T.form.rppsAdeli },
  });
  assert.equal(coHolderAddForm({ idNat: 'interne.42', lastName: 'MOREAU', firstName: 'Paul' }, { type: 'ORG' }).ok, true);
  assert.deepEqual(coHolderAddForm({ idNat: '810000000201', lastName: 'MOREAU', firstName: 'x'.repeat(51) }, { type: 'CAB' }), {
    ok: false,
    errors: { firstName: T.form.tooLong(50) },
  });
  assert.deepEqual(responsibleForm({ idNat: '810000000202' }, { type: 'CAB' }), { ok: true, value: { idNat: '810000000202' } }, 'a CAB: a co-holder, no text');
  assert.deepEqual(
    responsibleForm({ idNat: '810000000202' }, { type: 'ORG' }),
    { ok: false, errors: { name: T.form.required } },
    'an ORG: the Annuaire text too',
  );
  assert.equal(DESCRIPTION_MAX, 160);
  assert.deepEqual(descriptionForm({ description: 'd'.repeat(DESCRIPTION_MAX + 1) }), { ok: false, errors: { description: T.form.tooLong(DESCRIPTION_MAX) } });
});

test('EX_PBA_5040: the liste rouge form needs an explicit choice, on or off, never a default', () => {
  assert.deepEqual(listeRougeForm({ listeRouge: 'on' }), { ok: true, value: { on: true } });
  assert.deepEqual(listeRougeForm({ listeRouge: 'off' }), { ok: true, value: { on: false } });
  assert.deepEqual(listeRougeForm({}), { ok: false, errors: { listeRouge: T.form.required } });
  assert.deepEqual(listeRougeForm({ listeRouge: 'yes' }), { ok: false, errors: { listeRouge: T.form.choice } });
});

test('pages escape what the registry holds: a delegate name with markup is shown as text', () => {
  const entry = balSchema.parse({
    ...per('jean.dupont', 'Jean', 'Dupont', '810000000101'),
    delegates: [{ idNat: '810000000401', name: '<script>alert(1)</script>"onmouseover="x', for: '810000000101' }],
  });
  const registry = new Registry([entry], { file: 'r.yaml', hash: 'h', domains: [DOMAIN] });
  const bal = registry.get(`jean.dupont@${DOMAIN}`);
  assert.ok(bal);
  const decision = registry.canUse('810000000101', bal.address);
  const out = delegationsPage(
    { title: 't', operatorName: 'CH <b>', csrf: 'c' },
    { bal, decision, caps: capabilitiesOf(decision.role, bal), csrf: 'c', me: '810000000101', timeZone: 'Europe/Paris' },
  );
  assert.ok(!out.includes('<script>'), 'no markup from the registry');
  assert.ok(out.includes('&lt;script&gt;alert(1)&lt;/script&gt;&quot;onmouseover=&quot;x'));
  assert.ok(out.includes('CH &lt;b&gt;'));
  assert.equal(html`<p>${'<a>'}${html`<b>`}</p>`.text, '<p>&lt;a&gt;<b></p>');
});
