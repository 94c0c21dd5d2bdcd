// A lock shared by every test run on this machine (every worktree), for tests that change
// the machine itself (the package test installs and purges the real package): a directory
// created atomically, holding the owner's PID; a lock whose owner died is taken over.
import fs from 'node:fs';
import path from 'node:path';

function ownerAlive(dir: string): boolean {
  const pid = Number(fs.readFileSync(path.join(dir, 'pid'), { encoding: 'utf8', flag: 'r' }).trim());
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Wait for the lock (polling), take it, return its release function. */
export async function machineLock(name: string, timeoutMs: number): Promise<() => void> {
  const dir = path.join('/var/tmp', `${name}.lock`);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      fs.mkdirSync(dir, { mode: 0o700 });
      fs.writeFileSync(path.join(dir, 'pid'), `${process.pid}\n`);
      return () => fs.rmSync(dir, { recursive: true, force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let alive = true;
    try {
      alive = ownerAlive(dir);
    } catch {
      // No pid file: being created (alive), or its owner died right after mkdir (stale).
      try {
        alive = Date.now() - fs.statSync(dir).mtimeMs < 10_000;
      } catch {
        continue;
      }
    }
    if (!alive) {
      fs.rmSync(dir, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) {
      let holder = '?';
      try {
        holder = fs.readFileSync(path.join(dir, 'pid'), 'utf8').trim();
      } catch {
        /* released meanwhile */
      }
      throw new Error(`${dir} is still held by another test run (PID ${holder}) after ${timeoutMs} ms`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}
