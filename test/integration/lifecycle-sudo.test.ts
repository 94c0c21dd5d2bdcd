// The lifecycle job as systemd/mss-sidecar-lifecycle.service runs it: an unprivileged user
// whose bounding set is the unit's CapabilityBoundingSet (no NoNewPrivileges), reaching a
// real Dovecot's mail store only through `sudo -n /usr/bin/doveadm …` as sudoers/mss-sidecar
// allows. In a mount namespace, the shipped sudoers file is /etc/sudoers and the test
// Dovecot's configuration is /etc/dovecot/dovecot.conf, so the commands are exactly the
// ones install.md configures (EX_GBM_4030).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { DovecotInstance } from '../../sandbox/mta/dovecot-instance.js';
import { CLI, REPO_ROOT } from '../helpers/cli.js';
import { DOMAIN, minimalConfigYaml, registryYaml } from '../helpers/registry.js';
import { tmpDir } from '../helpers/tmp.js';
import { createTestUser } from '../helpers/unix-user.js';

const AUTOREPLY = `reponse.automatique-test@${DOMAIN}`;
const available = DovecotInstance.available() && fs.existsSync('/etc/dovecot/dovecot.conf') && fs.existsSync('/usr/bin/doveadm');
const dovecot = new DovecotInstance({ dir: path.join(tmpDir('mss-sudo-dovecot-'), 'dovecot') });

/** The unit's CapabilityBoundingSet= as setpriv's --bounding-set (e.g. -all,+setuid,+setgid). */
function unitBoundingSet(): string {
  const unit = fs.readFileSync(path.join(REPO_ROOT, 'systemd', 'mss-sidecar-lifecycle.service'), 'utf8');
  const caps = /^CapabilityBoundingSet=(.*)$/m.exec(unit)?.[1]?.trim().split(/\s+/).filter(Boolean) ?? [];
  assert.ok(!/^NoNewPrivileges=yes/m.test(unit), 'sudo is set-user-ID: the unit cannot have NoNewPrivileges=yes');
  return ['-all', ...caps.map((c) => `+${c.replace(/^CAP_/, '').toLowerCase()}`)].join(',');
}

/** A message in the auto-reply mailbox received `days` ago (maildir: the file's mtime). */
function deliver(days: number, subject: string): void {
  const box = path.join(dovecot.mailDir, DOMAIN, 'reponse.automatique-test');
  const dir = path.join(box, 'new');
  const mail = (flag: string): number => Number(spawnSync('id', [flag, 'mail'], { encoding: 'utf8' }).stdout);
  for (const sub of ['new', 'cur', 'tmp']) fs.mkdirSync(path.join(box, sub), { recursive: true });
  for (const d of [path.dirname(box), box, ...['new', 'cur', 'tmp'].map((s) => path.join(box, s))]) fs.chownSync(d, mail('-u'), mail('-g'));
  const file = path.join(dir, `${Date.now()}.M${days}P${process.pid}.sudo-test`);
  fs.writeFileSync(file, `From: a@ch-voisin.mssante.fr\r\nSubject: ${subject}\r\n\r\nbody\r\n`);
  fs.chownSync(file, mail('-u'), mail('-g'));
  const at = new Date(Date.now() - days * 86_400_000);
  fs.utimesSync(file, at, at);
}

test(
  "EX_GBM_4030: the lifecycle job purges the auto-reply mailbox through sudo with the shipped sudoers rules and the unit's capability bounding set, and sudo refuses it another mailbox",
  { skip: !available && 'Dovecot is not installed' },
  async () => {
    await dovecot.start();
    try {
      purgeThroughSudo();
    } finally {
      await dovecot.stop();
    }
  },
);

