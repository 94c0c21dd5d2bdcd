// Supervision checks (EX_SSI_5120): what `status` and the /metrics endpoint report.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { before, test } from 'node:test';
import { parseConfigText } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { type ClockProbe, certificates, clockSync, crls, keyPermissions, runHealthChecks, trustStore, whitelistAge, thresholdsFrom, worstSeverity } from '../../src/health/checks.js';
import { MetricsService } from '../../src/health/metrics-service.js';
import { silentLogger } from '../../src/log.js';
import { generateTestPki, type PkiManifest } from '../../src/sandbox/pki.js';
import { whitelistPaths } from '../../src/whitelist/store.js';
import { runCli } from '../helpers/cli.js';
import { freePorts } from '../helpers/ports.js';
import { tmpDir } from '../helpers/tmp.js';

const DAY = 86_400_000;
let dir: string;
let pki: PkiManifest;
let configFile: string;

function configText(extra = ''): string {
  const op = pki.operators[0];
  return `operator: { name: A, domains: [a.mssante.fr], structureId: "1130000001", certificate: ${op?.cert}, key: ${op?.key} }
trust: { dir: ${pki.trustDir}, crlDir: ${pki.crlDir} }
state: { dir: ${path.join(dir, 'state')} }
${extra}`;
}
const load = (extra = ''): Config => parseConfigText(configText(extra), configFile);

function writeRecord(confirmedAt: Date): void {
  const paths = whitelistPaths(path.join(dir, 'state'));
  fs.mkdirSync(paths.dir, { recursive: true });
  fs.writeFileSync(paths.record, JSON.stringify({ url: 'https://x', sha256: '', bytes: 1, generated: '2026-01-01T00:00:00Z', domains: 1, dns: 1, signer: 'x', storedAt: confirmedAt.toISOString(), confirmedAt: confirmedAt.toISOString() }));
}

before(async () => {
  dir = tmpDir();
  configFile = path.join(dir, 'config.yaml');
  pki = await generateTestPki(path.join(dir, 'pki'));
  fs.writeFileSync(configFile, configText());
});

test('EX_SSI_5120 EX_2.2_5010 EX_2.2_5035: the age of the liste blanche in use is reported, critical when there is none', () => {
  const config = load();
  const now = new Date();
  fs.rmSync(path.join(dir, 'state'), { recursive: true, force: true });
  assert.equal(whitelistAge(config, now).severity, 'critical');
  writeRecord(new Date(now.getTime() - 2 * 3600_000));
  assert.equal(whitelistAge(config, now).severity, 'ok');
  writeRecord(new Date(now.getTime() - 3 * DAY));
  assert.equal(whitelistAge(config, now).severity, 'warning');
  writeRecord(new Date(now.getTime() - 9 * DAY));
  assert.equal(whitelistAge(config, now).severity, 'critical');
});

test('EX_SSI_5085: the operator certificate is reported before it expires', () => {
  const config = load();
  const t = thresholdsFrom(config);
  const notAfter = certificates(config, new Date(), t)[0];
  assert.equal(notAfter?.severity, 'ok');
  const expiry = new Date(Date.now() + (notAfter?.value ?? 0) * 1000);
  assert.equal(certificates(config, new Date(expiry.getTime() - 20 * DAY), t)[0]?.severity, 'warning');
  assert.equal(certificates(config, new Date(expiry.getTime() - 3 * DAY), t)[0]?.severity, 'critical');
  assert.match(certificates(config, new Date(expiry.getTime() + DAY), t)[0]?.detail ?? '', /expired 1 days ago/);
});

test('EX_SSI_5100: a private key readable by others is reported', () => {
  const key = pki.operators[0]?.key ?? '';
  fs.chmodSync(key, 0o644);
  assert.equal(keyPermissions(load())[0]?.severity, 'warning');
  fs.chmodSync(key, 0o600);
  assert.equal(keyPermissions(load())[0]?.severity, 'ok');
});

test('RE_OPE_5040: a CA whose fingerprint is not the expected one is critical', () => {
  const fp = new X509Certificate(fs.readFileSync(pki.root.cert)).fingerprint256;
  const config = parseConfigText(configText().replace(`crlDir: ${pki.crlDir} }`, `crlDir: ${pki.crlDir}, expectedFingerprints: ["${fp}"] }`), configFile);
  const fps = trustStore(config, new Date(), thresholdsFrom(config)).filter((r) => r.check === 'ca.fingerprint');
  assert.equal(fps.length, 2, 'root and intermediate');
  assert.deepEqual(fps.map((r) => r.severity).sort(), ['critical', 'ok']);
  assert.ok(trustStore(load(), new Date(), thresholdsFrom(load())).every((r) => r.check === 'ca.expiry'), 'no expected list: no fingerprint verdict');
});

test('EX_OPE_5050: CRLs are reported current, then out of date after nextUpdate, and missing without crlDir', async () => {
  const config = load();
  const t = thresholdsFrom(config);
  assert.deepEqual((await crls(config, new Date(), t)).map((r) => r.severity), ['ok', 'ok']);
  assert.ok((await crls(config, new Date(Date.now() + 30 * DAY), t)).every((r) => r.severity === 'critical'));
  const noDir = parseConfigText(configText().replace(`, crlDir: ${pki.crlDir}`, ''), configFile);
  assert.equal((await crls(noDir, new Date(), t))[0]?.severity, 'critical');
});

test('EX_SSI_5120: `status` exits 1 on a critical check and 0 otherwise; /metrics and /health report the same', async () => {
  writeRecord(new Date());
  const ok = runCli(['--config', configFile, 'status']);
  assert.equal(ok.status, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, /whitelist\.age/);
  const late = runCli(['--config', configFile, 'status', '--now', new Date(Date.now() + 40 * DAY).toISOString()]);
  assert.equal(late.status, 1);
  assert.match(late.stdout, /CRIT\s+crl\.current/);

  const [port] = await freePorts(1);
  writeRecord(new Date(Date.now() - 10 * DAY));
  const service = new MetricsService(load(`health: { metrics: { enabled: true, listen: { port: ${port} } } }\n`), silentLogger);
  await service.start();
  try {
    const get = (p: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        http.get({ host: '127.0.0.1', port, path: p }, (res) => {
          let body = '';
          res.on('data', (d) => (body += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        }).on('error', reject);
      });
    const metrics = await get('/metrics');
    assert.equal(metrics.status, 200);
    assert.match(metrics.body, /mss_check_status\{check="whitelist\.age",subject="",requirement="EX_2\.2_5010"\} 2/);
    assert.match(metrics.body, /mss_check_value\{check="certificate\.expiry",subject="operator"\} \d+/);
    const health = await get('/health');
    assert.equal(health.status, 503);
    assert.equal((JSON.parse(health.body) as { worst: string }).worst, 'critical');
  } finally {
    await service.stop();
  }
  assert.equal(worstSeverity(await runHealthChecks(load())), 'critical');
});


test('EX_SDT_5010: the clock synchronisation state comes from the time daemon, unknown when none answers', () => {
  const read = (o: string): boolean | undefined => (o.trim() === 'yes' ? true : o.trim() === 'no' ? false : undefined);
  const say = (out: string): ClockProbe => ['sh', ['-c', `echo ${out}`], read];
  assert.equal(clockSync([say('yes')]).severity, 'ok');
  assert.equal(clockSync([say('no')]).severity, 'critical');
  assert.equal(clockSync([['mss-no-such-command', [], () => true]]).severity, 'unknown');
  assert.equal(clockSync([say('maybe'), say('yes')]).severity, 'ok', 'an unclear answer falls through to the next probe');
});
