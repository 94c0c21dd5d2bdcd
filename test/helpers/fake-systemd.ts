// Runs a command (apt-get, a maintainer script) in private mount and network namespaces
// where systemd looks like PID 1 (/run/systemd/system exists), `systemctl` is a stub that
// records every call and answers `is-active` from a list, and policy-rc.d allows actions.
// The command has no network. Nothing outside the namespaces changes: the mounts vanish
// with the process. Used by the package test to check what the maintainer scripts ask of
// systemd on a machine where systemd is not PID 1.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { CliResult } from './cli.js';
import { tmpDir } from './tmp.js';

// Bind-mounted over /usr/bin/systemctl: $0 is that path, so the stub names its directory.
const stub = (dir: string): string => `#!/bin/sh
# Stub systemctl: one line per call in calls; is-active answers from the active file.
dir='${dir}'
echo "$*" >>"$dir/calls"
verb=
units=
for a in "$@"; do
  case "$a" in
    -*) ;;
    *) if [ -z "$verb" ]; then verb=$a; else units="$units $a"; fi ;;
  esac
done
case "$verb" in
  is-active)
    for u in $units; do grep -qxF "$u" "$dir/active" || { echo inactive; exit 3; }; done
    echo active ;;
  is-enabled) echo disabled; exit 1 ;;
esac
exit 0
`;

// Mounts, then runs the command. A machine without /run/systemd gets a tmpfs over /run.
const SETUP = `set -e
stub=$1; shift
if [ -d /run/systemd ]; then mount -t tmpfs -o mode=0755 tmpfs /run/systemd; else mount -t tmpfs -o mode=0755 tmpfs /run; mkdir /run/systemd /run/lock; fi
mkdir /run/systemd/system
mount --bind "$stub/systemctl" /usr/bin/systemctl
if [ -e /usr/sbin/policy-rc.d ]; then mount --bind "$stub/policy-rc.d" /usr/sbin/policy-rc.d; fi
exec "$@"
`;

export class FakeSystemd {
  readonly dir = tmpDir('mss-fake-systemd-');

  constructor() {
    fs.writeFileSync(path.join(this.dir, 'systemctl'), stub(this.dir), { mode: 0o755 });
    fs.writeFileSync(path.join(this.dir, 'policy-rc.d'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    this.setActive([]);
    this.clearCalls();
  }

  /** The units `systemctl is-active` reports as running. */
  setActive(units: string[]): void {
    fs.writeFileSync(path.join(this.dir, 'active'), units.map((u) => `${u}\n`).join(''));
  }

  calls(): string[] {
    return fs.readFileSync(path.join(this.dir, 'calls'), 'utf8').split('\n').filter(Boolean);
  }

  clearCalls(): void {
    fs.writeFileSync(path.join(this.dir, 'calls'), '');
  }

  run(argv: string[], opts: { env?: Record<string, string>; timeoutMs?: number } = {}): CliResult {
    if (!fs.existsSync('/usr/bin/systemctl'))
      throw new Error('/usr/bin/systemctl is missing: the package depends on systemd (scripts/install-system-deps.sh installs it)');
    const r = spawnSync('unshare', ['--mount', '--net', '--propagation', 'private', '--', 'sh', '-c', SETUP, 'sh', this.dir, ...argv], {
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive', ...opts.env },
      encoding: 'utf8',
      timeout: opts.timeoutMs ?? 300_000,
    });
    return { status: r.status ?? -1, stdout: r.stdout ?? '', stderr: `${r.stderr ?? ''}${r.error ? `\n${r.error.message}` : ''}` };
  }
}
