// A real unprivileged Unix user for a test (useradd --system, its own group, no home, no
// login), removed when the test process ends. Tests that check what the service user can
// open need one: root can open everything, so checking as root proves nothing.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

export interface TestUser {
  name: string;
  uid: number;
  gid: number;
}

const created: string[] = [];

/** Creates the user (retrying while another useradd holds /etc/passwd's lock). */
export function createTestUser(prefix = 'msst'): TestUser {
  if (process.getuid?.() !== 0) throw new Error('creating a test user needs root');
  const name = `${prefix}${process.pid}${created.length}`.slice(0, 31);
  for (let attempt = 0; ; attempt++) {
    const r = spawnSync('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', name], { encoding: 'utf8' });
    if (r.status === 0) break;
    // Exit 10: cannot lock /etc/group (another engineer's test creating a user too).
    if (attempt >= 20 || !/lock|try again/i.test(r.stderr)) throw new Error(`useradd ${name} failed: ${r.stderr}`);
    spawnSync('sleep', ['0.2']);
  }
  if (created.length === 0) process.once('exit', () => created.forEach((n) => spawnSync('userdel', [n])));
  created.push(name);
  const id = (flag: string): number => Number(spawnSync('id', [flag, name], { encoding: 'utf8' }).stdout.trim());
  return { name, uid: id('-u'), gid: id('-g') };
}

/**
 * A throwaway Unix identity without a passwd entry: a uid (and gid) no account of this machine
 * has, in no supplementary group — any other local user, as an attacker on the same host.
 */
export function strangerUid(): number {
  const used = new Set(
    fs
      .readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .map((l) => Number(l.split(':')[2])),
  );
  let uid = 61_000 + (process.pid % 2000);
  while (used.has(uid)) uid++;
  return uid;
}