function purgeThroughSudo(): void {
  const user = createTestUser();
  const dir = tmpDir('mss-sudo-');
  fs.chownSync(dir, user.uid, user.gid);
  const sudoers = path.join(dir, 'sudoers');
  fs.writeFileSync(sudoers, fs.readFileSync(path.join(REPO_ROOT, 'sudoers', 'mss-sidecar'), 'utf8').replace(/^mss-sidecar ALL=/m, `${user.name} ALL=`), {
    mode: 0o440,
  });
  fs.writeFileSync(path.join(dir, 'registry.yaml'), registryYaml([]));
  // The checkout may be a directory only root can cross (`mktemp -d` is 0700, as CI clones):
  // the unit's user runs the program from hard links in its own directory (no copy, no mode change).
  const repo = path.join(dir, 'repo');
  fs.mkdirSync(repo);
  const linked = spawnSync('cp', ['-al', ...['bin', 'dist', 'node_modules', 'package.json'].map((f) => path.join(REPO_ROOT, f)), repo], { encoding: 'utf8' });
  assert.equal(linked.status, 0, linked.stderr);
  const sudo = ['sudo', '-n', '/usr/bin/doveadm'];
  const query = ['mailbox', '*', '(', 'savedbefore', '{maxAgeDays}d', 'OR', 'before', '{maxAgeDays}d', ')'];
  const config = (address: string): string => {
    const file = path.join(dir, `config-${address.split('@')[0]}.yaml`);
    fs.writeFileSync(
      file,
      minimalConfigYaml({
        lifecycle: {
          activityKnownSince: '2020-01-01',
          notices: { via: 'command', command: ['/bin/true'] },
          // install.md step 5, with {address} forced for the refusal case.
          purgeAutoreplyCommand: [...sudo, 'expunge', '-u', address, ...query],
          autoreplyCheckCommand: [...sudo, 'search', '-u', address, ...query],
        },
      }),
    );
    return file;
  };
  const runAsUnit = (configFile: string) =>
    spawnSync(
      'unshare',
      [
        '--mount',
        'sh',
        '-c',
        [
          `mount --bind ${sudoers} /etc/sudoers`,
          `mount --bind ${dovecot.configFile} /etc/dovecot/dovecot.conf`,
          `exec setpriv --reuid=${user.uid} --regid=${user.gid} --init-groups --bounding-set=${unitBoundingSet()} --inh-caps=-all -- "$@"`,
        ].join(' && '),
        'sh',
        process.execPath,
        path.join(repo, path.relative(REPO_ROOT, CLI)),
        '--config',
        configFile,
        'lifecycle',
        'run',
        '--json',
        '--actor',
        'system:lifecycle',
      ],
      { encoding: 'utf8', cwd: dir, timeout: 120_000, env: { ...process.env, MSS_LOG_JSON: '1' } },
    );
  const doveadm = (...args: string[]) => spawnSync('doveadm', ['-c', dovecot.configFile, ...args], { encoding: 'utf8' });
  const subjects = () => doveadm('fetch', '-u', AUTOREPLY, 'hdr.subject', 'mailbox', '*', 'all').stdout;

  deliver(40, 'sudo old');
  deliver(0, 'sudo recent');
  assert.match(subjects(), /sudo old/);
  const r = runAsUnit(config(AUTOREPLY));
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const report = JSON.parse(r.stdout) as { actions: Array<{ action: string; ok: boolean; detail?: string }> };
  assert.deepEqual(
    report.actions.map((a) => [a.action, a.ok]),
    [['purge', true]],
    JSON.stringify(report),
  );
  assert.doesNotMatch(subjects(), /sudo old/, 'the message older than the bound is gone');
  assert.match(subjects(), /sudo recent/);

  // The same command for a mailbox the rules do not name: sudo refuses, the job reports it.
  deliver(40, 'sudo old again');
  fs.rmSync(path.join(dir, 'state'), { recursive: true, force: true });
  const refused = runAsUnit(config(`jean.dupont@${DOMAIN}`));
  assert.equal(refused.status, 1, refused.stdout + refused.stderr);
  assert.match(refused.stdout, /purge command failed \(exit 1\): .*sudo: a password is required/);
  assert.match(subjects(), /sudo old again/, 'nothing purged');
}
