// Can the service user really open these files? A mode or owner read by root says little:
// ACLs, supplementary groups, a directory on the way without x, an AppArmor rule all
// decide too. So the files are opened for real, by a process running as that user: this
// process when it is that user (`serve`, or `sudo -u mss-sidecar mss-sidecar status`), a
// child started with setpriv(1) (util-linux: uid, primary group and supplementary groups
// of the user, as systemd's User= gives them) when root checks on the user's behalf.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** What must be possible: read a file, list a directory, create files in a directory. */
export type Access = 'read' | 'list' | 'write';

export interface Probe {
  path: string;
  access: Access;
}

export interface ProbeResult extends Probe {
  ok: boolean;
  /** errno code (ENOENT, EACCES, ENOTDIR...) when not ok. */
  code?: string;
  /** For `write` on a directory that does not exist yet: the existing ancestor tried. */
  via?: string;
}

export interface ServiceUser {
  name: string;
  uid: number;
  gid: number;
}

/** The default service user: the units' User=mss-sidecar. */
export const SERVICE_USER = 'mss-sidecar';

/** The passwd entry of `name` (getent: also LDAP/SSSD users), or undefined. */
export function lookupUser(name: string): ServiceUser | undefined {
  const r = spawnSync('getent', ['passwd', name], { encoding: 'utf8', timeout: 5000 });
  const f = r.status === 0 ? r.stdout.trim().split(':') : [];
  if (f.length < 4) return undefined;
  return { name: f[0] as string, uid: Number(f[2]), gid: Number(f[3]) };
}

export type Identity = { kind: 'self'; name: string; note?: string } | { kind: 'user'; user: ServiceUser } | { kind: 'unknown-user'; name: string };

/**
 * Who the files are checked as: `requested` if given; otherwise the service user when root
 * runs the check and that user exists, else the current user (with a note saying so).
 */
export function resolveIdentity(requested?: string): Identity {
  const me = os.userInfo();
  const uid = process.getuid?.() ?? -1;
  const name = requested ?? (uid === 0 ? SERVICE_USER : me.username);
  if (name === me.username) return { kind: 'self', name };
  const user = lookupUser(name);
  if (!user && requested === undefined)
    return { kind: 'self', name: me.username, note: `there is no user ${name} (install.md step 1): checked as ${me.username}` };
  if (!user) return { kind: 'unknown-user', name };
  if (user.uid === uid) return { kind: 'self', name };
  return { kind: 'user', user };
}

/** This process as it is: what `serve` checks (its own access is what counts). */
export function selfIdentity(): Identity {
  return { kind: 'self', name: os.userInfo().username };
}

export function identityName(id: Identity): string {
  return id.kind === 'user' ? id.user.name : id.name;
}

/** Run the probes in this process. */
export function probeHere(probes: readonly Probe[]): ProbeResult[] {
  return probes.map(probeOne);
}

/**
 * Run the probes as `id`: in this process when it is the current user, through setpriv as
 * root otherwise. Throws when the probes cannot run as that user at all.
 */
export function probeAs(id: Identity, probes: readonly Probe[]): ProbeResult[] {
  if (id.kind === 'self') return probeHere(probes);
  if (id.kind === 'unknown-user') throw new Error(`no Unix user ${id.name} (getent passwd ${id.name} found nothing)`);
  const { uid, gid } = id.user;
  const r = spawnSync(
    'setpriv',
    [
      `--reuid=${uid}`,
      `--regid=${gid}`,
      '--init-groups',
      '--inh-caps=-all',
      '--',
      process.execPath,
      '--input-type=module',
      '-e',
      CHILD,
      JSON.stringify(probes),
    ],
    { encoding: 'utf8', timeout: 15_000, cwd: '/' },
  );
  if (r.error || r.status !== 0) throw new Error(`cannot check files as ${id.user.name} with setpriv: ${r.error?.message ?? r.stderr.trim().slice(0, 300)}`);
  return JSON.parse(r.stdout) as ProbeResult[];
}

function probeOne(p: Probe): ProbeResult {
  try {
    if (p.access === 'read') {
      const fd = fs.openSync(p.path, 'r');
      try {
        fs.readSync(fd, Buffer.alloc(1), 0, 1, 0);
      } finally {
        fs.closeSync(fd);
      }
    } else if (p.access === 'list') {
      fs.readdirSync(p.path);
    } else {
      let dir = p.path;
      while (!fs.existsSync(dir) && path.dirname(dir) !== dir) dir = path.dirname(dir);
      const probe = path.join(dir, `.mss-sidecar-probe-${process.pid}`);
      fs.writeFileSync(probe, '', { flag: 'wx' });
      fs.rmSync(probe);
      if (dir !== p.path) return { ...p, ok: true, via: dir };
    }
    return { ...p, ok: true };
  } catch (err) {
    return { ...p, ok: false, code: (err as NodeJS.ErrnoException).code ?? 'ERROR' };
  }
}

// The child that runs as the service user runs probeOne itself (its compiled source), so
// that both ways of checking are one piece of code; it needs only node:fs and node:path,
// and no file of this installation (whose directories the user may not traverse).
const CHILD = `import fs from 'node:fs';
import path from 'node:path';
${probeOne.toString()}
process.stdout.write(JSON.stringify(JSON.parse(process.argv[1]).map(probeOne)));
`;

/** "mode 0600, owner root:root" — to say why a file is not readable. */
export function describeOwnership(file: string): string {
  try {
    const st = fs.statSync(file);
    const name = (id: number, db: string): string => {
      const r = spawnSync('getent', [db, String(id)], { encoding: 'utf8', timeout: 5000 });
      return r.status === 0 ? (r.stdout.split(':')[0] ?? String(id)) : String(id);
    };
    return `mode ${(st.mode & 0o7777).toString(8).padStart(4, '0')}, owner ${name(st.uid, 'passwd')}:${name(st.gid, 'group')}`;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? 'not found';
  }
}
