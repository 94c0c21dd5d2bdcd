// The statistics archive (§6.9.3.2.1: the files at the root of a .zip), written as a stream:
// the build hands each CSV block to it as the block is written, so the largest file — the
// first domain's Echanges, most of a month — is compressed while the journal is read and is
// never read back from disk; the other files follow from disk.
// Bytes: identical to what the archive always was (fflate, level 6, each entry pushed in
// 1 MiB pieces then an empty final piece, the month's start as every entry's mtime), so a
// rebuild of the same content gives the same archive (the schedule compares them).
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { Zip, ZipDeflate } from 'fflate';
import { MssError } from '../errors.js';

/** The pieces each entry is deflated in (what the archive's bytes depend on). */
export const ZIP_PIECE = 1 << 20;

export class ZipStream {
  private readonly tmp: string;
  private readonly fd: number;
  private readonly hash = createHash('sha256');
  private bytes = 0;
  private readonly zip: Zip;
  private entry_: ZipDeflate | undefined;
  private readonly piece = Buffer.allocUnsafe(ZIP_PIECE);
  private used = 0;
  private failure: Error | undefined;

  constructor(
    readonly out: string,
    private readonly mtime: Date,
  ) {
    this.tmp = `${out}.${process.pid}.tmp`;
    this.fd = fs.openSync(this.tmp, 'w', 0o640);
    this.zip = new Zip((err, chunk) => {
      if (err) this.failure ??= err;
      else if (!this.failure) {
        fs.writeSync(this.fd, chunk);
        this.hash.update(chunk);
        this.bytes += chunk.length;
      }
    });
  }

  private check(): void {
    if (this.failure) throw new MssError('STATS_ZIP_WRITE', `cannot write ${this.out}: ${this.failure.message}`, { file: this.out }, { cause: this.failure });
  }

  /** Starts the next entry of the archive. */
  entry(name: string): void {
    this.check();
    this.entry_ = new ZipDeflate(name, { level: 6 });
    this.entry_.mtime = this.mtime;
    this.zip.add(this.entry_);
  }

  /** Bytes of the current entry (cut into the 1 MiB pieces the archive's bytes depend on). */
  push(bytes: Uint8Array): void {
    let from = 0;
    while (from < bytes.length) {
      const n = Math.min(bytes.length - from, ZIP_PIECE - this.used);
      this.piece.set(bytes.subarray(from, from + n), this.used);
      this.used += n;
      from += n;
      if (this.used === ZIP_PIECE) this.flushPiece();
    }
  }

  private flushPiece(): void {
    if (this.used === 0) return;
    this.entry_?.push(this.piece.subarray(0, this.used));
    this.used = 0;
    this.check();
  }

  /** Ends the current entry. */
  endEntry(): void {
    this.flushPiece();
    this.entry_?.push(new Uint8Array(0), true);
    this.entry_ = undefined;
    this.check();
  }

  /** An entry made of a whole file read from disk. */
  file(name: string, file: string): void {
    this.entry(name);
    const fd = fs.openSync(file, 'r');
    try {
      for (;;) {
        const n = fs.readSync(fd, this.piece, this.used, ZIP_PIECE - this.used, null);
        if (n === 0) break;
        this.used += n;
        if (this.used === ZIP_PIECE) this.flushPiece();
      }
    } finally {
      fs.closeSync(fd);
    }
    this.endEntry();
  }

  /** Writes the end of the archive, makes it durable and renames it into place. */
  finish(): { bytes: number; sha256: string } {
    try {
      this.zip.end();
      this.check();
      fs.fsyncSync(this.fd);
    } catch (err) {
      this.abort();
      throw err instanceof MssError
        ? err
        : new MssError('STATS_ZIP_WRITE', `cannot write ${this.out}: ${(err as Error).message}`, { file: this.out }, { cause: err });
    }
    fs.closeSync(this.fd);
    fs.renameSync(this.tmp, this.out);
    return { bytes: this.bytes, sha256: this.hash.digest('hex') };
  }

  /** Removes the partial archive. */
  abort(): void {
    try {
      fs.closeSync(this.fd);
    } catch {
      /* already closed */
    }
    fs.rmSync(this.tmp, { force: true });
  }
}
