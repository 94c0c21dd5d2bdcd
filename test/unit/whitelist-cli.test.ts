// The commands as a user runs them: sandbox pki, sandbox sign-whitelist, whitelist verify
// and whitelist lookup on a list in the published shape.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import { generateRsaKey, issueCertificate, issuerFromPem } from '../../sandbox/cert-factory.js';
import { ANS_SIGNER_SUBJECT, createCrl, INTERMEDIATE_SUBJECT, loadPkiManifest, type PkiManifest } from '../../sandbox/pki.js';
import { buildWhitelistXml } from '../../sandbox/whitelist-data.js';
import { runCliInProcess } from '../helpers/cli-in-process.js';
import { tmpDir } from '../helpers/tmp.js';
import { sandboxEntries, signedList } from '../helpers/whitelist.js';

// No configuration anywhere (runCli points MSS_SIDECAR_CONFIG at a file that does not exist): --trust must be enough.
const cli = (...args: string[]) => runCliInProcess(args);

let dir: string;
let pkiDir: string;
let pki: PkiManifest;
let signed: string;

before(async () => {
  dir = tmpDir();
  pkiDir = path.join(dir, 'pki');
  const r = await cli('sandbox', 'pki', '--out', pkiDir);
  assert.equal(r.status, 0, r.stderr);
  pki = loadPkiManifest(pkiDir);
  fs.writeFileSync(path.join(dir, 'unsigned.xml'), buildWhitelistXml(sandboxEntries(pki), new Date('2025-03-13T14:54:10Z')));
  signed = path.join(dir, 'signed.xml');
  const s = await cli('sandbox', 'sign-whitelist', '--pki', pkiDir, path.join(dir, 'unsigned.xml'), signed);
  assert.equal(s.status, 0, s.stderr);
});

test('sandbox pki writes the fixed layout: CA certificates only in trust/, keys 0600, every file in pki.json', async () => {
  assert.deepEqual(fs.readdirSync(pki.trustDir).sort(), ['sandbox-intermediate-ca.crt', 'sandbox-root-ca.crt']);
  assert.ok(fs.existsSync(path.join(pkiDir, 'ans-signer.crt')) && fs.existsSync(path.join(pkiDir, 'ans-signer.key')));
  for (const f of pki.files) assert.ok(fs.existsSync(f), f);
  // And the other way round: every file written is listed (nothing on disk pki.json omits).
  const onDisk = (fs.readdirSync(pkiDir, { recursive: true, withFileTypes: true }) as fs.Dirent[])
    .filter((e) => e.isFile())
    .map((e) => path.resolve(e.parentPath, e.name))
    .sort();
  assert.deepEqual(onDisk, pki.files.map((f) => path.resolve(f)).sort());
  for (const f of pki.files.filter((x) => x.endsWith('.key'))) assert.equal(fs.statSync(f).mode & 0o777, 0o600, f);
  assert.equal(pki.operators.length, 2);
  const [a, b] = pki.operators;
  assert.ok(a && b && a.fqdn !== b.fqdn && a.structureId !== b.structureId && a.organisation !== b.organisation && a.department !== b.department);
  assert.match(a.subject, /^CN=mss\.ch-sandbox-a\.fr,OU=1130099991,O=CENTRE HOSPITALIER SANDBOX A,ST=Bouches-du-Rhône \(13\),C=FR$/);
  assert.match(pki.authCli[0]?.subject ?? '', /^CN=Authentification MSS,OU=1130099991,/);
});

test('EX_2.2_5050: whitelist verify --trust accepts a sandbox-signed list with no other flag (PKI dir, its CRLs in crl/), or its trust/ with --crl-dir', async () => {
  for (const args of [
    ['--trust', pkiDir],
    ['--trust', pki.trustDir, '--crl-dir', pki.crlDir],
  ]) {
    const r = await cli('whitelist', 'verify', signed, ...args);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'domains=6 dns=4 generated=2025-03-13T14:54:10Z\n');
    assert.equal(r.stderr, '', 'nothing to warn about');
  }
  const j = await cli('whitelist', 'verify', signed, '--trust', pkiDir, '--json');
  assert.deepEqual(JSON.parse(j.stdout), { domains: 6, dns: 4, generated: '2025-03-13T14:54:10Z' });
});

