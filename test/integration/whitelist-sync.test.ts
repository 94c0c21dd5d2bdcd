// `whitelist sync` against the sandbox liste blanche host (in-process, loopback), with the
// server faults of real life. Whatever happens, the last valid copy stays and is used.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import { pino } from 'pino';
import { silentLogger, type Logger } from '../../src/log.js';
import type { TrustStore } from '../../src/pki/truststore.js';
import { generateRsaKey, issueCertificate } from '../../sandbox/cert-factory.js';
import type { PkiManifest } from '../../sandbox/pki.js';
import { SandboxWhitelistServer, type WhitelistFault } from '../../sandbox/whitelist-server.js';
import { TrustStore as Store } from '../../src/pki/truststore.js';
import { certInfo } from '../../src/pki/certificate.js';
import { DEFAULT_ANS_SIGNER_SUBJECT } from '../../src/whitelist/config.js';
import { WhitelistHolder } from '../../src/whitelist/holder.js';
import { readRecord, whitelistPaths, writeRecord, type WhitelistPaths } from '../../src/whitelist/store.js';
import { syncWhitelist, type SyncOptions } from '../../src/whitelist/sync.js';
import { REPO_ROOT, runCliAsync } from '../helpers/cli.js';
import { testPki, trustOf } from '../helpers/pki.js';
import { tmpDir } from '../helpers/tmp.js';
import { sandboxEntries, signedList } from '../helpers/whitelist.js';
import { buildWhitelistXml } from '../../sandbox/whitelist-data.js';

let pki: PkiManifest;
let trust: TrustStore;
let server: SandboxWhitelistServer;
let published: Buffer;
let configFile: string;
let paths: WhitelistPaths;

before(async () => {
  pki = await testPki();
  trust = trustOf(pki);
  published = Buffer.from(signedList(pki, { generated: new Date(Date.now() - 3_600_000) }));
  server = new SandboxWhitelistServer({
    host: '127.0.0.1',
    certChainPem: fs.readFileSync(pki.https.cert, 'utf8') + fs.readFileSync(pki.intermediate.cert, 'utf8'),
    keyPem: fs.readFileSync(pki.https.key, 'utf8'),
    list: published,
    log: silentLogger,
  });
  await server.start();
  const dir = tmpDir();
  const op = pki.operators[0];
  configFile = path.join(dir, 'config.yaml');
  fs.writeFileSync(
    configFile,
    `operator: {name: A, domains: [${op?.domains.join(', ')}], structureId: "${op?.structureId}", certificate: ${op?.cert}, key: ${op?.key}}
trust: {dir: ${pki.trustDir}, crlDir: ${pki.crlDir}}
state: {dir: ${path.join(dir, 'state')}}
whitelist: {url: "${server.url}", timeoutMs: 1000}
log: {level: warn}
`,
  );
  paths = whitelistPaths(path.join(dir, 'state'));
});
after(() => server.stop());

function options(log: Logger = silentLogger, extra: Partial<SyncOptions> = {}): SyncOptions {
  return {
    url: server.url,
    policy: { trust, signer: DEFAULT_ANS_SIGNER_SUBJECT, maxBytes: 1_000_000 },
    timeoutMs: 1000,
    maxAgeHours: 48,
    paths,
    log,
    ...extra,
  };
}

