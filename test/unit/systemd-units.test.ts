import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { configSchema } from '../../src/config/schema.js';
import { DEFAULT_MILTER_LISTEN, POSTFIX_MILTER_ENDPOINT, formatListen } from '../../src/milter/config.js';
import { tracesDir } from '../../src/traces/config.js';
import { statsUnitEnvironment } from '../../bench/lib/stats-month.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { helpOf, listsOption } from '../helpers/cli-program.js';

function unit(name: string): Map<string, string[]> {
  const keys = new Map<string, string[]>();
  for (const line of fs.readFileSync(path.join(REPO_ROOT, 'systemd', name), 'utf8').split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (m) keys.set(m[1] as string, [...(keys.get(m[1] as string) ?? []), m[2] as string]);
  }
  return keys;
}

test('EX_2.2_5010: the shipped timer runs `whitelist sync` daily, spread and caught up after downtime', () => {
  const timer = unit('mss-sidecar-whitelist-sync.timer');
  assert.deepEqual(timer.get('OnCalendar'), ['daily']);
  assert.ok(timer.get('RandomizedDelaySec'));
  assert.deepEqual(timer.get('Persistent'), ['true']);
  const service = unit('mss-sidecar-whitelist-sync.service');
  assert.match(service.get('ExecStart')?.[0] ?? '', /mss-sidecar .*whitelist sync$/);
  assert.deepEqual(service.get('Type'), ['oneshot']);
  assert.deepEqual(service.get('Restart'), ['on-failure']);
});

test('the sync service is hardened (no privileges, read-only system, only its state directory writable)', () => {
  const service = unit('mss-sidecar-whitelist-sync.service');
  for (const [key, value] of [
    ['NoNewPrivileges', 'yes'],
    ['ProtectSystem', 'strict'],
    ['ProtectHome', 'yes'],
    ['PrivateTmp', 'yes'],
    ['CapabilityBoundingSet', ''],
    ['StateDirectory', 'mss-sidecar'],
    ['User', 'mss-sidecar'],
  ] as const) {
    assert.deepEqual(service.get(key), [value], key);
  }
});

test('EX_PSU_5810 EX_SSU_5820: the stats timer runs `stats run` twice a day on days 1 to 5 (reports are asked again 12 h later)', () => {
  const timer = unit('mss-sidecar-stats.timer');
  assert.deepEqual(timer.get('OnCalendar'), ['*-*-01..05 00:30:00', '*-*-01..05 13:00:00']);
  assert.deepEqual(timer.get('Persistent'), ['true']);
  const service = unit('mss-sidecar-stats.service');
  assert.match(service.get('ExecStart')?.[0] ?? '', /mss-sidecar stats run --once-per hour$/);
  assert.deepEqual(service.get('Type'), ['oneshot']);
  assert.deepEqual(service.get('NoNewPrivileges'), ['yes']);
});

// Issue 20: the build's peak memory (< 100 MB over 1,000,000 recipient events) depends on the
// unit's environment, which bench/stats.ts and test/integration/stats-memory.test.ts read
// with statsUnitEnvironment: both must see what systemd gives the process.
test('the stats unit runs with a 1 MB young generation, --expose-gc (periodic full collections in `stats build`) and one malloc arena; `serve` keeps the defaults', () => {
  const env = statsUnitEnvironment(REPO_ROOT);
  assert.deepEqual(env.NODE_OPTIONS?.split(' ').sort(), ['--expose-gc', '--max-semi-space-size=1']);
  assert.equal(env.MALLOC_ARENA_MAX, '1');
  // systemd's own reading of the quoted assignment: one variable, spaces included.
  const raw = unit('mss-sidecar-stats.service').get('Environment') ?? [];
  assert.ok(raw.includes('"NODE_OPTIONS=--max-semi-space-size=1 --expose-gc"'), raw.join(' | '));
  // Node accepts both flags in NODE_OPTIONS (it refuses most V8 flags there).
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(typeof globalThis.gc)'], {
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: env.NODE_OPTIONS },
  });
  assert.equal(r.stdout, 'function', r.stderr);
  const daemon = unit(DAEMON).get('Environment') ?? [];
  assert.deepEqual(
    daemon.filter((e) => /NODE_OPTIONS|MALLOC_/.test(e)),
    [],
  );
});