test('EX_2.2_5040: whitelist verify exits non-zero with the reason code on any change or a wrong signer', async () => {
  const tampered = path.join(dir, 'tampered.xml');
  fs.writeFileSync(tampered, fs.readFileSync(signed, 'utf8').replace('ght-sandbox', 'ght-sandboy'));
  const r = await cli('whitelist', 'verify', tampered, '--trust', pkiDir);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^error WL_DIGEST_MISMATCH: .*tampered\.xml/m);
  const byRogue = path.join(dir, 'rogue.xml');
  fs.writeFileSync(byRogue, signedList(pki, { signer: { certPem: fs.readFileSync(pki.rogue.cert, 'utf8'), keyPem: fs.readFileSync(pki.rogue.key, 'utf8') } }));
  const j = await cli('whitelist', 'verify', byRogue, '--trust', pkiDir, '--json');
  assert.equal(j.status, 1);
  assert.equal(JSON.parse(j.stdout).error.code, 'WL_SIGNER_NOT_ANS');
});

test('EX_LBL_5010: whitelist lookup prints the DNs of a domain, or the domains of a DN, one per line', async () => {
  const dns = await cli('whitelist', 'lookup', 'GHT-SANDBOX.mssante.fr', '--file', signed, '--trust', pkiDir);
  assert.equal(dns.status, 0, dns.stderr);
  assert.deepEqual(
    dns.stdout.trim().split('\n'),
    pki.operators.map((o) => o.subject),
  );
  const domains = await cli(
    'whitelist',
    'lookup',
    'CN=mss.ch-sandbox-a.fr, OU=1130099991, O=centre hospitalier sandbox a, ST=Bouches-du-Rhône (13), C=FR',
    '--file',
    signed,
    '--trust',
    pkiDir,
  );
  assert.equal(domains.status, 0, domains.stderr);
  assert.deepEqual(domains.stdout.trim().split('\n'), pki.operators[0]?.domains);
  const none = await cli('whitelist', 'lookup', 'inconnu.mssante.fr', '--file', signed, '--trust', pkiDir);
  assert.equal(none.status, 1);
  assert.match(none.stderr, /error WL_NOT_LISTED: domain inconnu\.mssante\.fr is not in the liste blanche generated 2025-03-13T14:54:10Z/);
});

test('without --trust a configuration is needed: missing → exit 2 with the reason', async () => {
  const r = await runCliInProcess(['--config', path.join(dir, 'none.yaml'), 'whitelist', 'verify', signed]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /error CONFIG_NOT_FOUND/);
  const u = await cli('whitelist', 'verify', path.join(dir, 'missing.xml'), '--trust', pkiDir);
  assert.equal(u.status, 2);
  assert.match(u.stderr, /error USAGE_FILE: cannot read .*missing\.xml/);
});

test('EX_2.2_5050: whitelist verify and lookup with --config apply trust.crlDir like sync and the daemon: a revoked signer is refused', async () => {
  // An ANS signing certificate, then revoked in a CRL of the intermediate (test PKI, now).
  const inter = issuerFromPem(fs.readFileSync(pki.intermediate.cert, 'utf8'), fs.readFileSync(pki.intermediate.key, 'utf8'), INTERMEDIATE_SUBJECT);
  const revoked = issueCertificate({
    subject: ANS_SIGNER_SUBJECT,
    keyPair: await generateRsaKey(),
    issuer: inter,
    notBefore: new Date(Date.now() - 3_600_000),
    notAfter: new Date(Date.now() + 86_400_000),
    keyUsage: ['digitalSignature', 'nonRepudiation'],
    extKeyUsage: ['emailProtection'],
  });
  const crlDir = path.join(dir, 'crl-revoked-signer');
  fs.mkdirSync(crlDir);
  fs.writeFileSync(path.join(crlDir, 'intermediate.crl'), await createCrl(inter, [revoked.serial], new Date()));
  fs.copyFileSync(pki.crls.root, path.join(crlDir, 'root.crl'));
  const list = path.join(dir, 'by-revoked.xml');
  fs.writeFileSync(list, signedList(pki, { signer: { certPem: revoked.certPem, keyPem: revoked.keyPem } }));
  const op = pki.operators[0];
  const config = (crl: string, extra = '') => {
    const file = path.join(dir, `config-${crl ? 'crl' : 'nocrl'}.yaml`);
    fs.writeFileSync(
      file,
      `operator: {name: A, domains: [${op?.domains.join(', ')}], structureId: "${op?.structureId}", certificate: ${op?.cert}, key: ${op?.key}}
trust: {dir: ${pki.trustDir}${crl ? `, crlDir: ${crl}` : ''}}
state: {dir: ${path.join(dir, 'state')}}
log: {level: warn}
${extra}
`,
    );
    return file;
  };
  const withCrl = config(crlDir);
  for (const args of [
    ['--config', withCrl, 'whitelist', 'verify', list],
    ['--config', withCrl, 'whitelist', 'verify', list, '--trust', pkiDir],
    ['--config', withCrl, 'whitelist', 'lookup', 'ght-sandbox.mssante.fr', '--file', list, '--trust', pkiDir],
  ]) {
    const r = await cli(...args);
    assert.equal(r.status, 1, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, /^error WL_SIGNER_REVOKED: /m, args.join(' '));
  }
  // The same list without CRLs, crl.requireCurrent false (accepted with a warning): the revocation is the only reason.
  const r = await cli('--config', config('', 'crl: {requireCurrent: false}'), 'whitelist', 'verify', list);
  assert.equal(r.status, 0, r.stderr);
});

