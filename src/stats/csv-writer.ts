// One CSV file being written: lines encoded into a block of bounded size and written in large
// blocks to a temporary name, renamed into place only when the whole build succeeded, so
// that a failed or interrupted build never leaves a half file that could be uploaded.
import fs from 'node:fs';
import path from 'node:path';
import { EOL } from './format.js';

const BLOCK = 1 << 20;

export class CsvFile {
  readonly file: string;
  private readonly tmp: string;
  private readonly fd: number;
  // Lines are encoded into this block as they come and the block written when full: a
  // month is hundreds of megabytes of lines, and lines kept as strings until a flush
  // outlive the young generation and fill the old one (issue 20: peak memory).
  private block = Buffer.allocUnsafe(BLOCK);
  private used = 0;
  lines = 0;
  bytes = 0;

  /** `onBlock`: each block as it is written (the archive compresses them as they come). */
  constructor(
    dir: string,
    name: string,
    header: string,
    private readonly onBlock?: (bytes: Buffer) => void,
  ) {
    this.file = path.join(dir, name);
    this.tmp = path.join(dir, `.${name}.${process.pid}.tmp`);
    this.fd = fs.openSync(this.tmp, 'w', 0o640);
    this.push(header);
    this.lines = 0;
  }

  /** One data line, without its line end. */
  push(line: string): void {
    // A UTF-8 character is at most 3 bytes per UTF-16 unit; the end of line is one.
    const room = line.length * 3 + 1;
    if (this.used + room > this.block.length) {
      this.flush();
      if (room > this.block.length) this.block = Buffer.allocUnsafe(room);
    }
    this.used += this.block.write(line, this.used, 'utf8');
    this.used += this.block.write(EOL, this.used, 'latin1');
    this.lines++;
  }

  private flush(): void {
    if (this.used === 0) return;
    const bytes = this.block.subarray(0, this.used);
    fs.writeSync(this.fd, bytes);
    this.onBlock?.(bytes);
    this.bytes += this.used;
    this.used = 0;
  }

  /** Flush and close; the file keeps its temporary name until commit(). */
  close(): void {
    this.flush();
    fs.fsyncSync(this.fd);
    fs.closeSync(this.fd);
  }

  commit(): void {
    fs.renameSync(this.tmp, this.file);
  }

  abandon(): void {
    try {
      fs.closeSync(this.fd);
    } catch {
      /* already closed */
    }
    fs.rmSync(this.tmp, { force: true });
  }
}
