// `config check` opens every file of the configuration as the service user would: a real
// unprivileged user created for this test, since root can open everything.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import { fileKeysOf, filePathKeys } from '../../src/health/config-files.js';
import { parseConfigText } from '../../src/config/load.js';
import { generateTestPki, type PkiManifest } from '../../sandbox/pki.js';
import { runCliInProcess } from '../helpers/cli-in-process.js';
import { tmpDir } from '../helpers/tmp.js';
import { createTestUser, type TestUser } from '../helpers/unix-user.js';

let dir: string;
let pki: PkiManifest;
let user: TestUser;
let cert: string;
let key: string;

function write(overrides: { certificate?: string; key?: string; extra?: string } = {}): string {
  const file = path.join(dir, 'config.yaml');
  fs.writeFileSync(
    file,
    `operator: { name: A, domains: [a.mssante.fr], structureId: "1130000001", certificate: ${overrides.certificate ?? cert}, key: ${overrides.key ?? key} }
trust: { dir: ${pki.trustDir}, crlDir: ${path.join(dir, 'state', 'crl')} }
state: { dir: ${path.join(dir, 'state')} }
registry: { file: ${path.join(dir, 'registry.yaml')} }
${overrides.extra ?? ''}`,
  );
  return file;
}

const check = (file: string, ...extra: string[]) => runCliInProcess(['--config', file, 'config', 'check', '--user', user.name, ...extra]);

before(async () => {
  dir = tmpDir('mss-config-files-');
  pki = await generateTestPki(path.join(dir, 'pki'));
  user = createTestUser();
  // The layout of install.md: certificates world-readable, the key the service user's, 0600.
  const op = pki.operators[0];
  assert.ok(op);
  cert = path.join(dir, 'operator.crt');
  key = path.join(dir, 'operator.key');
  fs.copyFileSync(op.cert, cert);
  fs.copyFileSync(op.key as string, key);
  fs.chmodSync(cert, 0o644);
  fs.chmodSync(key, 0o600);
  fs.chownSync(key, user.uid, user.gid);
  fs.mkdirSync(path.join(dir, 'state'), { mode: 0o750 });
  fs.chownSync(path.join(dir, 'state'), user.uid, user.gid);
  fs.writeFileSync(path.join(dir, 'registry.yaml'), 'version: 1\nmailboxes: []\n', { mode: 0o644 });
  for (const d of [path.join(dir, 'pki'), pki.trustDir]) fs.chmodSync(d, 0o755);
  for (const f of fs.readdirSync(pki.trustDir)) fs.chmodSync(path.join(pki.trustDir, f), 0o644);
});

test('the files of the configuration are found by walking the schema: every filePath key, with its role', async () => {
  const keys = filePathKeys().map((k) => k.join('.'));
  for (const k of [
    'operator.certificate',
    'operator.key',
    'trust.dir',
    'trust.crlDir',
    'state.dir',
    'registry.file',
    'traces.dir',
    'auth.front.certificate',
    'auth.authCli.key',
  ])
    assert.ok(keys.includes(k), k);
  const cfg = parseConfigText(
    `operator: { name: A, domains: [a.mssante.fr], structureId: "1130000001", certificate: /c, key: /k }\ntrust: { dir: /t }\nauth: { psc: { audience: x }, front: { enabled: false } }\n`,
    '/etc/x.yaml',
  );
  const found = fileKeysOf(cfg).map((k) => `${k.key}:${k.role}`);
  assert.ok(
    found.includes('operator.key:key') &&
      found.includes('trust.dir:ca-dir') &&
      found.includes('state.dir:writable-dir') &&
      found.includes('auth.psc.caFile:file'),
    found.join(' '),
  );
  assert.ok(!found.some((k) => k.startsWith('auth.front.')), 'a section turned off is not checked');
});

