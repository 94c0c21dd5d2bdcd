// Crash-safe file replacement: write a temporary file in the same directory, fsync it,
// rename it over the target, fsync the directory. A reader sees the old or the new
// content, never a half-written file.
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

export interface AtomicWriteOptions {
  /** File mode of the new file (default 0o600: state may hold personal data). */
  mode?: number;
  /**
   * fsync the file and its directory (default true). Without it the replacement is still
   * all-or-nothing, but a crash may bring back the previous content: for soft state.
   */
  fsync?: boolean;
}

export function atomicWriteFileSync(file: string, data: string | Uint8Array, opts: AtomicWriteOptions = {}): void {
  const dir = path.dirname(file);
  fs.mkdirSync(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fd = fs.openSync(tmp, 'wx', opts.mode ?? 0o600);
  try {
    fs.writeFileSync(fd, data);
    fs.fsyncSync(fd);
  } catch (err) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  fs.closeSync(fd);
  try {
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  fsyncDir(dir);
}

export async function atomicWriteFile(file: string, data: string | Uint8Array, opts: AtomicWriteOptions = {}): Promise<void> {
  const dir = path.dirname(file);
  await fs.promises.mkdir(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const handle = await fs.promises.open(tmp, 'wx', opts.mode ?? 0o600);
  try {
    await handle.writeFile(data);
    if (opts.fsync !== false) await handle.sync();
  } catch (err) {
    await handle.close();
    await fs.promises.rm(tmp, { force: true });
    throw err;
  }
  await handle.close();
  try {
    await fs.promises.rename(tmp, file);
  } catch (err) {
    await fs.promises.rm(tmp, { force: true });
    throw err;
  }
  if (opts.fsync !== false) fsyncDir(dir);
}

function fsyncDir(dir: string): void {
  // Makes the rename itself durable; some filesystems refuse fsync on directories.
  try {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    /* best effort */
  }
}

/**
 * Append `text` to `file` (created with `mode`) and fdatasync it before returning: for
 * append-only logs whose lines must survive a crash once the caller goes on (trace
 * manifest, the daemon's spool).
 */
export function appendDurableSync(file: string, text: string, mode = 0o600): void {
  const fd = fs.openSync(file, 'a', mode);
  try {
    fs.writeSync(fd, text);
    fs.fdatasyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