function captureLog(): { log: Logger; lines: () => Array<Record<string, unknown>> } {
  let text = '';
  const stream = new Writable({ write: (chunk: Buffer, _e, cb) => ((text += chunk.toString()), cb()) });
  return {
    log: pino({ level: 'debug' }, stream),
    lines: () =>
      text
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

test('EX_2.2_5010 EX_2.2_5030: sync downloads over HTTPS (trust store only), verifies, and stores the exact bytes', async () => {
  const r = await syncWhitelist(options());
  assert.equal(r.outcome, 'updated', JSON.stringify(r));
  assert.ok(fs.readFileSync(paths.file).equals(published), 'stored byte for byte');
  assert.equal(readRecord(paths)?.domains, 6);
  const again = await syncWhitelist(options());
  assert.equal(again.outcome, 'unchanged');
});

// Fault, code, and the CLI exit status (3: retry later, 1: refused; checked for a few, the
// CLI costs a process start).
const FAULTS: Array<[WhitelistFault, string, number | undefined]> = [
  ['down', 'HTTP_UNREACHABLE', 3],
  ['http500', 'HTTP_SERVER_ERROR', 3],
  ['truncated', 'HTTP_TRUNCATED', undefined],
  ['slow', 'HTTP_TIMEOUT', undefined],
  ['bad-signature', 'WL_DIGEST_MISMATCH', 1],
];

test('EX_2.2_5035 EX_2.2_5040: server down, HTTP 500, truncated body, slow body, bad signature → last valid copy kept and used', async () => {
  if (!fs.existsSync(paths.file)) await syncWhitelist(options());
  const holder = new WhitelistHolder({
    file: paths.file,
    policy: { trust, signer: DEFAULT_ANS_SIGNER_SUBJECT, maxBytes: 1_000_000 },
    log: silentLogger,
  }).start();
  try {
    for (const [fault, code, exit] of FAULTS) {
      await server.setFault(fault);
      const { log, lines } = captureLog();
      const r = await syncWhitelist(options(log));
      assert.equal(r.outcome, 'failed', fault);
      assert.equal(r.outcome === 'failed' && r.error.code, code, fault);
      assert.ok(fs.readFileSync(paths.file).equals(published), `${fault}: last valid copy unchanged`);
      const logged = lines().find((l) => l.code === code);
      assert.match(String(logged?.msg), /keeping the last valid copy/, `${fault}: reason logged with its code`);
      if (exit !== undefined) {
        const cli = await runCliAsync(['--config', configFile, 'whitelist', 'sync']);
        assert.equal(cli.status, exit, `${fault}: ${cli.stderr}`);
        assert.match(cli.stderr, new RegExp(`error ${code}`));
        assert.match(cli.stderr, /the last valid copy .* stays in use/);
      }
      assert.ok(holder.require().hasDomain('dgs.mssante.fr'), `${fault}: the daemon still has its list`);
      await server.setFault('none');
    }
    // The kept copy still answers the CLI (verified again before use).
    const lookup = await runCliAsync(['--config', configFile, 'whitelist', 'lookup', 'ght-sandbox.mssante.fr']);
    assert.equal(lookup.status, 0, lookup.stderr);
    assert.equal(lookup.stdout.trim().split('\n').length, 2);
  } finally {
    await server.setFault('none');
    holder.close();
  }
});

test('EX_2.2_5040: a validly signed but older list (replay) does not replace the newer one', async () => {
  await syncWhitelist(options());
  const before = fs.readFileSync(paths.file);
  server.setList(Buffer.from(signedList(pki, { generated: new Date(Date.now() - 86_400_000) })));
  try {
    const r = await syncWhitelist(options());
    assert.equal(r.outcome === 'failed' && r.error.code, 'WL_ROLLBACK');
    assert.ok(fs.readFileSync(paths.file).equals(before));
  } finally {
    server.setList(published);
  }
});

test('EX_2.2_5040: a list dated beyond whitelist.futureSkewHours (2100) is refused naming the date, and never blocks later lists', async () => {
  await syncWhitelist(options());
  const before = fs.readFileSync(paths.file);
  server.setList(Buffer.from(signedList(pki, { generated: new Date('2100-01-01T00:00:00Z') })));
  try {
    const r = await syncWhitelist(options());
    assert.ok(r.outcome === 'failed' && r.error.code === 'WL_DATE_FUTURE', JSON.stringify(r));
    assert.match(r.error.message, /DateDeGeneration 2100-01-01T00:00:00Z is more than 24 h ahead/);
    assert.ok(fs.readFileSync(paths.file).equals(before), 'the list in use stays');
    // Within the skew (23 h ahead) a list is accepted: clocks differ.
    server.setList(Buffer.from(signedList(pki, { generated: new Date(Date.now() + 23 * 3_600_000) })));
    assert.equal((await syncWhitelist(options())).outcome, 'updated');
  } finally {
    server.setList(published);
  }
  // A record poisoned by an older version (a stored 2100 date) no longer refuses every later list.
  const record = JSON.parse(fs.readFileSync(paths.record, 'utf8')) as { generated: string };
  fs.writeFileSync(paths.record, JSON.stringify({ ...record, generated: '2100-01-01T00:00:00Z' }));
  const { log, lines } = captureLog();
  const r = await syncWhitelist(options(log));
  assert.equal(r.outcome, 'updated', JSON.stringify(r));
  assert.ok(
    lines().some((l) => l.code === 'WL_RECORD_IGNORED'),
    'the ignored record is reported',
  );
});

test('EX_2.2_5040: a DateDeGeneration that is not a 4-digit-year xsd:dateTime (20260-01-01, 2025-02-30) is refused and cannot switch the replay guard off', async () => {
  await syncWhitelist(options());
  const before = fs.readFileSync(paths.file);
  const xml = (date: string) =>
    signedList(pki, { xml: buildWhitelistXml(sandboxEntries(pki)).replace(/<DateDeGeneration>[^<]*</, `<DateDeGeneration>${date}<`) });
  try {
    for (const date of ['20260-01-01T00:00:00Z', '2025-02-30T00:00:00Z', '2025-03-13 14:54:10Z']) {
      server.setList(Buffer.from(xml(date)));
      const r = await syncWhitelist(options());
      assert.ok(r.outcome === 'failed' && r.error.code === 'WL_DATE_INVALID' && r.error.message.includes(date), `${date}: ${JSON.stringify(r)}`);
      assert.ok(fs.readFileSync(paths.file).equals(before));
    }
  } finally {
    server.setList(published);
  }
});

test('EX_2.2_5040: `whitelist sync --accept-older` is the recovery from a wrongly dated list in use; without it the replay is refused', async () => {
  await syncWhitelist(options());
  const record = JSON.parse(fs.readFileSync(paths.record, 'utf8')) as { generated: string };
  const older = signedList(pki, { generated: new Date(Date.parse(record.generated) - 86_400_000) });
  server.setList(Buffer.from(older));
  try {
    const refused = await runCliAsync(['--config', configFile, 'whitelist', 'sync']);
    assert.equal(refused.status, 1, refused.stderr);
    assert.match(refused.stderr, /error WL_ROLLBACK: .*whitelist sync --accept-older/);
    const accepted = await runCliAsync(['--config', configFile, 'whitelist', 'sync', '--accept-older']);
    assert.equal(accepted.status, 0, accepted.stderr);
    assert.ok(fs.readFileSync(paths.file).equals(Buffer.from(older)));
  } finally {
    server.setList(published);
  }
});

test("EX_2.2_5050 EX_2.2_5035: `whitelist sync` refuses a new list whose signer's CA has no current CRL (crl.requireCurrent), keeps the last valid copy, and stores it with a CRL_MISSING warning when crl.requireCurrent is false", async () => {
  await syncWhitelist(options());
  const before = fs.readFileSync(paths.file);
  const newer = Buffer.from(signedList(pki, { generated: new Date(Date.now() - 60_000) }));
  const noCrl = tmpDir();
  const variant = (name: string, extra: string) => {
    const file = path.join(path.dirname(configFile), `config-${name}.yaml`);
    fs.writeFileSync(file, fs.readFileSync(configFile, 'utf8').replace(`crlDir: ${pki.crlDir}`, `crlDir: ${noCrl}`) + extra);
    return file;
  };
  server.setList(newer);
  try {
    const refused = await runCliAsync(['--config', variant('no-crl', ''), 'whitelist', 'sync']);
    assert.equal(refused.status, 1, refused.stderr);
    assert.match(
      refused.stderr,
      /error WL_SIGNER_REVOCATION_UNKNOWN: .*no current CRL of .*SANDBOX AC IGC-SANTE ELEMENTAIRE ORGANISATIONS.*run `mss-sidecar crl sync`/,
    );
    assert.match(refused.stderr, /the last valid copy .* stays in use/);
    assert.ok(fs.readFileSync(paths.file).equals(before), 'the last valid copy is kept');
    const relaxed = await runCliAsync(['--config', variant('no-crl-relaxed', 'crl: {requireCurrent: false}\n'), 'whitelist', 'sync', '--json']);
    assert.equal(relaxed.status, 0, relaxed.stderr);
    assert.equal(JSON.parse(relaxed.stdout).outcome, 'updated');
    assert.ok(fs.readFileSync(paths.file).equals(newer), 'stored');
    assert.match(relaxed.stderr, /"code":"CRL_MISSING".*accepted WITHOUT revocation check/);
  } finally {
    server.setList(published);
  }
});

test('EX_2.2_5035: a list in use older than maxAgeHours is reported loudly', async () => {
  await syncWhitelist(options());
  const record = readRecord(paths);
  assert.ok(record);
  await writeRecord(paths, { ...record, confirmedAt: new Date(Date.now() - 72 * 3_600_000).toISOString() });
  await server.setFault('down');
  try {
    const { log, lines } = captureLog();
    const r = await syncWhitelist(options(log));
    assert.equal(r.outcome === 'failed' && r.kept?.stale, true);
    const warn = lines().find((l) => l.code === 'WL_STALE');
    assert.ok(warn, 'WL_STALE warning');
    assert.equal(warn.ageHours, 72);
  } finally {
    await server.setFault('none');
  }
});

test('EX_2.2_5010: the HTTPS server must chain to the trust store (no system CAs)', async () => {
  const key = await generateRsaKey();
  const other = issueCertificate({
    subject: [
      ['C', 'FR'],
      ['CN', 'OTHER ROOT'],
    ],
    keyPair: key,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 3_600_000),
    ca: {},
    keyUsage: ['keyCertSign'],
  });
  const r = await syncWhitelist(
    options(silentLogger, { policy: { trust: new Store([certInfo(other.der)]), signer: DEFAULT_ANS_SIGNER_SUBJECT, maxBytes: 1_000_000 } }),
  );
  assert.equal(r.outcome === 'failed' && r.error.code, 'HTTP_TLS');
});

test('EX_3.2_5040 (issue #12): after each `whitelist sync`, a listed domain that Postfix would send around the outbound gate is reported on stderr, naming the transport and the setting; the sync itself succeeds', async () => {
  const dir = tmpDir();
  // Debian's master.cf with the shipped pieces applied (docs/install.md), then a site's transport map.
  const etc = path.join(dir, 'postfix');
  fs.mkdirSync(etc);
  fs.copyFileSync('/usr/share/postfix/master.cf.dist', path.join(etc, 'master.cf'));
  fs.writeFileSync(path.join(etc, 'main.cf'), '');
  const applied = spawnSync('bash', [path.join(REPO_ROOT, 'scripts', 'postfix-apply.sh'), '-c', etc], {
    encoding: 'utf8',
    env: { ...process.env, MSS_SIDECAR: 'true' },
  });
  assert.equal(applied.status, 0, applied.stderr);
  const other = pki.operators[1]?.domains[0] as string;
  assert.equal(spawnSync('postconf', ['-c', etc, '-e', `transport_maps = inline:{ {${other} = smtp:[192.0.2.25]} }`]).status, 0);
  const registry = path.join(dir, 'registry.yaml');
  // Each managed domain has its auto-reply test mailbox (EX_GBM_4020), as the registry requires.
  const autoReplies = (pki.operators[0]?.domains ?? []).map(
    (d) =>
      `  - { address: reponse.automatique-test@${d}, type: APP, created: 2024-01-01, test: true, structure: { type: FINESS, id: "130000001" }, responsible: { name: Service informatique }, description: Réponse automatique }\n`,
  );
  fs.writeFileSync(registry, `version: 1\nmailboxes:\n${autoReplies.join('')}`);
  const withGate = path.join(dir, 'config.yaml');
  fs.writeFileSync(
    withGate,
    fs.readFileSync(configFile, 'utf8').replace(/^state: .*$/m, `state: {dir: ${path.join(dir, 'state')}}`) +
      `registry: {file: ${registry}}\ngates: {out: {enabled: true, postfixConfigDir: ${etc}}}\n`,
  );
  const sync = await runCliAsync(['--config', withGate, 'whitelist', 'sync']);
  assert.equal(sync.status, 0, sync.stderr);
  assert.match(sync.stdout, /^updated domains=/m);
  assert.match(
    sync.stderr,
    new RegExp(`^warning: ${other.replace(/\./g, '\\.')}: smtp:\\[192\\.0\\.2\\.25\\] \\(transport_maps\\) for every sender, not the outbound gate$`, 'm'),
  );
  assert.equal(sync.stderr.match(/^warning: .* not the outbound gate$/gm)?.length, 1, sync.stderr);
  // The route fixed: the next sync says nothing about routes.
  assert.equal(spawnSync('postconf', ['-c', etc, '-X', 'transport_maps']).status, 0);
  const again = await runCliAsync(['--config', withGate, 'whitelist', 'sync']);
  assert.equal(again.status, 0, again.stderr);
  assert.doesNotMatch(again.stderr, /not the outbound gate/);
});