const minutes = (s: string): number => Number(/^(\d+)min$/.exec(s)?.[1] ?? NaN);

test('RE_1.1.1_5020, EX_1.1.1_5030: the shipped timers publish before the 02:00 batch (Paris time, spread included) and fetch reports after 04:00', () => {
  const pub = unit('mss-sidecar-annuaire-publish.timer');
  const [at] = pub.get('OnCalendar') ?? [];
  const m = /^\*-\*-\* (\d\d):(\d\d):00 Europe\/Paris$/.exec(at ?? '');
  assert.ok(m, at);
  const start = Number(m[1]) * 60 + Number(m[2]);
  assert.ok(start + minutes(pub.get('RandomizedDelaySec')?.[0] ?? '') < 2 * 60, 'the latest start is before 02:00');
  assert.deepEqual(pub.get('Persistent'), ['true']);
  assert.match(
    unit('mss-sidecar-annuaire-publish.service').get('ExecStart')?.[0] ?? '',
    /mss-sidecar .*annuaire publish --actor system:annuaire --once-per day$/,
  );
  assert.deepEqual(unit('mss-sidecar-annuaire-publish.service').get('RestartPreventExitStatus'), ['1 2'], 'blocking anomalies are not retried');

  const rep = unit('mss-sidecar-annuaire-report.timer');
  const r = /^\*-\*-\* ([\d,]+):(\d\d):00 Europe\/Paris$/.exec(rep.get('OnCalendar')?.[0] ?? '');
  assert.ok(r);
  for (const h of (r[1] as string).split(',').map(Number)) assert.ok(h >= 4, `hour ${h} is after the batch`);
  const service = unit('mss-sidecar-annuaire-report.service');
  assert.match(service.get('ExecStart')?.[0] ?? '', /annuaire report --actor system:annuaire --once-per hour$/);
  // EX_PBA_5100: the report writes corrected identifiers to the registry under /etc/mss-sidecar.
  assert.deepEqual(service.get('ReadWritePaths'), ['/etc/mss-sidecar']);
  assert.deepEqual(unit('mss-sidecar-annuaire-publish.service').get('ReadOnlyPaths'), ['/etc/mss-sidecar']);
  for (const s of [service, unit('mss-sidecar-annuaire-publish.service')]) {
    assert.deepEqual(s.get('NoNewPrivileges'), ['yes']);
    assert.deepEqual(s.get('ProtectSystem'), ['strict']);
    assert.deepEqual(s.get('User'), ['mss-sidecar']);
  }
});

// The daemon: `mss-sidecar serve` (src/daemon/run.ts), systemd/mss-sidecar.service.

const DAEMON = 'mss-sidecar.service';
const CONFIG = '/etc/mss-sidecar/config.yaml';

