// sudoers/mss-sidecar, the lifecycle job's only privileged commands (install.md step 8): each
// rule names exactly one mailbox pattern. Checked with Debian's visudo and sudo itself —
// `sudo -l -U <user> <command>` in a mount namespace where the shipped file is /etc/sudoers —
// rather than by reading the file: what counts is what sudo allows.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { lifecycleSection } from '../../src/lifecycle/config.js';
import { fillArgs } from '../../src/util/run-command.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';
import { createTestUser } from '../helpers/unix-user.js';

const SHIPPED = path.join(REPO_ROOT, 'sudoers', 'mss-sidecar');
const AUTOREPLY = 'reponse.automatique-test@ch-exemple.mssante.fr';

/** For each argv, whether sudo would let `user` run it under `sudoers` (no other rule in force). */
function allowed(sudoers: string, user: string, commands: string[][]): boolean[] {
  const dir = tmpDir('mss-sudoers-');
  const file = path.join(dir, 'sudoers');
  fs.writeFileSync(file, sudoers, { mode: 0o440 });
  const script = [
    `mount --bind ${file} /etc/sudoers`,
    ...commands.map((c) => `sudo -n -l -U ${user} ${c.map((a) => `'${a}'`).join(' ')} >/dev/null 2>&1 && echo yes || echo no`),
  ].join('\n');
  const r = spawnSync('unshare', ['--mount', 'sh', '-c', script], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout
    .trim()
    .split('\n')
    .map((l) => l === 'yes');
}

/** The lifecycle commands as install.md configures them: sudo -n /usr/bin/doveadm + the defaults. */
function configured(address: string, maxAgeDays = 27): Record<'delete' | 'purge' | 'check', string[]> {
  const d = lifecycleSection.parse({});
  const values = { address, maxAgeDays: String(maxAgeDays) };
  const cmd = (argv: string[]) => ['/usr/bin/doveadm', ...fillArgs(argv, values).slice(1)];
  return { delete: cmd(d.deleteCommand), purge: cmd(d.purgeAutoreplyCommand), check: cmd(d.autoreplyCheckCommand) };
}

test('the shipped sudoers file is valid for visudo', () => {
  const copy = path.join(tmpDir(), 'mss-sidecar');
  fs.copyFileSync(SHIPPED, copy);
  const r = spawnSync('visudo', ['-c', '-f', copy], { encoding: 'utf8' });
  assert.equal(r.error, undefined, 'visudo is missing: scripts/install-system-deps.sh installs the Debian package sudo');
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

test('EX_GBM_6010 EX_GBM_4030: the sudoers rules allow the configured delete, purge and check commands, each for exactly one mailbox pattern', () => {
  const sudoers = fs.readFileSync(SHIPPED, 'utf8');
  const jean = configured('jean.dupont@ch-exemple.mssante.fr');
  const auto = configured(AUTOREPLY);
  const cases: Array<[string, string[], boolean]> = [
    ['delete a deleted mailbox', jean.delete, true],
    ['purge the auto-reply mailbox', auto.purge, true],
    ['check the auto-reply mailbox', auto.check, true],
    ['purge with a shorter bound', configured(AUTOREPLY, 7).purge, true],
    ['purge another mailbox', jean.purge, false],
    ['check another mailbox', jean.check, false],
    ['purge beyond a month (28 days, EX_GBM_4030)', configured(AUTOREPLY, 28).purge, false],
    ['delete two mailboxes in one command', ['/usr/bin/doveadm', 'expunge', '-u', 'a@x.fr', '-u', 'b@x.fr', 'mailbox', '*', 'all'], false],
    ['a second mailbox hidden in the address argument', ['/usr/bin/doveadm', 'expunge', '-u', 'a@x.fr mailbox * all -u b@x.fr', 'mailbox', '*', 'all'], false],
    ['another doveadm command', ['/usr/bin/doveadm', 'backup', '-u', 'a@x.fr', 'maildir:/tmp/x'], false],
    ['a part of a mailbox only', ['/usr/bin/doveadm', 'expunge', '-u', 'a@x.fr', 'mailbox', 'INBOX', 'all'], false],
    ['everything of the auto-reply mailbox', ['/usr/bin/doveadm', 'expunge', '-u', AUTOREPLY, 'mailbox', '*', 'all'], true],
  ];
  // A real user (sudo -l needs one) in the service user's place.
  const user = createTestUser().name;
  const verdicts = allowed(
    sudoers.replace(/^mss-sidecar ALL=/m, `${user} ALL=`),
    user,
    cases.map(([, argv]) => argv),
  );
  assert.deepEqual(
    cases.map(([what], i) => `${what}: ${verdicts[i] ? 'allowed' : 'refused'}`),
    cases.map(([what, , ok]) => `${what}: ${ok ? 'allowed' : 'refused'}`),
  );
  // The line install.md shipped before: sudo's `*` also matches spaces.
  const old = `${user} ALL=(root) NOPASSWD: /usr/bin/doveadm expunge -u * mailbox \\* all\n`;
  assert.deepEqual(allowed(old, user, [cases[8]?.[1] ?? []]), [true], 'the wildcard rule let a second mailbox in');
});