test('EX_SSI_5100: `config check` passes when the service user can open every file, and says so', async () => {
  const r = await check(write());
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, new RegExp(`OK\\s+operator\\.key\\s+readable by ${user.name}, matches operator\\.certificate`));
  assert.match(r.stdout, /OK\s+operator\.certificate\s+CN=.*chains to trust\.dir/);
  assert.match(r.stdout, new RegExp(`OK\\s+state\\.dir\\s+writable by ${user.name}`));
  assert.match(r.stdout, new RegExp(`is valid, its files usable by ${user.name}`));
});

test('EX_SSI_5100: a root-owned 0600 key the service user cannot read fails `config check` (exit 2) naming operator.key, the user and the owner', async () => {
  const rootKey = path.join(dir, 'root-owned.key');
  fs.copyFileSync(key, rootKey);
  fs.chownSync(rootKey, 0, 0);
  fs.chmodSync(rootKey, 0o600);
  const r = await check(write({ key: rootKey }));
  assert.equal(r.status, 2, r.stdout + r.stderr);
  assert.match(r.stderr, new RegExp(`error CONFIG_FILES: operator\\.key: ${rootKey} is not readable by ${user.name}: EACCES \\(mode 0600, owner root:root\\)`));
  // Root itself could read it: the check really ran as the user.
  assert.equal((await runCliInProcess(['--config', write({ key: rootKey }), 'config', 'check', '--user', 'root'])).status, 0);
});

test('`config check` names the key at fault: a missing certificate, a key of another certificate, a certificate outside trust.dir, an expired one', async () => {
  // A certificate of another PKI (openssl's self-signed one), its key beside it.
  const selfSigned = { cert: path.join(dir, 'other.crt'), key: path.join(dir, 'other.key') };
  const o = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      '/CN=mss.other-pki.invalid',
      '-days',
      '30',
      '-addext',
      'basicConstraints=critical,CA:FALSE',
      '-keyout',
      selfSigned.key,
      '-out',
      selfSigned.cert,
    ],
    { encoding: 'utf8' },
  );
  assert.equal(o.status, 0, o.stderr);
  const cases: Array<[Parameters<typeof write>[0], RegExp]> = [
    [{ certificate: path.join(dir, 'nope.crt') }, /operator\.certificate: \S+nope\.crt is not readable by \S+: ENOENT \(no such file\)/],
    [{ key: pki.authCli[0]?.key as string }, /operator\.key: \S+ is not the private key of operator\.certificate/],
    [{ certificate: selfSigned.cert, key: selfSigned.key }, /operator\.certificate: \S+: .*was not issued by a CA of the trust store/],
    [{ certificate: pki.expired.cert, key: pki.expired.key as string }, /operator\.certificate: \S+: .* expired on /],
  ];
  for (const [overrides, expected] of cases) {
    for (const f of [overrides?.key, overrides?.certificate]) if (f && fs.existsSync(f)) fs.chownSync(f, user.uid, user.gid);
    const r = await check(write(overrides));
    assert.equal(r.status, 2, `${expected}\n${r.stdout}${r.stderr}`);
    assert.match(r.stderr, expected);
  }
  const json = JSON.parse((await check(write({ certificate: selfSigned.cert }), '--json')).stdout);
  assert.equal(json.ok, false);
  assert.deepEqual(
    json.files
      .filter((f: { ok: boolean }) => !f.ok)
      .map((f: { key: string }) => f.key)
      .sort(),
    ['operator.certificate', 'operator.key'].sort(),
  );
});

test('`config check --json` prints file modes in octal, as people write them', async () => {
  const r = await check(write({ extra: `milter: { listen: "unix:${path.join(dir, 'state', 'milter.sock')}", socketMode: "0660" }\n` }), '--json');
  assert.equal(r.status, 0, r.stderr);
  const json = JSON.parse(r.stdout);
  assert.equal(json.config.milter.socketMode, '0660');
  assert.equal(json.config.operator.domains[0], 'a.mssante.fr');
});
