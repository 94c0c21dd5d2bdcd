// EX_PBA_5011 cannot be checked when a FINESS-registered operator leaves
// operator.finessJuridique empty (the registry rules tell an EJ from an ET only through it):
// `config check` and `status` say so with a coded warning, and keep their exit status.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import type { PkiManifest } from '../../sandbox/pki.js';
import { runCliInProcess } from '../helpers/cli-in-process.js';
import { testPki } from '../helpers/pki.js';
import { tmpDir } from '../helpers/tmp.js';

let dir: string;
let pki: PkiManifest;

before(async () => {
  dir = tmpDir('mss-finess-ej-');
  pki = await testPki();
});

/** A configuration whose files are all usable, with `operator` keys added. */
function config(name: string, operatorExtra: string): string {
  const op = pki.operators[0];
  const file = path.join(dir, `${name}.yaml`);
  fs.writeFileSync(
    file,
    `operator: { name: A, domains: [a.mssante.fr], structureId: "1130000001", certificate: ${op?.cert}, key: ${op?.key}${operatorExtra} }
trust: { dir: ${pki.trustDir}, crlDir: ${pki.crlDir} }
state: { dir: ${path.join(dir, `state-${name}`)} }
registry: { file: ${path.join(dir, 'registry.yaml')} }
`,
  );
  return file;
}

const EMPTY =
  /^WARN {2}operator\.finessJuridique +FINESS_JURIDIQUE_EMPTY: EX_PBA_5011 cannot be checked: operator\.finessRegistered is true and operator\.finessJuridique is empty/m;

before(() => fs.writeFileSync(path.join(dir, 'registry.yaml'), 'version: 1\nmailboxes: []\n'));

test('EX_PBA_5011: `config check` warns (FINESS_JURIDIQUE_EMPTY, naming operator.finessJuridique) when a FINESS-registered operator lists no FINESS juridique; the exit status stays that of the check', async () => {
  const check = (file: string, ...extra: string[]) => runCliInProcess(['--config', file, 'config', 'check', '--user', 'root', ...extra]);
  const unset = await check(config('unset', ''));
  assert.equal(unset.status, 0, unset.stdout + unset.stderr);
  assert.match(unset.stdout, EMPTY);
  assert.match(unset.stdout, /configuration .* is valid/);
  const json = await check(config('unset-json', ', finessRegistered: true, finessJuridique: []'), '--json');
  assert.equal(json.status, 0, json.stderr);
  const out = JSON.parse(json.stdout) as { ok: boolean; warnings: Array<{ key: string; code?: string; requirement?: string; detail: string }> };
  assert.equal(out.ok, true);
  const w = out.warnings.find((x) => x.key === 'operator.finessJuridique');
  assert.equal(w?.code, 'FINESS_JURIDIQUE_EMPTY');
  assert.equal(w?.requirement, 'EX_PBA_5011');
  assert.match(w?.detail ?? '', /^EX_PBA_5011 cannot be checked/);
  // Listed, or not registered in FINESS: nothing to say.
  for (const [name, extra] of [
    ['listed', ', finessJuridique: ["130000011"]'],
    ['not-finess', ', finessRegistered: false'],
  ] as const) {
    const r = await check(config(name, extra));
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.doesNotMatch(r.stdout, /operator\.finessJuridique|FINESS_JURIDIQUE_EMPTY/, name);
  }
});

test('EX_PBA_5011: `status` shows the same warning (check operator.finessJuridique, requirement EX_PBA_5011) and keeps its exit status', async () => {
  const status = (file: string, ...extra: string[]) => runCliInProcess(['--config', file, 'status', '--user', 'root', ...extra]);
  const listed = await status(config('status-listed', ', finessJuridique: ["130000011"]'));
  const unset = await status(config('status-unset', ''));
  assert.equal(unset.status, listed.status, unset.stdout + unset.stderr);
  assert.match(unset.stdout, /^WARN {2}operator\.finessJuridique FINESS_JURIDIQUE_EMPTY: EX_PBA_5011 cannot be checked/m);
  assert.doesNotMatch(listed.stdout, /operator\.finessJuridique/);
  const json = await status(config('status-json', ''), '--json');
  const checks = (JSON.parse(json.stdout) as { checks: Array<{ check: string; severity: string; requirement?: string; detail: string }> }).checks;
  const c = checks.find((x) => x.check === 'operator.finessJuridique');
  assert.equal(c?.severity, 'warning');
  assert.equal(c?.requirement, 'EX_PBA_5011');
  assert.match(c?.detail ?? '', /^FINESS_JURIDIQUE_EMPTY: EX_PBA_5011 cannot be checked/);
  const notFiness = await status(config('status-not-finess', ', finessRegistered: false'), '--json');
  assert.ok(!(JSON.parse(notFiness.stdout) as { checks: Array<{ check: string }> }).checks.some((x) => x.check === 'operator.finessJuridique'));
});