test('EX_OPE_5020 EX_LPS_0400 EX_LPS_0500 EX_LPS_0900: the daemon runs `serve` as mss-sidecar and may bind ports 25, 587 and 143, and the loopback checker and events ports below 1024, with CAP_NET_BIND_SERVICE, its only capability', () => {
  const service = unit(DAEMON);
  assert.deepEqual(service.get('ExecStart'), [`/usr/bin/mss-sidecar --config ${CONFIG} serve`]);
  assert.deepEqual(service.get('User'), ['mss-sidecar']);
  assert.deepEqual(service.get('Group'), ['mss-sidecar']);
  assert.deepEqual(service.get('AmbientCapabilities'), ['CAP_NET_BIND_SERVICE']);
  assert.deepEqual(service.get('CapabilityBoundingSet'), ['CAP_NET_BIND_SERVICE']);
  assert.deepEqual(service.get('NoNewPrivileges'), ['yes']);

  // What the capability is for: with the gates and the API LPS on, the default listeners
  // below 1024 are exactly the inbound gate's 25, the fronts' 587 and 143, and the loopback
  // ports no other local user may take while serve is stopped: the checker's 425 and the
  // Dovecot events' 426 (docs/install.md, "The perimeter"). No other TCP listener.
  const config = configSchema.parse({
    operator: { name: 'x', domains: ['a.mssante.fr'], structureId: '1130099991', certificate: '/c', key: '/k' },
    trust: { dir: '/t' },
    gates: { in: { enabled: true }, out: { enabled: true } },
    milter: { enabled: true },
    auth: { psc: { audience: 'x' } },
    health: { metrics: { enabled: true } },
    traces: { dovecotEvents: { enabled: true } },
  });
  const auth = config.auth;
  assert.ok(auth);
  const milter = config.milter.listen;
  const ports = [
    config.gates.in.listen.port,
    config.gates.out.listen.endpoint.kind === 'inet' ? config.gates.out.listen.endpoint.port : Infinity,
    auth.front.submission.listen.port,
    auth.front.imap.listen.port,
    auth.checker.listen.port,
    config.health.metrics.listen.port,
    config.traces.dovecotEvents.listen.port,
    milter.kind === 'inet' ? milter.port : Infinity,
  ];
  assert.deepEqual(
    ports.filter((p) => p < 1024).sort((a, b) => a - b),
    [25, 143, 425, 426, 587],
  );
  assert.equal(milter.kind, 'unix', 'the milter is a unix socket');
});

