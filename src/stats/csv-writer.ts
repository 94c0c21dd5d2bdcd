// One CSV file being written: lines gathered in memory up to a bound and written in large
// blocks to a temporary name, renamed into place only when the whole build succeeded, so
// that a failed or interrupted build never leaves a half file that could be uploaded.
import fs from 'node:fs';
import path from 'node:path';
import { EOL } from './format.js';

const FLUSH_AT = 1 << 20;

export class CsvFile {
  readonly file: string;
  private readonly tmp: string;
  private readonly fd: number;
  private pending: string[] = [];
  private pendingLength = 0;
  lines = 0;
  bytes = 0;

  constructor(dir: string, name: string, header: string) {
    this.file = path.join(dir, name);
    this.tmp = path.join(dir, `.${name}.${process.pid}.tmp`);
    this.fd = fs.openSync(this.tmp, 'w', 0o640);
    this.push(header);
    this.lines = 0;
  }

  /** One data line, without its line end. */
  push(line: string): void {
    this.pending.push(line);
    this.pendingLength += line.length + 1;
    this.lines++;
    if (this.pendingLength >= FLUSH_AT) this.flush();
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    const buf = Buffer.from(this.pending.join(EOL) + EOL, 'utf8');
    fs.writeSync(this.fd, buf);
    this.bytes += buf.length;
    this.pending = [];
    this.pendingLength = 0;
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
