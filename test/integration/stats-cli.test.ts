// `mss-sidecar stats validate | upload | report` as an administrator runs them, against the
// sandbox SIPIL on loopback (mutual TLS): exit codes and the ANS's terms in the output.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { zipSync } from 'fflate';
import { stringify } from 'yaml';
import { controlSipil, type SandboxSipilServer } from '../../sandbox/sipil-server.js';
import type { PkiManifest } from '../../sandbox/pki.js';
import { whitelistPaths } from '../../src/whitelist/store.js';
import { runCliAsync } from '../helpers/cli.js';
import { testPki } from '../helpers/pki.js';
import { startSipil } from '../helpers/sipil.js';
import { tmpDir } from '../helpers/tmp.js';
import { signedList } from '../helpers/whitelist.js';

let pki: PkiManifest;
let server: SandboxSipilServer;
let dir: string;
let config: string;
let monthText: string;
const cli = (...args: string[]) => runCliAsync(['--config', config, ...args]);

/** An archive of last month (the server's and the CLI's clock) for our first domain; `broken` adds a 9th field to one line. */
function archive(file: string, broken = false): string {
  const domain = pki.operators[0]?.domains[0] as string;
  const id = monthText.replace('-', '');
  const rows = Array.from(
    { length: 5 },
    (_, i) => `Q${i}${Math.random().toString(36).slice(2)};jean.dupont@${domain};x${i}@ch-voisin.mssante.fr;${monthText}-15 10:00:00;${1000 + i};O;;`,
  );
  if (broken) rows[1] = `${rows[1]};extra`;
  const out = path.join(dir, file);
  fs.writeFileSync(
    out,
    zipSync({ [`${id}_EchangesMSSante_${domain}.csv`]: Buffer.from(`MAIL_ID;EXPEDITEUR;DESTINATAIRE;DATE;TAILLE;INS;CODECDA;NIL\n${rows.join('\n')}\n`) }),
  );
  return out;
}

before(async () => {
  pki = await testPki();
  dir = tmpDir('mss-stats-cli-');
  server = await startSipil(pki, dir);
  const op = pki.operators[0] as PkiManifest['operators'][number];
  const state = path.join(dir, 'state');
  config = path.join(dir, 'config.yaml');
  fs.writeFileSync(path.join(dir, 'registry.yaml'), 'version: 1\nmailboxes: []\n');
  fs.writeFileSync(
    config,
    stringify({
      operator: { name: op.organisation, domains: op.domains, structureId: op.structureId, certificate: op.cert, key: op.key },
      trust: { dir: pki.trustDir, crlDir: pki.crlDir },
      state: { dir: state },
      registry: { file: path.join(dir, 'registry.yaml') },
      stats: { sipil: { postFileUrl: `${server.baseUrl}/postFile`, getReportUrl: `${server.baseUrl}/getReport` } },
    }),
  );
  const wl = whitelistPaths(state);
  fs.mkdirSync(path.dirname(wl.file), { recursive: true });
  fs.writeFileSync(wl.file, signedList(pki));
  const now = new Date();
  const prev = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 15));
  monthText = `${prev.getUTCFullYear()}-${String(prev.getUTCMonth() + 1).padStart(2, '0')}`;
});
after(() => server.stop());

const control = (p: string): Promise<unknown> => controlSipil(server.controlUrl, p);

test('§9.7.4.4 EX_PSU_5830: `stats validate` exits 1 on a blocking error and names the control (n°5, KO, the line); 0 on a clean archive', async () => {
  const bad = await cli('stats', 'validate', archive('bad.zip', true));
  assert.equal(bad.status, 1, bad.stdout + bad.stderr);
  assert.match(bad.stdout, /contrôle 5 Contrôle du nombre de champs: KO/, bad.stdout);
  assert.match(bad.stdout, /found 9\) — lignes 3$/m, 'the line in error (line 3: header + 2)');
  assert.match(bad.stdout, /CodeRetourGlobal 2 /);
  const badJson = await cli('stats', 'validate', path.join(dir, 'bad.zip'), '--json');
  assert.equal(badJson.status, 1);
  const j = JSON.parse(badJson.stdout) as {
    ok: boolean;
    report: { files: Array<{ codeRetour: number; controls: Array<{ code: number; codeRetour: number; errors: Array<{ lines: number[] }> }> }> };
  };
  assert.equal(j.ok, false);
  const c5 = j.report.files[0]?.controls.find((c) => c.code === 5);
  assert.equal(c5?.codeRetour, 1);
  assert.deepEqual(c5?.errors[0]?.lines, [3]);
  const good = await cli('stats', 'validate', archive('good.zip'));
  assert.equal(good.status, 0, good.stdout + good.stderr);
});

test('EX_SSU_5820 §9.7.4.3: `stats report` exits 0 when accepted, 1 when KO, 3 when not ready', async () => {
  const up = await cli('stats', 'upload', '--month', monthText, '--archive', archive('ok.zip'), '--json');
  assert.equal(up.status, 0, up.stdout + up.stderr);
  const okId = (JSON.parse(up.stdout) as { depot: { id: string } }).depot.id;
  const accepted = await cli('stats', 'report', '--month', monthText);
  assert.equal(accepted.status, 0, accepted.stdout + accepted.stderr);
  assert.ok(fs.existsSync(path.join(dir, 'state', 'stats', monthText.replace('-', ''), `REPORT-${okId}.ZIP`)), 'REPORT.ZIP kept next to the month');

  const refused = await cli('stats', 'upload', '--month', monthText, '--archive', archive('ko.zip', true));
  assert.equal(refused.status, 1, 'blocking errors: refused without --force');
  assert.match(refused.stderr + refused.stdout, /STATS_BLOCKING_ERRORS/);
  const forced = await cli('stats', 'upload', '--month', monthText, '--archive', path.join(dir, 'ko.zip'), '--force', '--json');
  assert.equal(forced.status, 0, forced.stdout + forced.stderr);
  const koId = (JSON.parse(forced.stdout) as { depot: { id: string } }).depot.id;
  const ko = await cli('stats', 'report', '--id', koId);
  assert.equal(ko.status, 1, ko.stdout + ko.stderr);
  assert.match(ko.stdout, /KO/);

  await control('/fault?mode=pending');
  try {
    const pending = await cli('stats', 'report', '--id', okId, '--json');
    assert.equal(pending.status, 3, pending.stdout + pending.stderr);
    assert.equal((JSON.parse(pending.stdout) as { verdict: string }).verdict, 'pending');
  } finally {
    await control('/fault?mode=none');
  }
});

test('§9.7.4.2 deposit code 1: `stats upload` exits 3 (TEMPORARY_SIPIL, retry later)', async () => {
  await control('/fault?mode=deposit-error');
  try {
    const r = await cli('stats', 'upload', '--month', monthText, '--archive', archive('t.zip'));
    assert.equal(r.status, 3, r.stdout + r.stderr);
    assert.match(r.stderr + r.stdout, /TEMPORARY_SIPIL/);
  } finally {
    await control('/fault?mode=none');
  }
});
