// The Debian package, end to end: `make deb` in a fresh clone, lintian, an installation with
// no network, an upgrade to a rebuilt package with a higher version, removal and purge.
//
// It installs the real package on this machine, not into a throwaway root: a root that can
// run the maintainer scripts (dpkg --root chroots into it) needs a whole Debian system with
// Node.js 20 from NodeSource inside (minutes and hundreds of MB of downloads per run),
// whereas here the real dpkg, the real Postfix and Dovecot packages it depends on and the
// real systemd-sysusers/-tmpfiles run, and two guards keep the machine as it was: the test
// refuses to start when an mss-sidecar installation it did not make exists, and it purges
// what it installed at the end, even on failure (a marker file lets the next run purge what
// a killed run left). Runs of several worktrees take turns (a machine-wide lock). Every
// dpkg operation runs in private network and mount namespaces (test/helpers/fake-systemd.ts):
// no network, and a stub systemctl that records what the maintainer scripts ask of systemd,
// which is not PID 1 here.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test, type TestContext } from 'node:test';
import { REPO_ROOT, type CliResult } from '../helpers/cli.js';
import { FakeSystemd } from '../helpers/fake-systemd.js';
import { machineLock } from '../helpers/machine-lock.js';
import { tmpDir } from '../helpers/tmp.js';

const PKG = 'mss-sidecar';
const SERVE = 'mss-sidecar.service';
const MARKER = '/var/tmp/mss-sidecar-package-test.installed';
const CONF = '/etc/mss-sidecar/config.yaml';
const STATE = '/var/lib/mss-sidecar';
const SHARE = '/usr/share/mss-sidecar';
/** What the package installs or creates: none may exist before the test (unless it left it). */
/** The milter's socket directory in Postfix's spool (milter.listen), made by the postinst. */
const MILTER_DIR = '/var/spool/postfix/mss-sidecar';
const FOOTPRINT = ['/etc/mss-sidecar', STATE, '/usr/bin/mss-sidecar', SHARE, '/etc/sudoers.d/mss-sidecar', MILTER_DIR];
const STATE_MARK = path.join(STATE, 'package-test.state');
const SITE_LINE = `# site edit by the package test ${crypto.randomUUID()}\n`;

