// A lock between processes of one node, made of a file created with O_EXCL. Node has no
// flock(); an exclusive create is atomic on local filesystems, and the lock file records
// who holds it so that a lock left by a crashed process can be taken over.
//
// A holder that is alive on this host keeps its lock however long it holds it: judging it by
// the file's age broke locks of live holders (two writers in the key at once, a lost
// increment, a lease given twice) whenever the wall clock stepped forward past `staleMs`
// (NTP step, VM resume) or the holder stalled that long under load. Its process start time,
// recorded beside its pid, tells a live holder from another process that reused its pid.
import fs from 'node:fs';
import os from 'node:os';
import { randomBytes } from 'node:crypto';
import { MssError } from '../errors.js';

export interface LockOptions {
  /** Give up after this long (default 10 s): the caller gets TEMPORARY_LOCK_TIMEOUT. */
  timeoutMs?: number;
  /**
   * A lock file older than this is considered abandoned when its holder cannot be checked:
   * another host's, one not yet filled in or torn by a crash, or a pid whose start time is
   * unknown. A live holder on this host is never judged by age.
   */
  staleMs?: number;
}

interface Holder {
  pid: number;
  host: string;
  nonce: string;
  /** The holder's start time (/proc/<pid>/stat, clock ticks since boot); absent in older lock files. */
  start?: string;
}

const HOST = os.hostname();
const START = processStart(process.pid);
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
      fs.writeSync(fd, JSON.stringify({ pid: process.pid, host: HOST, nonce, start: START } satisfies Holder));
    } finally {
      fs.closeSync(fd);
    }
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

/** Remove the lock file when its holder is gone, or when it cannot be checked and the file is too old. */
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
  const state = holderState(holder);
  if (state === 'alive') return;
  if (state === 'unknown' && !(Date.now() - mtimeMs > staleMs && unchangedFor(lockFile, text) >= CONFIRM_MS)) return;
  unchanged.delete(lockFile);
  // Re-read just before removing so that a lock re-taken in between is left alone. A tiny
  // window remains between this read and the unlink; it only matters after a crash.
  try {
    if (fs.readFileSync(lockFile, 'utf8') === text) fs.unlinkSync(lockFile);
  } catch {
    /* already gone */
  }
}

/**
 * An unknown holder's file must also stay the same for CONFIRM_MS of this process's own
 * clock: a lock file is created empty and filled in the next instant, so an empty file is
 * someone taking the lock, not a crash leftover, unless it stays empty; and a wall clock
 * ahead of the file's mtime alone (a step) breaks nothing in that instant. Entries leave
 * when the lock is broken, taken or given up (bounded by the locks this process waits for).
 */
const CONFIRM_MS = 100;
const unchanged = new Map<string, { text: string; since: number }>();

function unchangedFor(lockFile: string, text: string): number {
  const seen = unchanged.get(lockFile);
  if (seen?.text === text) return performance.now() - seen.since;
  unchanged.set(lockFile, { text, since: performance.now() });
  return 0;
}

/**
 * A holder on this host is alive when its pid exists and, when both start times are known,
 * it is the same process (not another that reused the pid); dead otherwise. Another host's
 * holder, or an unreadable lock file, is unknown: judged by the file's age.
 */
function holderState(holder: Partial<Holder>): 'alive' | 'dead' | 'unknown' {
  if (holder.host !== HOST || typeof holder.pid !== 'number') return 'unknown';
  if (!pidAlive(holder.pid)) return 'dead';
  if (holder.start === undefined) return 'unknown'; // a lock file of an older version: as before, by age
  const now = processStart(holder.pid);
  if (now === undefined) return 'unknown';
  return now === holder.start ? 'alive' : 'dead';
}

/** A process's start time in clock ticks since boot (field 22 of /proc/<pid>/stat); undefined off Linux or when gone. */
export function processStart(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    // The command name (field 2) is in parentheses and may hold spaces: count from its end.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
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
  if (tryCreate(lockFile, nonce)) {
    unchanged.delete(lockFile);
    return true;
  }
  breakIfAbandoned(lockFile, opts.staleMs ?? 30_000);
  if (Date.now() > deadline) {
    unchanged.delete(lockFile);
    throw timeout(lockFile);
  }
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
