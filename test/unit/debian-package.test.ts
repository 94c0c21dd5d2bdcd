import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { debianChangelog, debianVersion, releasesOf } from '../../scripts/debian-changelog.js';
import { pruneNodeModules } from '../../scripts/prune-node-modules.js';
import { lifecycleSection } from '../../src/lifecycle/config.js';
import { parseConfigText } from '../../src/config/load.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';

const read = (...p: string[]): string => fs.readFileSync(path.join(REPO_ROOT, ...p), 'utf8');
const MAINTAINER = 'A Maintainer <a@example.org>';

const SAMPLE = `# Changelog

## [Unreleased]
- not released yet

## [1.3.0] - 2026-12-01

### Added
- First thing, described on a line long enough to be wrapped at seventy-eight columns by the converter
  with its continuation line.
- Second thing.

## [1.2.0] - 2026-11-01
Initial release.
`;

test("debian/changelog is written from CHANGELOG.md: one entry per dated release from package.json's version down, bullets wrapped", () => {
  assert.deepEqual(
    releasesOf(SAMPLE).map((r) => r.version),
    ['1.3.0', '1.2.0'],
  );
  const text = debianChangelog(SAMPLE, '1.3.0', MAINTAINER);
  const entries = text.split(/^(?=mss-sidecar \()/m);
  assert.equal(entries.length, 2);
  assert.match(entries[0] as string, /^mss-sidecar \(1\.3\.0\) bookworm; urgency=medium\n\n {2}Added:\n {2}\* First thing, /);
  assert.match(
    entries[0] as string,
    /\n {4}seventy-eight columns by the converter with its continuation line\.\n {2}\* Second thing\.\n\n -- A Maintainer <a@example\.org> {2}Tue, 01 Dec 2026 00:00:00 \+0000\n/,
  );
  for (const line of text.split('\n')) assert.ok(line.length <= 80, line);
  assert.match(entries[1] as string, /^mss-sidecar \(1\.2\.0\) bookworm; urgency=medium\n\n {2}\* Initial release\.\n/);
  assert.ok(!text.includes('not released yet'));
  // dpkg reads it back.
  const dir = tmpDir('mss-changelog-');
  fs.writeFileSync(path.join(dir, 'changelog'), text);
  const parsed = spawnSync('dpkg-parsechangelog', ['-l', path.join(dir, 'changelog'), '-SVersion'], { encoding: 'utf8' });
  assert.equal(parsed.stdout.trim(), '1.3.0', parsed.stderr);
});

test("a version CHANGELOG.md has no section for is refused; this repository's CHANGELOG.md has package.json's version", () => {
  assert.throws(() => debianChangelog(SAMPLE, '1.4.0', MAINTAINER), /CHANGELOG\.md has no section "## \[1\.4\.0\] - YYYY-MM-DD"/);
  const version = (JSON.parse(read('package.json')) as { version: string }).version;
  assert.match(
    debianChangelog(read('CHANGELOG.md'), version, MAINTAINER),
    new RegExp(`^mss-sidecar \\(${debianVersion(version).replace(/[.+~]/g, '\\$&')}\\) `),
  );
});

test('a semver pre-release becomes a Debian version that sorts before its release; build metadata after it', () => {
  assert.equal(debianVersion('1.2.0-rc.1'), '1.2.0~rc.1');
  assert.equal(debianVersion('1.2.0+pkgtest.1'), '1.2.0+pkgtest.1');
  assert.throws(() => debianVersion('1.2'), /not x\.y\.z/);
  const lt = (a: string, b: string): number | null => spawnSync('dpkg', ['--compare-versions', a, 'lt', b]).status;
  assert.equal(lt(debianVersion('1.2.0-rc.1'), debianVersion('1.2.0')), 0);
  assert.equal(lt(debianVersion('1.2.0'), debianVersion('1.2.0+pkgtest.1')), 0);
});

test("EX_GDT_5010: the state directory is 0700, the service user's, in the tmpfiles snippet and in every unit that names it; the sysusers home is that directory", () => {
  assert.match(read('debian', 'mss-sidecar.tmpfiles'), /^d \/var\/lib\/mss-sidecar 0700 mss-sidecar mss-sidecar -$/m);
  assert.match(read('debian', 'mss-sidecar.sysusers'), /^u mss-sidecar - "[^"]+" \/var\/lib\/mss-sidecar \/usr\/sbin\/nologin$/m);
  const units = fs.readdirSync(path.join(REPO_ROOT, 'systemd')).filter((f) => f.endsWith('.service'));
  let naming = 0;
  for (const unit of units) {
    const text = read('systemd', unit);
    if (!/^StateDirectory=mss-sidecar$/m.test(text)) continue;
    naming += 1;
    // systemd sets the directory to this mode at every start of the unit (0755 when absent).
    assert.deepEqual(text.match(/^StateDirectoryMode=.*$/gm), ['StateDirectoryMode=0700'], unit);
  }
  assert.ok(naming >= 5, `${naming} units name the state directory`);
});

test('the packaged /etc/mss-sidecar/config.yaml is a valid configuration naming the files and directories the package prepares', () => {
  const cfg = parseConfigText(read('debian', 'config.yaml'), '/etc/mss-sidecar/config.yaml');
  assert.equal(cfg.operator.certificate, '/etc/mss-sidecar/tls/operator.crt');
  assert.equal(cfg.trust.dir, '/etc/mss-sidecar/igc-sante');
  assert.equal(cfg.state.dir, '/var/lib/mss-sidecar');
  assert.equal(cfg.registry.file, '/etc/mss-sidecar/registry.yaml');
  // The lifecycle commands are the defaults through `sudo -n /usr/bin/doveadm`: exactly what
  // the packaged sudoers rules allow (test/unit/sudoers.test.ts asks sudo itself).
  const defaults = lifecycleSection.parse({});
  const pairs: Array<[string[], string[]]> = [
    [cfg.lifecycle.deleteCommand, defaults.deleteCommand],
    [cfg.lifecycle.purgeAutoreplyCommand, defaults.purgeAutoreplyCommand],
    [cfg.lifecycle.autoreplyCheckCommand, defaults.autoreplyCheckCommand],
  ];
  for (const [cmd, def] of pairs) assert.deepEqual(cmd, ['sudo', '-n', '/usr/bin/doveadm', ...def.slice(1)]);
});

test("the modules' development files are pruned from the packaged node_modules; their code, licenses and executable scripts stay", () => {
  const root = path.join(tmpDir('mss-prune-'), 'node_modules');
  const files: Record<string, string> = {
    'yaml/package.json': '{"name":"yaml","version":"2.0.0"}',
    'yaml/dist/doc/Document.js': 'module.exports = 1;',
    'yaml/LICENSE': 'ISC',
    'yaml/bin.mjs': '#!/usr/bin/env node\n',
    'pino/package.json': '{"name":"pino","version":"9.0.0"}',
    'pino/index.html': '<script src="//unpkg.com/x.js"></script>',
    'pino/docs/api.md': '# api',
    'pino/test/basic.test.js': '',
    'pino/.eslintrc': '{}',
    'pino/lib/.github/x.yml': '',
    '@scope/mod/package.json': '{"name":"@scope/mod","version":"1.0.0"}',
    '@scope/mod/.npmignore': 'test',
    '@scope/mod/examples/a.js': '',
    '@scope/mod/node_modules/inner/package.json': '{"name":"inner","version":"1.0.0"}',
    '@scope/mod/node_modules/inner/benchmarks/b.js': '',
    '@scope/mod/node_modules/inner/LICENSE': 'MIT',
  };
  for (const [f, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
    fs.writeFileSync(path.join(root, f), content, { mode: f === 'yaml/LICENSE' ? 0o755 : 0o644 });
  }
  const r = pruneNodeModules(root);
  const left = (fs.readdirSync(root, { recursive: true }) as string[]).filter((f) => fs.statSync(path.join(root, f)).isFile()).sort();
  assert.deepEqual(left, [
    '@scope/mod/node_modules/inner/LICENSE',
    '@scope/mod/node_modules/inner/package.json',
    '@scope/mod/package.json',
    'pino/package.json',
    'yaml/LICENSE',
    'yaml/bin.mjs',
    'yaml/dist/doc/Document.js',
    'yaml/package.json',
  ]);
  assert.equal(fs.statSync(path.join(root, 'yaml/bin.mjs')).mode & 0o777, 0o755);
  assert.equal(fs.statSync(path.join(root, 'yaml/LICENSE')).mode & 0o777, 0o644);
  assert.equal(r.modesFixed, 2);
});

test('the maintainer scripts are POSIX shell scripts that parse', () => {
  for (const script of ['preinst', 'postinst', 'prerm', 'postrm']) {
    const file = path.join(REPO_ROOT, 'debian', `mss-sidecar.${script}`);
    assert.match(fs.readFileSync(file, 'utf8'), /^#!\/bin\/sh\n/);
    const r = spawnSync('sh', ['-n', file], { encoding: 'utf8' });
    assert.equal(r.status, 0, `${script}: ${r.stderr}`);
  }
});