test('the daemon unit: Type=simple (serve has no sd_notify), `systemctl reload` sends SIGHUP, restarts on failure but not on a bad configuration', () => {
  const service = unit(DAEMON);
  const sources = (dir: string): string[] =>
    fs
      .readdirSync(dir, { withFileTypes: true })
      .flatMap((e) => (e.isDirectory() ? sources(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
  const notifies = sources(path.join(REPO_ROOT, 'src')).filter((f) => /NOTIFY_SOCKET|sd_notify/.test(fs.readFileSync(f, 'utf8')));
  assert.deepEqual(notifies, [], 'serve speaks sd_notify now: make the unit Type=notify');
  assert.deepEqual(service.get('Type'), ['simple']);

  assert.deepEqual(service.get('ExecReload'), ['/bin/kill -HUP $MAINPID']);
  assert.match(
    fs.readFileSync(path.join(REPO_ROOT, 'src', 'daemon', 'run.ts'), 'utf8'),
    /signals\.on\('SIGHUP', onHangup\)/,
    'serve reloads on SIGHUP (behaviour: daemon-signals.test)',
  );

  assert.deepEqual(service.get('Restart'), ['on-failure']);
  const restartSec = /^(\d+)s$/.exec(service.get('RestartSec')?.[0] ?? '');
  assert.ok(restartSec && Number(restartSec[1]) <= 10, 'a crashed gate is back within seconds');
  assert.deepEqual(service.get('RestartPreventExitStatus'), ['2'], 'exit 2: invalid configuration (src/cli/run-action.ts)');
  assert.deepEqual(service.get('RestartForceExitStatus'), ['SIGHUP'], 'a reload during start-up is not a clean stop');
  const stop = /^(\d+)s$/.exec(service.get('TimeoutStopSec')?.[0] ?? '');
  assert.ok(stop && Number(stop[1]) >= 15, 'the gates (5 s closeTimeout) and the milter (2 s) drain before SIGKILL');
  assert.ok(Number(service.get('LimitNOFILE')?.[0]) >= 16384, 'thousands of SMTP sessions, two sockets each');
  assert.deepEqual(service.get('WantedBy'), ['multi-user.target']);
});

test('the daemon unit starts after Postfix and Dovecot and wants them, without requiring them (the gates answer 451 while Postfix is down)', () => {
  const service = unit(DAEMON);
  const words = (key: string): string[] => (service.get(key) ?? []).flatMap((v) => v.split(/\s+/)).filter(Boolean);
  for (const mta of ['postfix.service', 'dovecot.service']) {
    assert.ok(words('Wants').includes(mta), `Wants=${mta}`);
    assert.ok(words('After').includes(mta), `After=${mta}`);
  }
  for (const key of ['Requires', 'Requisite', 'BindsTo', 'PartOf']) assert.equal(service.get(key), undefined, `no ${key}=`);
  assert.ok(words('After').includes('network-online.target'));
});

test("the daemon unit has the jobs' hardening and writes only its state directory, where the stores live by default", () => {
  const service = unit(DAEMON);
  const job = unit('mss-sidecar-whitelist-sync.service');
  const hardening = [
    'NoNewPrivileges',
    'ProtectSystem',
    'ProtectHome',
    'ReadOnlyPaths',
    'PrivateTmp',
    'PrivateDevices',
    'ProtectKernelTunables',
    'ProtectKernelModules',
    'ProtectKernelLogs',
    'ProtectControlGroups',
    'ProtectClock',
    'ProtectHostname',
    'ProtectProc',
    'RestrictAddressFamilies',
    'RestrictNamespaces',
    'RestrictRealtime',
    'RestrictSUIDSGID',
    'LockPersonality',
    'MemoryDenyWriteExecute',
    'SystemCallArchitectures',
    'SystemCallFilter',
    'StateDirectory',
    'StateDirectoryMode',
    'UMask',
  ];
  for (const key of hardening) assert.deepEqual(service.get(key), job.get(key), key);
  assert.deepEqual(service.get('ProtectSystem'), ['strict']);
  assert.deepEqual(service.get('ReadOnlyPaths'), ['/etc/mss-sidecar'], 'the daemon never writes the registry');
  // Nothing writable beyond StateDirectory but the milter's socket directory in Postfix's spool.
  assert.deepEqual(service.get('ReadWritePaths'), ['-/var/spool/postfix/mss-sidecar']);

  // StateDirectory=mss-sidecar is /var/lib/mss-sidecar: the default state.dir, and the
  // traces under it; the milter listens in its directory of Postfix's spool.
  const config = configSchema.parse({
    operator: { name: 'x', domains: ['a.mssante.fr'], structureId: '1130099991', certificate: '/c', key: '/k' },
    trust: { dir: '/t' },
  });
  const stateDir = `/var/lib/${service.get('StateDirectory')?.[0]}`;
  assert.equal(config.state.dir, stateDir);
  assert.ok(tracesDir(config.traces, config.state.dir).startsWith(`${stateDir}/`));
  assert.equal(formatListen(config.milter.listen), DEFAULT_MILTER_LISTEN);
  assert.equal(path.dirname(DEFAULT_MILTER_LISTEN.slice('unix:'.length)), '/var/spool/postfix/mss-sidecar');
  const piece = fs.readFileSync(path.join(REPO_ROOT, 'postfix', 'main.cf.d', '20-submission-milter.cf'), 'utf8');
  assert.match(piece, new RegExp(`^mss_submission_milter = \\{ ${POSTFIX_MILTER_ENDPOINT},`, 'm'));
});

// Every shipped service runs a command that exists: a renamed or removed command (or option)
// breaks this test rather than a timer at 3 a.m.

/** argv of each ExecStart= after the program and its configuration option. */
function execCommands(name: string): string[][] {
  return (unit(name).get('ExecStart') ?? []).map((line) => {
    const m = /^\/usr\/bin\/mss-sidecar(?: --config \/etc\/mss-sidecar\/config\.yaml)? (.+)$/.exec(line);
    assert.ok(m, `${name}: ExecStart=${line} runs /usr/bin/mss-sidecar [--config ${CONFIG}] <command>`);
    return (m[1] as string).split(/\s+/);
  });
}

test('every shipped .service runs a real CLI command with real options, and reads /etc/mss-sidecar/config.yaml', async () => {
  const services = fs
    .readdirSync(path.join(REPO_ROOT, 'systemd'))
    .filter((f) => f.endsWith('.service'))
    .sort();
  assert.ok(services.includes(DAEMON));
  const checked: string[] = [];
  for (const name of services) {
    const service = unit(name);
    const viaFlag = (service.get('ExecStart') ?? []).every((l) => l.includes(` --config ${CONFIG} `));
    const viaEnv = (service.get('Environment') ?? []).includes(`MSS_SIDECAR_CONFIG=${CONFIG}`);
    assert.ok(viaFlag || viaEnv, `${name}: --config ${CONFIG} or Environment=MSS_SIDECAR_CONFIG=${CONFIG}`);
    for (const argv of execCommands(name)) {
      const firstOption = argv.findIndex((a) => a.startsWith('-'));
      const words = firstOption < 0 ? argv : argv.slice(0, firstOption);
      const options = argv.filter((a) => a.startsWith('--'));
      assert.ok(words.length > 0, `${name}: a command`);
      const help = await helpOf(words);
      assert.ok(help !== undefined, `${name}: \`${words.join(' ')}\` is a command`);
      for (const option of options) assert.ok(listsOption(help, option), `${name}: ${words.join(' ')} has ${option}`);
      checked.push(words.join(' '));
    }
  }
  assert.ok(checked.includes('serve'));
  assert.ok(checked.length >= services.length);
});

test('every shipped service logs JSON lines to the journal (MSS_LOG_JSON=1), so the error codes can be grepped', () => {
  const services = fs.readdirSync(path.join(REPO_ROOT, 'systemd')).filter((f) => f.endsWith('.service'));
  assert.ok(services.length >= 8);
  for (const name of services) assert.ok(unit(name).get('Environment')?.includes('MSS_LOG_JSON=1'), name);
});

// `systemctl help <unit>` and `systemctl status` show Documentation=: an operator who finds a
// failed timer at night reaches the page that explains the job (lintian notes units without it).
// The from-source path; the package rewrites /opt/mss-sidecar/docs/ to /usr/share/doc/mss-sidecar/.
test('every shipped unit names the documentation of its job (Documentation=), a page the repository has', () => {
  const units = fs.readdirSync(path.join(REPO_ROOT, 'systemd')).filter((f) => /\.(service|timer)$/.test(f));
  assert.ok(units.length >= 15);
  for (const name of units) {
    const docs = unit(name).get('Documentation') ?? [];
    assert.ok(docs.length > 0, `${name}: no Documentation=`);
    for (const uri of docs.flatMap((d) => d.split(/\s+/))) {
      const m = /^file:\/opt\/mss-sidecar\/(docs\/[\w-]+\.md)$/.exec(uri);
      assert.ok(m, `${name}: Documentation=${uri} is not one of the shipped docs`);
      assert.ok(fs.existsSync(path.join(REPO_ROOT, m[1] as string)), `${name}: ${m[1]} does not exist`);
    }
  }
});

// Exposure of every shipped unit as `systemd-analyze security --offline` scores it (Debian's
// systemd package provides it without systemd as PID 1; scripts/install-system-deps.sh
// installs it). 0 is locked down, 10 fully exposed; 2.5 is the ceiling set for this project.
test('every shipped service scores at most 2.5 with `systemd-analyze security --offline`', () => {
  const services = fs
    .readdirSync(path.join(REPO_ROOT, 'systemd'))
    .filter((f) => f.endsWith('.service'))
    .sort();
  const scores: Record<string, number> = {};
  for (const name of services) {
    const r = spawnSync('systemd-analyze', ['security', '--offline=true', '--no-pager', path.join(REPO_ROOT, 'systemd', name)], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(r.error, undefined, 'systemd-analyze is missing: scripts/install-system-deps.sh installs the Debian package systemd');
    const m = /Overall exposure level for \S+: (\d+(?:\.\d+)?)/.exec(r.stdout);
    assert.ok(m, `${name}: ${r.stdout.slice(-500)}${r.stderr}`);
    scores[name] = Number(m[1]);
  }
  assert.deepEqual(
    Object.entries(scores).filter(([, s]) => s > 2.5),
    [],
    JSON.stringify(scores),
  );
  assert.ok(services.length >= 8);
});