test("EX_2.2_5050: without a current CRL of the signer's CA, whitelist verify and lookup refuse the list (crl.requireCurrent, the default; also without a configuration), or accept it with a CRL_MISSING warning when crl.requireCurrent is false", async () => {
  const op = pki.operators[0];
  const emptyCrlDir = path.join(dir, 'crl-none');
  fs.mkdirSync(emptyCrlDir, { recursive: true });
  const config = (name: string, trust: string, extra = '') => {
    const file = path.join(dir, `config-${name}.yaml`);
    fs.writeFileSync(
      file,
      `operator: {name: A, domains: [${op?.domains.join(', ')}], structureId: "${op?.structureId}", certificate: ${op?.cert}, key: ${op?.key}}
trust: {${trust}}
state: {dir: ${path.join(dir, 'state')}}
log: {level: warn}
${extra}
`,
    );
    return file;
  };
  const strictEmpty = config('strict-empty', `dir: ${pki.trustDir}, crlDir: ${emptyCrlDir}`);
  const strictUnset = config('strict-unset', `dir: ${pki.trustDir}`);
  for (const args of [
    ['--config', strictEmpty, 'whitelist', 'verify', signed],
    ['--config', strictUnset, 'whitelist', 'verify', signed],
    ['--config', strictEmpty, 'whitelist', 'lookup', 'ght-sandbox.mssante.fr', '--file', signed, '--trust', pkiDir],
    // --crl-dir replaces trust.crlDir: the configuration's current CRLs do not apply.
    ['--config', config('strict-crl', `dir: ${pki.trustDir}, crlDir: ${pki.crlDir}`), 'whitelist', 'verify', signed, '--crl-dir', emptyCrlDir],
    // No configuration and a bare CA directory: the defaults, crl.requireCurrent included.
    ['whitelist', 'verify', signed, '--trust', pki.trustDir],
  ]) {
    const r = await cli(...args);
    assert.equal(r.status, 1, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.match(
      r.stderr,
      /^error WL_SIGNER_REVOCATION_UNKNOWN: .*signer .*refused: no current CRL of .*SANDBOX AC IGC-SANTE ELEMENTAIRE ORGANISATIONS.*\(crl\.requireCurrent\); run `mss-sidecar crl sync`$/m,
      args.join(' '),
    );
  }
  const relaxed = config('relaxed', `dir: ${pki.trustDir}, crlDir: ${emptyCrlDir}`, 'crl: {requireCurrent: false}');
  const r = await cli('--config', relaxed, 'whitelist', 'verify', signed);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'domains=6 dns=4 generated=2025-03-13T14:54:10Z\n');
  assert.match(
    r.stderr,
    /^warning CRL_MISSING: .*accepted WITHOUT revocation check: no current CRL of .*SANDBOX AC IGC-SANTE ELEMENTAIRE ORGANISATIONS.*\(crl\.requireCurrent: false\)/m,
  );
});
