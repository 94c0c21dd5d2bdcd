// A lock between processes of one node, made of a file created with O_EXCL. Node has no
// flock(); an exclusive create is atomic on local filesystems, and the lock file records
// who holds it so that a lock left by a crashed process can be taken over.
import fs from 'node:fs';
import os from 'node:os';
import { randomBytes } from 'node:crypto';
import { MssError } from '../errors.js';

export interface LockOptions {
  /** Give up after this long (default 10 s): the caller gets TEMPORARY_LOCK_TIMEOUT. */
  timeoutMs?: number;
  /** A lock older than this is considered abandoned even if its holder looks alive. */
  staleMs?: number;
}

interface Holder {
  pid: number;
  host: string;
  nonce: string;
}

const HOST = os.hostname();
const sleepCell = new Int32Array(new SharedArrayBuffer(4));

/** Hold `lockFile` while `fn` runs (synchronous variant, for short critical sections). */
export function withFileLockSync<T>(lockFile: string, fn: () => T, opts: LockOptions = {}): T {
  const nonce = acquireSync(lockFile, opts);
  try {
    return fn();
  } finally {
    release(lockFile, nonce);
  }
}

/**
 * Callers of this process waiting for each lock file, in arrival order. Only the first
 * contends for the file: a hundred concurrent increments of one counter used to poll the
 * file all at once, with growing sleeps, and the unlucky ones hit the timeout under load
 * while the lock was free most of the time.
 */
const inProcess = new Map<string, Promise<void>>();

/** Hold `lockFile` while `fn` runs; waits asynchronously for the lock (callers of one process take turns). */
export async function withFileLock<T>(lockFile: string, fn: () => Promise<T> | T, opts: LockOptions = {}): Promise<T> {
  const before = inProcess.get(lockFile);
  let done!: () => void;
  const turn = new Promise<void>((resolve) => (done = resolve));
  const tail = (before ?? Promise.resolve()).then(() => turn);
  inProcess.set(lockFile, tail);
  try {
    await before;
    // The timeout applies to the wait for another process, from our turn on.
    const nonce = await acquire(lockFile, opts);
    try {
      return await fn();
    } finally {
      release(lockFile, nonce);
    }
  } finally {
    done();
    if (inProcess.get(lockFile) === tail) inProcess.delete(lockFile);
  }
}

function tryCreate(lockFile: string, nonce: string): boolean {
  try {
    const fd = fs.openSync(lockFile, 'wx', 0o600);
    try {
      fs.writeSync(fd, JSON.stringify({ pid: process.pid, host: HOST, nonce } satisfies Holder));
    } finally {
      fs.closeSync(fd);
    }
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

/** Remove the lock file when its holder is gone (dead PID on this host) or it is too old. */
function breakIfAbandoned(lockFile: string, staleMs: number): void {
  let text: string;
  let mtimeMs: number;
  try {
    mtimeMs = fs.statSync(lockFile).mtimeMs;
    text = fs.readFileSync(lockFile, 'utf8');
  } catch {
    return; // released meanwhile
  }
  let holder: Partial<Holder> = {};
  try {
    holder = JSON.parse(text) as Holder;
  } catch {
    // Written but not yet filled in by its creator, or torn by a crash: judge by age only.
  }
  const old = Date.now() - mtimeMs > staleMs;
  const dead = holder.host === HOST && typeof holder.pid === 'number' && !pidAlive(holder.pid);
  if (!old && !dead) return;
  // Re-read just before removing so that a lock re-taken in between is left alone. A tiny
  // window remains between this read and the unlink; it only matters after a crash.
  try {
    if (fs.readFileSync(lockFile, 'utf8') === text) fs.unlinkSync(lockFile);
  } catch {
    /* already gone */
  }
}

/** The process exists (EPERM: it does, owned by another user). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// One attempt: take the lock, or clear an abandoned one, or give up past the deadline.
function attempt(lockFile: string, nonce: string, opts: LockOptions, deadline: number): boolean {
  if (tryCreate(lockFile, nonce)) return true;
  breakIfAbandoned(lockFile, opts.staleMs ?? 30_000);
  if (Date.now() > deadline) throw timeout(lockFile);
  return false;
}

function acquireSync(lockFile: string, opts: LockOptions): string {
  const nonce = randomBytes(8).toString('hex');
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  for (let n = 0; !attempt(lockFile, nonce, opts, deadline); n++) Atomics.wait(sleepCell, 0, 0, Math.min(1 + n, 20));
  return nonce;
}

async function acquire(lockFile: string, opts: LockOptions): Promise<string> {
  const nonce = randomBytes(8).toString('hex');
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  for (let n = 0; !attempt(lockFile, nonce, opts, deadline); n++) await new Promise((r) => setTimeout(r, Math.min(1 + n, 20)));
  return nonce;
}

function release(lockFile: string, nonce: string): void {
  try {
    const holder = JSON.parse(fs.readFileSync(lockFile, 'utf8')) as Holder;
    if (holder.nonce === nonce) fs.unlinkSync(lockFile);
  } catch {
    /* broken by someone who judged it abandoned: nothing left to release */
  }
}

function timeout(lockFile: string): MssError {
  return new MssError('TEMPORARY_LOCK_TIMEOUT', `could not take the lock ${lockFile} in time (another mss-sidecar process holds it); retry`, { lockFile });
}
