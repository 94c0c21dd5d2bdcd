// Unix-domain listeners whose file permissions are the access control: the milter's socket
// (Postfix's smtpd and cleanup), the outbound gate's LMTP socket (Postfix's lmtp client only).
// A socket file left by a previous run is replaced; one a live process listens on is not.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { MssError, type ErrorCode } from '../errors.js';

/** A socket file left by a previous run is removed; one a live process listens on is an error (`code`). */
export async function removeStaleSocket(file: string, code: ErrorCode): Promise<void> {
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(file);
  } catch {
    return;
  }
  if (!stat.isSocket()) throw new MssError(code, `${file} exists and is not a socket; refusing to replace it`, { path: file });
  const alive = await new Promise<boolean>((resolve) => {
    const probe = net.connect(file);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (alive) throw new MssError(code, `another process is listening on ${file}`, { path: file });
  fs.unlinkSync(file);
}

/** The group's ID (getent: files, LDAP… as the system resolves groups), or an error naming the key. */
export function groupId(name: string, key: string, code: ErrorCode): number {
  if (/^[0-9]+$/.test(name)) return Number(name);
  const r = spawnSync('getent', ['group', name], { encoding: 'utf8' });
  const gid = Number(r.stdout.split(':')[2]);
  if (r.status !== 0 || !Number.isInteger(gid)) throw new MssError(code, `${key}: no group named "${name}" on this system`, { group: name });
  return gid;
}

/**
 * Who may connect: a unix socket is opened by whoever may write it. The file is created with
 * the process umask (the service's 0027: owner only), then given `mode` and `group`, so there is
 * no moment at which others could connect. Changing the group needs the service user to be a
 * member of it (systemd: SupplementaryGroups=), or root.
 */
export function restrictSocket(file: string, mode: number, gid: number | undefined, code: ErrorCode): void {
  try {
    if (gid !== undefined) fs.chownSync(file, -1, gid);
    fs.chmodSync(file, mode);
  } catch (err) {
    throw new MssError(code, `cannot set the permissions of ${file}: ${(err as Error).message}`, { path: file }, { cause: err });
  }
}
