// A sandbox reuses the test PKI it generated earlier (sandbox/run.ts) only while that PKI would
// still pass its own checks: certificates valid and CRLs current (EX_OPE_5050 for the gates,
// EX_2.2_5050 for the liste blanche's signer, both under crl.requireCurrent).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { x509 } from '../../src/pki/x509-lib.js';
import { CRL_VALIDITY_MS, reusablePki } from '../../sandbox/pki.js';
import { testPki } from '../helpers/pki.js';

const DAY = 86_400_000;

test('EX_OPE_5050 EX_2.2_5050: a sandbox PKI is reused while its certificates are valid and its CRLs current for a day more, regenerated otherwise', () => {
  const now = Date.parse('2026-12-07T12:00:00Z');
  const made = (daysAgo: number, validDays = 365): Parameters<typeof reusablePki>[0] => ({
    generatedAt: new Date(now - daysAgo * DAY).toISOString(),
    operators: [{ notAfter: new Date(now - daysAgo * DAY + validDays * DAY).toISOString() }] as Parameters<typeof reusablePki>[0]['operators'],
  });
  assert.equal(reusablePki(made(0), now), true, 'made today');
  assert.equal(reusablePki(made(5.9), now), true, 'CRLs current for more than a day');
  assert.equal(reusablePki(made(6.1), now), false, 'CRLs current for less than a day: regenerate');
  assert.equal(reusablePki(made(8), now), false, 'CRLs out of date (a week-old sandbox)');
  assert.equal(reusablePki(made(0, 0.5), now), false, 'operator certificates expiring within a day');
  assert.equal(reusablePki({ generatedAt: 'garbage', operators: [] }, now), false, 'an unreadable manifest is not reused');
});

test('EX_OPE_5050: the sandbox CRLs are current until generatedAt + CRL_VALIDITY_MS, the figure reusablePki counts on', async () => {
  const pki = await testPki();
  for (const file of [pki.crls.intermediate, pki.crls.root]) {
    const crl = new x509.X509Crl(fs.readFileSync(file));
    // X.509 times have a one-second precision.
    assert.equal(crl.nextUpdate?.getTime(), Math.floor((Date.parse(pki.generatedAt) + CRL_VALIDITY_MS) / 1000) * 1000, file);
  }
});
