// Supervision checks (EX_SSI_5120): what `status` and the /metrics endpoint report.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { before, test } from 'node:test';
import { parseConfigText } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import {
  certificates,
  crls,
  keyPermissions,
  runHealthChecks,
  storeCheck,
  trustStore,
  whitelistAge,
  thresholdsFrom,
  worstSeverity,
} from '../../src/health/checks.js';
import { clockSync, commandSource, timesyncdSource } from '../../src/health/clock.js';
import { resolveIdentity, selfIdentity } from '../../src/health/as-user.js';
import os from 'node:os';
import { EmbeddedStore } from '../../src/store/embedded.js';
import { RedisStore } from '../../src/store/redis.js';
import { startRedis } from '../helpers/redis.js';
import { createTestUser } from '../helpers/unix-user.js';
import dgram from 'node:dgram';
import { MetricsService } from '../../src/health/metrics-service.js';
import { SharedResources } from '../../src/daemon/shared.js';
import { silentLogger } from '../../src/log.js';
import { generateTestPki, type PkiManifest } from '../../sandbox/pki.js';
import { whitelistPaths } from '../../src/whitelist/store.js';
import { runCliInProcess } from '../helpers/cli-in-process.js';
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
  fs.writeFileSync(
    paths.record,
    JSON.stringify({
      url: 'https://x',
      sha256: '',
      bytes: 1,
      generated: '2026-01-01T00:00:00Z',
      domains: 1,
      dns: 1,
      signer: 'x',
      storedAt: confirmedAt.toISOString(),
      confirmedAt: confirmedAt.toISOString(),
    }),
  );
}

before(async () => {
  dir = tmpDir();
  configFile = path.join(dir, 'config.yaml');
  pki = await generateTestPki(path.join(dir, 'pki'));
  fs.writeFileSync(configFile, configText());
});

