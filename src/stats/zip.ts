// ZIP archives of the statistics (§6.9.3.2.1: files at the root of a .zip, no folders), read
// as streams (fflate; zip-stream.ts writes them): a month of a large operator is hundreds of
// megabytes of CSV, and neither side should hold it whole.
import fs from 'node:fs';
import { Unzip, UnzipInflate } from 'fflate';
import { MssError } from '../errors.js';

const CHUNK = 1 << 20;

export interface EntryConsumer {
  push(chunk: Uint8Array): void;
  end(): void;
}

export interface ReadZipOptions {
  /** Refuse archives that expand beyond this (zip bombs). */
  maxUncompressedBytes?: number;
}

/**
 * Streams every entry of a ZIP (bytes in memory, or a file path read in chunks) to the
 * consumer `onEntry` returns for it (undefined: skip). Returns how many entries it had.
 * An archive that cannot be read throws STATS_ZIP_UNREADABLE (SIPIL report code 5).
 */
export function readZip(source: Uint8Array | string, onEntry: (name: string) => EntryConsumer | undefined, opts: ReadZipOptions = {}): number {
  const max = opts.maxUncompressedBytes ?? 8 * 1024 ** 3;
  let entries = 0;
  let total = 0;
  let failure: Error | undefined;
  const unzip = new Unzip((file) => {
    entries++;
    const consumer = onEntry(file.name);
    file.ondata = (err, chunk, final) => {
      if (err) {
        failure ??= err;
        return;
      }
      total += chunk.length;
      if (total > max) {
        failure ??= new Error(`expands beyond ${max} bytes`);
        file.terminate();
        return;
      }
      if (consumer) {
        if (chunk.length > 0) consumer.push(chunk);
        if (final) consumer.end();
      }
    };
    if (file.compression !== 0 && file.compression !== 8) {
      failure ??= new Error(`${file.name}: compression method ${file.compression} is not supported (deflate or stored only)`);
      return;
    }
    file.start();
  });
  unzip.register(UnzipInflate);
  const where = typeof source === 'string' ? source : 'the archive';
  try {
    if (typeof source === 'string') {
      const fd = fs.openSync(source, 'r');
      try {
        const buf = Buffer.allocUnsafe(CHUNK);
        let head = true;
        for (;;) {
          const n = fs.readSync(fd, buf, 0, CHUNK, null);
          if (head && !isZipBytes(buf.subarray(0, n))) throw new Error('not a ZIP archive (no ZIP signature)');
          head = false;
          if (n === 0) {
            unzip.push(new Uint8Array(0), true);
            break;
          }
          unzip.push(Uint8Array.from(buf.subarray(0, n)));
          if (failure) break;
        }
      } finally {
        fs.closeSync(fd);
      }
    } else {
      if (!isZipBytes(source)) throw new Error('not a ZIP archive (no ZIP signature)');
      unzip.push(source, true);
    }
  } catch (err) {
    failure ??= err as Error;
  }
  if (failure) throw new MssError('STATS_ZIP_UNREADABLE', `${where} cannot be opened as a ZIP archive: ${failure.message}`, { source: where });
  return entries;
}

/** Starts with a local file header (PK\3\4), or is an empty archive (end record PK\5\6). */
export const isZipBytes = (b: Uint8Array): boolean =>
  b.length >= 4 && b[0] === 0x50 && b[1] === 0x4b && ((b[2] === 3 && b[3] === 4) || (b[2] === 5 && b[3] === 6));
