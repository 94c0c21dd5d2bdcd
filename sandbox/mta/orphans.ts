// Postfix's master calls setsid() and Dovecot runs in its own process group, so when the
// process that started a private instance is killed outright (SIGKILL, a CI timeout) they
// survive it, keep their ports, and pile up. Each instance directory records its owner's PID;
// starting a new instance first stops the servers whose owner is gone.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isProcessAlive } from '../../src/util/process-group.js';

const OWNER_FILE = 'owner.pid';

/** Record that this process owns the instance in `dir`. */
export function claimInstance(dir: string): void {
  fs.writeFileSync(path.join(dir, OWNER_FILE), `${process.pid}\n`);
}

/** The instance directory of a running server we started, or undefined. */
export function instanceDirOf(pid: number): string | undefined {
  let cmdline: string[];
  try {
    cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return undefined;
  }
  const exe = path.basename(cmdline[0] ?? '');
  if (exe === 'master') {
    // Postfix: MAIL_CONFIG=<dir>/etc in its environment.
    try {
      const env = fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
      const config = env.find((e) => e.startsWith('MAIL_CONFIG='))?.slice('MAIL_CONFIG='.length);
      return config ? path.dirname(config) : undefined;
    } catch {
      return undefined;
    }
  }
  if (exe === 'dovecot') {
    // Dovecot: dovecot -F -c <dir>/dovecot.conf
    const i = cmdline.indexOf('-c');
    const file = i >= 0 ? cmdline[i + 1] : undefined;
    return file ? path.dirname(file) : undefined;
  }
  return undefined;
}

/**
 * Stop (SIGKILL) Postfix masters and Dovecot masters started by mss-sidecar whose owner
 * process no longer exists. Servers not started through this module (no owner file) are
 * never touched. Returns how many were stopped.
 */
export function reapOrphanInstances(): number {
  let reaped = 0;
  let pids: number[];
  try {
    pids = fs
      .readdirSync('/proc')
      .filter((n) => /^\d+$/.test(n))
      .map(Number);
  } catch {
    return 0;
  }
  for (const pid of pids) {
    const dir = instanceDirOf(pid);
    if (!dir) continue;
    let owner = 0;
    try {
      owner = Number(fs.readFileSync(path.join(dir, OWNER_FILE), 'utf8').trim());
    } catch {
      // No owner file: ours only if its whole directory is gone (removed by an owner that
      // cleaned up its temporary files on the way out) and the path is one of our temp dirs.
      if (fs.existsSync(dir) || !dir.startsWith(os.tmpdir()) || !dir.includes('/mss-')) continue;
    }
    if (owner > 0 && isProcessAlive(owner)) continue;
    try {
      process.kill(pid, 'SIGKILL');
      reaped++;
    } catch {
      /* gone meanwhile */
    }
  }
  return reaped;
}