test('EX_SSI_5120 EX_2.2_5010 EX_2.2_5035: the age of the liste blanche in use is reported, critical when there is none', async () => {
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

test('EX_SSI_5085: the operator certificate is reported before it expires', async () => {
  const config = load();
  const t = thresholdsFrom(config);
  const notAfter = certificates(config, new Date(), t)[0];
  assert.equal(notAfter?.severity, 'ok');
  const expiry = new Date(Date.now() + (notAfter?.value ?? 0) * 1000);
  assert.equal(certificates(config, new Date(expiry.getTime() - 20 * DAY), t)[0]?.severity, 'warning');
  assert.equal(certificates(config, new Date(expiry.getTime() - 3 * DAY), t)[0]?.severity, 'critical');
  assert.match(certificates(config, new Date(expiry.getTime() + DAY), t)[0]?.detail ?? '', /expired 1 days ago/);
});

test('EX_SSI_5100: a private key readable by others is reported', async () => {
  const key = pki.operators[0]?.key ?? '';
  fs.chmodSync(key, 0o644);
  assert.equal(keyPermissions(load(), selfIdentity())[0]?.severity, 'warning');
  fs.chmodSync(key, 0o600);
  assert.equal(keyPermissions(load(), selfIdentity())[0]?.severity, 'ok');
});

test('RE_OPE_5040: a CA whose fingerprint is not the expected one is critical', async () => {
  const fp = new X509Certificate(fs.readFileSync(pki.root.cert)).fingerprint256;
  const config = parseConfigText(configText().replace(`crlDir: ${pki.crlDir} }`, `crlDir: ${pki.crlDir}, expectedFingerprints: ["${fp}"] }`), configFile);
  const fps = trustStore(config, new Date(), thresholdsFrom(config)).filter((r) => r.check === 'ca.fingerprint');
  assert.equal(fps.length, 2, 'root and intermediate');
  assert.deepEqual(fps.map((r) => r.severity).sort(), ['critical', 'ok']);
  assert.ok(
    trustStore(load(), new Date(), thresholdsFrom(load())).every((r) => r.check === 'ca.expiry'),
    'no expected list: no fingerprint verdict',
  );
});

test('EX_OPE_5050: CRLs are reported current, then out of date after nextUpdate, and missing without crlDir', async () => {
  const config = load();
  const t = thresholdsFrom(config);
  assert.deepEqual(
    (await crls(config, new Date(), t)).map((r) => r.severity),
    ['ok', 'ok'],
  );
  assert.ok((await crls(config, new Date(Date.now() + 30 * DAY), t)).every((r) => r.severity === 'critical'));
  const noDir = parseConfigText(configText().replace(`, crlDir: ${pki.crlDir}`, ''), configFile);
  assert.equal((await crls(noDir, new Date(), t))[0]?.severity, 'critical');
});

test('EX_SSI_5120: `status` exits 1 on a critical check and 0 otherwise; /metrics and /health report the same', async () => {
  writeRecord(new Date());
  // As this test's own user: the host may have an mss-sidecar user of its own.
  const me = ['--user', os.userInfo().username];
  const ok = await runCliInProcess(['--config', configFile, 'status', ...me]);
  assert.equal(ok.status, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, /whitelist\.age/);
  const late = await runCliInProcess(['--config', configFile, 'status', ...me, '--now', new Date(Date.now() + 40 * DAY).toISOString()]);
  assert.equal(late.status, 1);
  assert.match(late.stdout, /CRIT\s+crl\.current/);

  const [port] = await freePorts(1);
  writeRecord(new Date(Date.now() - 10 * DAY));
  const config = load(`health: { metrics: { enabled: true, listen: { port: ${port} } } }\n`);
  const shared = new SharedResources(config, silentLogger);
  const service = new MetricsService(config, silentLogger, shared);
  await service.start();
  try {
    const get = (p: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        http
          .get({ host: '127.0.0.1', port, path: p }, (res) => {
            let body = '';
            res.on('data', (d) => (body += d));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          })
          .on('error', reject);
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
    await shared.close();
  }
  assert.equal(worstSeverity(await runHealthChecks(load(), new Date(), thresholdsFrom(load()), { identity: selfIdentity() })), 'critical');
});

test('EX_SDT_5010: the clock state comes from chrony, ntpsec or systemd-timesyncd without timedatectl; an unclear answer falls through; none: unknown', async () => {
  const say = (name: string, out: string) =>
    commandSource('sh', ['-c', `echo "${out}"`], (o) => (/Leap status\s*:\s*Normal/.test(o) ? true : /Not synchronised/.test(o) ? false : undefined));
  assert.equal((await clockSync([say('chronyc', 'Leap status     : Normal')])).severity, 'ok');
  assert.equal((await clockSync([say('chronyc', 'Leap status     : Not synchronised')])).severity, 'critical');
  assert.equal((await clockSync([commandSource('mss-no-such-command', [], () => true)])).severity, 'unknown');
  assert.equal(
    (await clockSync([say('x', 'maybe'), say('chronyc', 'Leap status : Normal')])).severity,
    'ok',
    'an unclear answer falls through to the next probe',
  );
  // systemd-timesyncd's flag file, under a test root.
  const root = tmpDir();
  assert.equal((await clockSync([timesyncdSource(root)])).severity, 'unknown', 'no flag: cannot tell');
  fs.mkdirSync(path.join(root, 'run/systemd/timesync'), { recursive: true });
  fs.writeFileSync(path.join(root, 'run/systemd/timesync/synchronized'), '');
  const r = await clockSync([timesyncdSource(root)]);
  assert.deepEqual([r.severity, r.detail], ['ok', 'systemd-timesyncd: clock synchronised']);
});

/** A loopback SNTP server whose clock is `skewMs` ahead of ours. */
async function sntpServer(skewMs: number, opts: { leap?: number } = {}): Promise<{ port: number; close(): void }> {
  const socket = dgram.createSocket('udp4');
  socket.on('message', (msg, rinfo) => {
    const reply = Buffer.alloc(48);
    reply[0] = ((opts.leap ?? 0) << 6) | (4 << 3) | 4;
    reply[1] = 2;
    msg.copy(reply, 24, 40, 48); // originate = the client's transmit time
    const now = Date.now() + skewMs;
    for (const off of [32, 40]) {
      reply.writeUInt32BE(Math.floor(now / 1000) + 2_208_988_800, off);
      reply.writeUInt32BE(Math.floor(((now % 1000) / 1000) * 2 ** 32), off + 4);
    }
    socket.send(reply, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { port: socket.address().port, close: () => socket.close() };
}

test('EX_SDT_5010: with no time daemon, the documented fallback asks an NTP server (health.clock.ntpServer) and grades the offset', async () => {
  const none = [commandSource('mss-no-such-command', [], () => true)];
  const ntp = (port: number) => ({ server: '127.0.0.1', port, maxOffsetMs: 500, timeoutMs: 2000 });
  for (const [skew, severity] of [
    [40, 'ok'],
    [-2000, 'warning'],
    [60_000, 'critical'],
  ] as const) {
    const server = await sntpServer(skew);
    try {
      const r = await clockSync(none, ntp(server.port));
      assert.equal(r.severity, severity, r.detail);
      assert.ok(Math.abs((r.value ?? 0) * 1000 - skew) < 250, `measured ${(r.value ?? 0) * 1000} ms for ${skew} ms`);
    } finally {
      server.close();
    }
  }
  const unsynced = await sntpServer(0, { leap: 3 });
  try {
    const r = await clockSync(none, ntp(unsynced.port));
    assert.equal(r.severity, 'warning');
    assert.match(r.detail, /not synchronised itself/);
  } finally {
    unsynced.close();
  }
});

test('EX_SSI_5100: `status` reports CRIT for a root-owned 0600 key the service user cannot read, OK once it can; each CA named once per line', async () => {
  writeRecord(new Date());
  const user = createTestUser();
  const key = path.join(dir, 'status-operator.key');
  fs.copyFileSync(pki.operators[0]?.key as string, key);
  fs.chmodSync(key, 0o600);
  const file = path.join(dir, 'status-config.yaml');
  fs.writeFileSync(file, configText().replace(`key: ${pki.operators[0]?.key}`, `key: ${key}`));
  let r = await runCliInProcess(['--config', file, 'status', '--user', user.name]);
  assert.equal(r.status, 1, r.stdout);
  assert.match(r.stdout, new RegExp(`CRIT\\s+key\\.permissions\\s+operator key ${key} cannot be read by ${user.name} \\(mode 0600, owner root:root\\)`));
  fs.chownSync(key, user.uid, user.gid);
  r = await runCliInProcess(['--config', file, 'status', '--user', user.name]);
  assert.match(r.stdout, new RegExp(`OK\\s+key\\.permissions\\s+operator key ${key} has mode 0600, readable by ${user.name}`));
  for (const line of r.stdout.split('\n').filter((l) => l.includes('ca.expiry') || l.includes('crl.current'))) {
    const name = /CN=[^,]+/.exec(line)?.[0] ?? '';
    assert.ok(name, line);
    assert.equal(line.split(name).length - 1, 1, `named once: ${line}`);
  }
  assert.equal(r.stdout.split('\n').filter((l) => /^\S+\s+ca\.expiry/.test(l)).length, 2, 'one line per CA');
  assert.match(r.stdout, /lifecycle\.activity\s+inactivity counted from \d{4}-\d\d-\d\d \(no login recorded on this installation yet/);
});

/** `CLIENT PAUSE ms ALL` on its own connection: Redis holds every client's commands (PING too) that long. */
function pauseRedis(port: number, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('error', reject);
    s.once('data', (d) => {
      s.destroy();
      if (d.toString().startsWith('+OK')) resolve();
      else reject(new Error(`CLIENT PAUSE: ${d.toString()}`));
    });
    s.write(`CLIENT PAUSE ${ms} ALL\r\n`);
  });
}

test('the store check: Redis PING with its latency, WARN above health.storeLatencyWarnMs or when Redis does not answer; the embedded store writable by the service user, CRIT when not', async () => {
  const redis = await startRedis();
  const store = new RedisStore({ url: redis.url, keyPrefix: 'health:' });
  try {
    // Not a figure about this machine: with a threshold above the check's own 2 s PING
    // deadline, any answer is fast enough; with 100 ms, a PING held 1.5 s by Redis is not.
    const up = await storeCheck(load('health: { storeLatencyWarnMs: 5000 }\n'), store);
    assert.equal(up.severity, 'ok', up.detail);
    assert.match(up.detail, /answered PING in \d+\.\d ms$/);
    await pauseRedis(redis.port, 1500);
    const slow = await storeCheck(load('health: { storeLatencyWarnMs: 100 }\n'), store);
    assert.equal(slow.severity, 'warning', slow.detail);
    assert.match(slow.detail, /answered PING in \d+\.\d ms \(warning above 100 ms\)$/);
    assert.ok((slow.value ?? 0) > 0.1, String(slow.value));
    await redis.stop();
    const down = await storeCheck(load(), store);
    assert.equal(down.severity, 'warning', down.detail);
    assert.match(down.detail, /does not answer/);
  } finally {
    await store.close();
    await redis.stop();
  }
  const user = createTestUser();
  const state = path.join(dir, 'state-embedded');
  const embedded = new EmbeddedStore(path.join(state, 'store'));
  await embedded.close();
  const cfg = parseConfigText(configText().replace(`state: { dir: ${path.join(dir, 'state')} }`, `state: { dir: ${state} }`), configFile);
  const id = resolveIdentity(user.name);
  assert.equal((await storeCheck(cfg, embedded, id)).severity, 'critical', 'root-owned store: the user cannot write');
  for (const d of [state, path.join(state, 'store')]) fs.chownSync(d, user.uid, user.gid);
  assert.equal((await storeCheck(cfg, embedded, id)).severity, 'ok');
});

test('EX_GBM_4420 (issue #12): submission.mode monitor is a warning in `status` and in /metrics (value 1), enforce is ok', async () => {
  writeRecord(new Date());
  const monitorFile = path.join(dir, 'monitor.yaml');
  fs.writeFileSync(monitorFile, configText('submission: { mode: monitor }\n'));
  const status = await runCliInProcess(['--config', monitorFile, 'status']);
  assert.match(
    status.stdout,
    /^WARN\s+submission\.mode\s+submission\.mode is monitor: the sending rules .* only log "would refuse" and every message goes through/m,
  );
  assert.match((await runCliInProcess(['--config', configFile, 'status'])).stdout, /^OK\s+submission\.mode\s+submission\.mode is enforce/m);
  const [port] = await freePorts(1);
  const config = load(`submission: { mode: monitor }\nhealth: { metrics: { enabled: true, listen: { port: ${port} } } }\n`);
  const shared = new SharedResources(config, silentLogger);
  const service = new MetricsService(config, silentLogger, shared);
  await service.start();
  try {
    const body = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    assert.match(body, /mss_check_status\{check="submission\.mode",subject="",requirement="EX_GBM_4420"\} 1/);
    assert.match(body, /mss_check_value\{check="submission\.mode",subject=""\} 1/);
  } finally {
    await service.stop();
    await shared.close();
  }
});