function run(cmd: string, args: string[], opts: { cwd?: string; timeoutMs?: number; env?: Record<string, string> } = {}): CliResult {
  const r = spawnSync(cmd, args, {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 120_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  return { status: r.status ?? -1, stdout: r.stdout ?? '', stderr: `${r.stderr ?? ''}${r.error ? `\n${r.error.message}` : ''}` };
}

function ok(r: CliResult, what: string): CliResult {
  assert.equal(r.status, 0, `${what} failed (exit ${r.status})\n${r.stdout.slice(-6000)}\n${r.stderr.slice(-6000)}`);
  return r;
}

/** dpkg's two-letter state of the package ("ii", "rc"), or "" when dpkg does not know it. */
function dpkgState(): string {
  const r = run('dpkg-query', ['-W', '-f', '${db:Status-Abbrev}', PKG]);
  return r.status === 0 ? r.stdout.trim() : '';
}

/** Path → type, mode, owner and content hash of every entry under the directories. */
function snapshot(dirs: string[]): Map<string, string> {
  const out = new Map<string, string>();
  const visit = (p: string): void => {
    const st = fs.lstatSync(p);
    let what = `${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}`;
    if (st.isSymbolicLink()) what += ` -> ${fs.readlinkSync(p)}`;
    else if (st.isFile()) what += ` ${crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex')}`;
    out.set(p, what);
    if (st.isDirectory()) for (const e of fs.readdirSync(p)) visit(path.join(p, e));
  };
  for (const d of dirs) if (fs.existsSync(d)) visit(d);
  return out;
}

function modeOf(p: string): { mode: string; owner: string } {
  const st = fs.lstatSync(p);
  const name = (id: number, db: string): string => run('getent', [db, String(id)]).stdout.split(':')[0] ?? String(id);
  return { mode: (st.mode & 0o7777).toString(8).padStart(4, '0'), owner: `${name(st.uid, 'passwd')}:${name(st.gid, 'group')}` };
}

/** Verbs the stub systemctl received, e.g. "restart mss-sidecar.service". */
function verbs(calls: string[]): string[] {
  return calls.map((c) =>
    c
      .split(/\s+/)
      .filter((a) => a !== '' && !a.startsWith('-'))
      .join(' '),
  );
}

const STARTING = /^(?:start|restart|try-restart|reload-or-restart|try-reload-or-restart|enable|reenable|unmask) /;

const systemd = new FakeSystemd();
const work = tmpDir('mss-deb-');
const clone = path.join(work, 'clone');
let releaseLock: (() => void) | undefined;
let mtaBefore = new Map<string, string>();
let version = '';
let debFirst = '';
let debSecond = '';
let versionSecond = '';
let broken = '';

/** A step of the sequence; once one fails, the later ones are skipped with its name. */
function step(title: string, fn: (t: TestContext) => void | Promise<void>): void {
  test(title, async (t) => {
    if (broken) return t.skip(`an earlier step failed: ${broken}`);
    try {
      await fn(t);
    } catch (err) {
      broken = title;
      throw err;
    }
  });
}

function aptGet(args: string[]): CliResult {
  return systemd.run(['apt-get', '-y', '--no-install-recommends', '-o', 'DPkg::Lock::Timeout=300', '-o', 'Dpkg::Options::=--force-confold', ...args]);
}

function purgeLeftovers(): void {
  if (dpkgState() !== '')
    ok(
      run('apt-get', ['purge', '-y', '-o', 'DPkg::Lock::Timeout=300', PKG], { env: { DEBIAN_FRONTEND: 'noninteractive' }, timeoutMs: 300_000 }),
      "purging the package test's leftovers",
    );
}

before(async () => {
  // Other worktrees' runs of this test go first, 5-10 minutes each under load: scripts/run-tests.sh
  // gives this file its own deadline (PACKAGE_TEST_TIMEOUT_MS, 60 min) so that it can wait here
  // rather than time out; 50 minutes leaves its own run the rest.
  releaseLock = await machineLock('mss-sidecar-package-test', 50 * 60_000);
  if (fs.existsSync(MARKER)) purgeLeftovers();
  const present = FOOTPRINT.filter((p) => fs.existsSync(p));
  const state = dpkgState();
  if (state !== '' || present.length > 0) {
    broken = 'the machine guard';
    throw new Error(
      `refusing to run: this machine has an mss-sidecar installation the package test did not make (dpkg: "${state}", present: ${present.join(', ')}). The test installs and purges the real package; run it on a machine without one.`,
    );
  }
  mtaBefore = snapshot(['/etc/postfix', '/etc/dovecot']);
});

after(() => {
  try {
    if (fs.existsSync(MARKER)) purgeLeftovers();
    fs.rmSync(MARKER, { force: true });
  } finally {
    releaseLock?.();
  }
});

step('make deb builds mss-sidecar_<version>_all.deb from a fresh clone, with the production node_modules only', () => {
  ok(run('git', ['clone', '--quiet', REPO_ROOT, clone]), 'git clone');
  version = (JSON.parse(fs.readFileSync(path.join(clone, 'package.json'), 'utf8')) as { version: string }).version;
  const started = Date.now();
  const r = ok(run('make', ['deb'], { cwd: clone, timeoutMs: 10 * 60_000, env: { DEB_XZ_LEVEL: '1' } }), 'make deb');
  debFirst = path.join(clone, 'build', `${PKG}_${version.replace(/^(\d+\.\d+\.\d+)-/, '$1~')}_all.deb`);
  assert.ok(fs.existsSync(debFirst), `${debFirst} built\n${r.stdout.slice(-2000)}`);
  process.stderr.write(`# make deb in a fresh clone: ${Date.now() - started} ms, ${fs.statSync(debFirst).size} bytes\n`);

  const field = (f: string): string => ok(run('dpkg-deb', ['-f', debFirst, f]), `dpkg-deb -f ${f}`).stdout.trim();
  assert.equal(field('Package'), PKG);
  assert.equal(field('Architecture'), 'all');
  const depends = field('Depends');
  for (const d of ['nodejs (>= 20.10)', 'postfix', 'dovecot-core', 'dovecot-imapd', 'dovecot-lmtpd', 'dovecot-auth-lua'])
    assert.ok(depends.split(/,\s*/).includes(d), `Depends: ${d} (${depends})`);
  assert.match(field('Recommends'), /(?:^|, )redis-server(?:,|$)/);

  const files = ok(run('dpkg-deb', ['-c', debFirst]), 'dpkg-deb -c')
    .stdout.split('\n')
    .map((l) =>
      l
        .split(/\s+/)
        .slice(5)
        .join(' ')
        .replace(/^\./, '')
        .replace(/ -> .*$/, ''),
    );
  const has = (p: string): boolean => files.includes(p) || files.includes(`${p}/`);
  for (const p of [
    '/usr/bin/mss-sidecar',
    `${SHARE}/dist/src/cli/main.js`,
    // The sandbox, a project of its own, ships beside the product: `mss-sidecar sandbox` opens it by this path.
    `${SHARE}/dist/sandbox/door.js`,
    `${SHARE}/package.json`,
    `${SHARE}/bin/mss-sidecar`,
    `${SHARE}/postfix/main.cf.d`,
    `${SHARE}/dovecot/mss-lps-auth.lua`,
    `${SHARE}/examples/registry.yaml`,
    `${SHARE}/scripts/postfix-apply.sh`,
    '/lib/systemd/system/mss-sidecar.service',
    '/lib/systemd/system/mss-sidecar-stats.timer',
    CONF,
    '/etc/sudoers.d/mss-sidecar',
    '/usr/lib/sysusers.d/mss-sidecar.conf',
    '/usr/lib/tmpfiles.d/mss-sidecar.conf',
    '/usr/share/doc/mss-sidecar/install.md',
    '/usr/share/man/man1/mss-sidecar.1.gz',
  ]) {
    assert.ok(has(p), `the package holds ${p}`);
  }
  // Every production dependency, no development one, no test or build output.
  const pkg = JSON.parse(fs.readFileSync(path.join(clone, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
    devDependencies: Record<string, string>;
  };
  for (const d of Object.keys(pkg.dependencies)) assert.ok(has(`${SHARE}/node_modules/${d}`), `node_modules/${d} is shipped`);
  for (const d of Object.keys(pkg.devDependencies)) assert.ok(!has(`${SHARE}/node_modules/${d}`), `node_modules/${d} (a dev dependency) is not shipped`);
  assert.ok(
    !files.some(
      (f) =>
        f.startsWith(`${SHARE}/dist/test`) ||
        f.startsWith(`${SHARE}/dist/types`) ||
        f.startsWith(`${SHARE}/src/`) ||
        f.startsWith(`${SHARE}/sandbox/`) ||
        f.includes('/.eslintrc') ||
        f.endsWith('/.npmignore'),
    ),
    "no tests, TypeScript sources or modules' development files",
  );
  assert.ok(!files.some((f) => f.startsWith('/var/lib/mss-sidecar')), 'the state directory is made by tmpfiles, not shipped (dpkg would delete it on remove)');
});

step('lintian finds no error and no warning in the package (the overrides say why)', () => {
  const started = Date.now();
  const r = run('lintian', ['--fail-on', 'error,warning', '--display-info', '--tag-display-limit', '0', debFirst], { timeoutMs: 10 * 60_000 });
  const tags = r.stdout.split('\n').filter((l) => /^[EWIPXO]: /.test(l));
  const count = (k: string): number => tags.filter((l) => l.startsWith(`${k}: `)).length;
  process.stderr.write(`# lintian: ${count('E')} errors, ${count('W')} warnings, ${count('I')} info tags, ${Date.now() - started} ms\n`);
  assert.equal(r.status, 0, `lintian: ${tags.filter((l) => /^[EW]: /.test(l)).join('\n')}\n${r.stderr.slice(-2000)}`);
  assert.deepEqual(
    tags.filter((l) => /^[EW]: /.test(l)),
    [],
  );
});

step('a rebuilt package with a higher version: only package.json, CHANGELOG.md and a Postfix piece changed', () => {
  versionSecond = `${version}+pkgtest.1`;
  const pj = path.join(clone, 'package.json');
  fs.writeFileSync(pj, fs.readFileSync(pj, 'utf8').replace(`"version": "${version}"`, `"version": "${versionSecond}"`));
  const cl = path.join(clone, 'CHANGELOG.md');
  const today = new Date().toISOString().slice(0, 10);
  fs.writeFileSync(
    cl,
    fs
      .readFileSync(cl, 'utf8')
      .replace(/^## \[Unreleased\]\n/m, `## [Unreleased]\n\n## [${versionSecond}] - ${today}\n\n### Changed\n- A rebuild by the package test.\n`),
  );
  const piece = path.join(clone, 'postfix', 'main.cf.d', '20-submission-limits.cf');
  fs.appendFileSync(piece, '# changed by the package test\n');
  // dist/ is the clone's, compiled by the first `make deb` from unchanged sources.
  const started = Date.now();
  ok(run('debian/build-deb.sh', [], { cwd: clone, timeoutMs: 10 * 60_000, env: { DEB_XZ_LEVEL: '1' } }), 'debian/build-deb.sh (rebuild)');
  debSecond = path.join(clone, 'build', `${PKG}_${versionSecond}_all.deb`);
  assert.ok(fs.existsSync(debSecond));
  process.stderr.write(`# rebuild with a higher version: ${Date.now() - started} ms\n`);
  assert.equal(ok(run('dpkg', ['--compare-versions', versionSecond, 'gt', version]), 'dpkg --compare-versions').status, 0);
});

step('the package installs with no network: the service user and the 0700 state directory, nothing started or enabled, Postfix and Dovecot untouched', () => {
  const sim = ok(run('apt-get', ['install', '-s', '--no-install-recommends', debFirst]), 'apt-get install -s');
  const inst = sim.stdout.split('\n').filter((l) => l.startsWith('Inst '));
  assert.deepEqual(
    inst.map((l) => l.split(' ')[1]),
    [PKG],
    `every dependency is installed (run scripts/install-system-deps.sh):\n${inst.join('\n')}`,
  );
  fs.writeFileSync(MARKER, `${process.pid}\n`);
  const started = Date.now();
  const r = ok(aptGet(['install', debFirst]), 'apt-get install (no network)');
  process.stderr.write(`# apt-get install: ${Date.now() - started} ms\n`);
  assert.equal(dpkgState(), 'ii');
  assert.match(r.stdout, /nothing was started or enabled/);
  assert.match(r.stdout, new RegExp(`${SHARE}/scripts/postfix-apply\\.sh -n`), 'the Postfix step is printed, not done');
  const asked = verbs(systemd.calls());
  // daemon-reload also shows that the maintainer scripts saw the stub systemd.
  assert.deepEqual(asked, ['daemon-reload'], 'systemd reads the units; nothing is started or enabled');
  const user = run('getent', ['passwd', PKG]).stdout.trim().split(':');
  assert.equal(user[5], STATE);
  assert.equal(user[6], '/usr/sbin/nologin');
  assert.ok(Number(user[2]) < 1000, `a system user (uid ${user[2]})`);
  assert.deepEqual(modeOf(STATE), { mode: '0700', owner: 'mss-sidecar:mss-sidecar' }, "EX_GDT_5010: the state directory (traces) is the service user's only");
  assert.deepEqual(snapshot(['/etc/postfix', '/etc/dovecot']), mtaBefore, 'the Postfix and Dovecot configuration is unchanged');
});

step('the installed files have their owners and modes, and the shipped pieces name paths that exist', () => {
  const expect: Array<[string, string, string]> = [
    ['/etc/mss-sidecar', '0770', 'root:mss-sidecar'],
    [CONF, '0640', 'root:mss-sidecar'],
    ['/etc/mss-sidecar/tls', '0750', 'root:mss-sidecar'],
    ['/etc/mss-sidecar/igc-sante', '0750', 'root:mss-sidecar'],
    ['/etc/sudoers.d/mss-sidecar', '0440', 'root:root'],
    ['/lib/systemd/system/mss-sidecar.service', '0644', 'root:root'],
    [`${SHARE}/bin/mss-sidecar`, '0755', 'root:root'],
    [`${SHARE}/scripts/postfix-apply.sh`, '0755', 'root:root'],
    // EX_GBM_4420: only the service user creates the milter's socket there, only Postfix reaches it
    // (docs/install.md, "The perimeter").
    [MILTER_DIR, '0750', 'mss-sidecar:postfix'],
  ];
  for (const [p, mode, owner] of expect) assert.deepEqual(modeOf(p), { mode, owner }, p);
  assert.equal(fs.realpathSync('/usr/bin/mss-sidecar'), `${SHARE}/bin/mss-sidecar`);
  // Nothing of the package is writable beyond root, or setuid.
  const listed = ok(run('dpkg', ['-L', PKG]), 'dpkg -L')
    .stdout.split('\n')
    .filter((p) => p.startsWith('/') && fs.existsSync(p));
  for (const p of listed) {
    const st = fs.lstatSync(p);
    if (st.isSymbolicLink()) continue;
    if (p === '/etc/mss-sidecar') continue; // group-writable on purpose: the jobs edit the registry
    assert.equal(st.mode & 0o7022, 0, `${p} is ${(st.mode & 0o7777).toString(8)}`);
    assert.equal(st.uid, 0, `${p} belongs to root`);
  }
  ok(run('visudo', ['-c']), 'visudo -c (the whole sudoers configuration still parses)');
  // The from-source paths (/opt/mss-sidecar) were rewritten; every path they name exists.
  const pieces = [
    ...snapshot([`${SHARE}/dovecot`, `${SHARE}/postfix`]).keys(),
    ...fs
      .readdirSync('/lib/systemd/system')
      .filter((f) => f.startsWith('mss-sidecar'))
      .map((f) => `/lib/systemd/system/${f}`),
  ].filter((p) => fs.statSync(p).isFile());
  for (const p of pieces) {
    const text = fs.readFileSync(p, 'utf8');
    assert.ok(!text.includes('/opt/mss-sidecar'), `${p} names no /opt/mss-sidecar path`);
    for (const m of text.matchAll(/(\/usr\/(?:share\/(?:doc\/)?mss-sidecar|bin\/mss-sidecar)[^\s"'`<>),]*)/g)) {
      assert.ok(fs.existsSync((m[1] as string).replace(/[.:;]+$/, '')), `${p} names ${m[1]}, which exists`);
    }
  }
});

step(
  "mss-sidecar --version prints package.json's version; every dependency loads; the shipped config.yaml passes config check as the service user with the sandbox PKI in place",
  () => {
    assert.equal(ok(run('/usr/bin/mss-sidecar', ['--version']), '--version').stdout.trim(), version);
    // Each production dependency loads from the installed tree: the pruning removed nothing it needs.
    const load = `const deps = Object.keys(JSON.parse(await (await import('node:fs')).promises.readFile('package.json', 'utf8')).dependencies);
await import('reflect-metadata');
for (const d of deps) await import(d);
console.log(deps.length);`;
    const loaded = ok(run(process.execPath, ['--input-type=module', '-e', load], { cwd: SHARE }), 'importing every dependency from the installed package');
    assert.ok(Number(loaded.stdout.trim()) >= 10, loaded.stdout);
    // The installed package generates the sandbox PKI itself: its sandbox code and modules work.
    const pki = path.join(work, 'pki');
    ok(run('/usr/bin/mss-sidecar', ['sandbox', 'pki', '--out', pki], { timeoutMs: 120_000 }), 'mss-sidecar sandbox pki');
    const manifest = JSON.parse(fs.readFileSync(path.join(pki, 'pki.json'), 'utf8')) as {
      operators: Array<{ cert: string; key: string }>;
      https: { cert: string; key: string };
      trustDir: string;
    };
    const op = manifest.operators[0];
    assert.ok(op);
    const put = (from: string, to: string, owner: string, mode: string): void => {
      ok(run('install', ['-o', owner, '-g', 'mss-sidecar', '-m', mode, path.join(pki, from), to]), `install ${to}`);
    };
    // Where the shipped config.yaml expects them, with the modes docs/install.md gives.
    put(op.cert, '/etc/mss-sidecar/tls/operator.crt', 'root', '0644');
    put(op.key, '/etc/mss-sidecar/tls/operator.key', 'mss-sidecar', '0600');
    put(manifest.https.cert, '/etc/mss-sidecar/tls/lps.crt', 'root', '0644');
    put(manifest.https.key, '/etc/mss-sidecar/tls/lps.key', 'mss-sidecar', '0600');
    for (const ca of fs.readdirSync(path.join(pki, manifest.trustDir)))
      put(path.join(manifest.trustDir, ca), `/etc/mss-sidecar/igc-sante/${ca.replace(/\.crt$/, '.pem')}`, 'root', '0644');
    ok(
      run('install', ['-o', 'mss-sidecar', '-g', 'mss-sidecar', '-m', '0640', `${SHARE}/examples/registry.yaml`, '/etc/mss-sidecar/registry.yaml']),
      'install registry.yaml',
    );
    const check = ok(
      run('runuser', ['-u', 'mss-sidecar', '--', '/usr/bin/mss-sidecar', 'config', 'check'], { cwd: '/' }),
      'config check of the shipped config.yaml',
    );
    assert.match(check.stdout, new RegExp(`configuration ${CONF} is valid`));
    // The site's edit and the state the upgrade and the removal must keep.
    fs.appendFileSync(CONF, SITE_LINE);
    ok(run('runuser', ['-u', 'mss-sidecar', '--', 'sh', '-c', `echo kept > ${STATE_MARK}`], { cwd: '/' }), 'writing state as the service user');
  },
);

step(
  'an upgrade to the rebuilt package keeps the edited configuration and the state, runs config check, restarts the running serve, prints the postfix-apply.sh command for the changed piece',
  () => {
    const confBefore = fs.readFileSync(CONF);
    systemd.setActive([SERVE]);
    systemd.clearCalls();
    const started = Date.now();
    const r = ok(aptGet(['install', debSecond]), 'apt-get install (upgrade, no network)');
    process.stderr.write(`# apt-get upgrade: ${Date.now() - started} ms\n`);
    assert.equal(ok(run('/usr/bin/mss-sidecar', ['--version']), '--version').stdout.trim(), versionSecond);
    assert.ok(fs.readFileSync(CONF).equals(confBefore), "config.yaml is the site's, byte for byte");
    assert.equal(fs.readFileSync(STATE_MARK, 'utf8'), 'kept\n');
    assert.deepEqual(modeOf(CONF), { mode: '0640', owner: 'root:mss-sidecar' });
    assert.match(r.stdout, new RegExp(`upgraded from ${version.replace(/[.+]/g, '\\$&')} to ${versionSecond.replace(/[.+]/g, '\\$&')}`));
    assert.match(r.stdout, /config check: configuration \/etc\/mss-sidecar\/config\.yaml is valid/);
    const asked = verbs(systemd.calls());
    assert.ok(asked.includes('daemon-reload'), asked.join('; '));
    assert.deepEqual(
      asked.filter((v) => STARTING.test(`${v} `)),
      [`restart ${SERVE}`],
      `systemctl calls: ${asked.join('; ')}`,
    );
    assert.match(r.stdout, /pieces changed: postfix\/main\.cf\.d\/20-submission-limits\.cf/);
    assert.match(r.stdout, new RegExp(`${SHARE}/scripts/postfix-apply\\.sh -n`));
    assert.deepEqual(snapshot(['/etc/postfix', '/etc/dovecot']), mtaBefore, 'the Postfix and Dovecot configuration is unchanged');
  },
);

step('on upgrade the postinst starts nothing when serve was not running, and does not restart it when config check fails', () => {
  const postinst = `/var/lib/dpkg/info/${PKG}.postinst`;
  // What dpkg runs on an upgrade from `version`, with serve stopped.
  systemd.setActive([]);
  systemd.clearCalls();
  let r = ok(systemd.run([postinst, 'configure', version]), 'postinst configure (serve stopped)');
  assert.deepEqual(
    verbs(systemd.calls()).filter((v) => STARTING.test(`${v} `)),
    [],
  );
  assert.match(r.stdout, /was not running: not started/);
  // serve running, and a configuration the new version refuses (an unknown key).
  const good = fs.readFileSync(CONF);
  fs.appendFileSync(CONF, 'notAKey: 1\n');
  try {
    systemd.setActive([SERVE]);
    systemd.clearCalls();
    r = ok(systemd.run([postinst, 'configure', version]), 'postinst configure (invalid configuration)');
    assert.deepEqual(
      verbs(systemd.calls()).filter((v) => STARTING.test(`${v} `)),
      [],
      'no restart',
    );
    assert.match(r.stdout, /config check: .*notAKey/);
    assert.match(r.stdout, /NOT restarted/);
  } finally {
    fs.writeFileSync(CONF, good);
  }
});

step('apt remove stops the units and keeps the configuration and the state', () => {
  systemd.setActive([SERVE]);
  systemd.clearCalls();
  ok(aptGet(['remove', PKG]), 'apt-get remove');
  assert.equal(dpkgState(), 'rc');
  const asked = verbs(systemd.calls());
  assert.ok(
    asked.some((v) => /^stop .*mss-sidecar-whitelist-sync\.timer/.test(v)),
    `timers stopped: ${asked.join('; ')}`,
  );
  assert.ok(
    asked.some((v) => v.startsWith('stop ') && v.split(' ').includes(SERVE)),
    `serve stopped: ${asked.join('; ')}`,
  );
  for (const p of ['/usr/bin/mss-sidecar', SHARE, '/lib/systemd/system/mss-sidecar.service']) assert.ok(!fs.existsSync(p), `${p} removed`);
  assert.ok(fs.readFileSync(CONF, 'utf8').endsWith(SITE_LINE), "config.yaml kept, with the site's edit");
  assert.ok(fs.existsSync('/etc/mss-sidecar/tls/operator.key'), 'keys kept');
  assert.equal(fs.readFileSync(STATE_MARK, 'utf8'), 'kept\n', 'state kept');
});

step('apt purge deletes the configuration and the state; the Postfix and Dovecot configuration is as before the installation', () => {
  systemd.clearCalls();
  ok(aptGet(['purge', PKG]), 'apt-get purge');
  assert.equal(dpkgState(), '');
  for (const p of FOOTPRINT) assert.ok(!fs.existsSync(p), `${p} deleted`);
  assert.equal(run('dpkg-statoverride', ['--list', '/etc/mss-sidecar']).status, 1, 'no statoverride left');
  const dsh = '/var/lib/systemd/deb-systemd-helper-enabled';
  if (fs.existsSync(dsh))
    assert.deepEqual(
      fs.readdirSync(dsh, { recursive: true }).filter((f) => String(f).includes('mss-sidecar')),
      [],
      'no unit state left',
    );
  assert.deepEqual(
    verbs(systemd.calls()).filter((v) => STARTING.test(`${v} `)),
    [],
  );
  assert.deepEqual(snapshot(['/etc/postfix', '/etc/dovecot']), mtaBefore, 'the Postfix and Dovecot configuration is unchanged');
  fs.rmSync(MARKER, { force: true });
});
