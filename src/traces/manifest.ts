// The manifest (<traces>/manifest.jsonl) lists every trace file when it is created, its
// final hash when its writer seals it, and every pruning. It is itself a hash chain. With
// it `traces verify` notices a whole file deleted, a file added, or lines cut from the end
// of a sealed file — which the chain inside one file cannot show. Writers append to it
// rarely (a new file per writer and day), under a lock file, so lines never interleave.
import fs from 'node:fs';
import path from 'node:path';
import { withFileLockSync } from '../util/file-lock.js';
import { appendDurableSync } from '../util/atomic-write.js';
import { GENESIS, chainLine, checkLine } from './chain.js';

export type ManifestEntry =
  | { kind: 'file'; file: string; writer: string; category: string; day: string; at: string }
  | { kind: 'seal'; file: string; lastHash: string; lines: number; at: string }
  | { kind: 'prune'; category: string; before: string; removed: number; at: string };

export function manifestPath(dir: string): string {
  return path.join(dir, 'manifest.jsonl');
}

export function appendManifest(dir: string, entry: ManifestEntry): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = manifestPath(dir);
  withFileLockSync(`${file}.lock`, () => {
    const last = lastLine(file);
    let seq = 0;
    let prev = GENESIS;
    if (last) {
      const c = checkLine(last);
      // A damaged last line is reported by verify; keep chaining from its stated hash.
      if (c.ok) {
        seq = c.record.seq + 1;
        prev = c.hash;
      } else {
        seq = -1;
        prev = /"hash":"([0-9a-f]{64})"/.exec(last)?.[1] ?? GENESIS;
      }
    }
    const { line } = chainLine({ seq, prev, ...entry });
    appendDurableSync(file, line);
  });
}

/** The last complete line of a file, reading only its tail. */
function lastLine(file: string): string | undefined {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return undefined;
  }
  try {
    const size = fs.fstatSync(fd).size;
    if (size === 0) return undefined;
    const len = Math.min(size, 64 * 1024);
    const buf = Buffer.alloc(len);
    fs.readSync(fd, buf, 0, len, size - len);
    const text = buf.toString('utf8').replace(/\n+$/, '');
    const i = text.lastIndexOf('\n');
    return i >= 0 ? text.slice(i + 1) : text;
  } finally {
    fs.closeSync(fd);
  }
}

export interface ManifestRead {
  entries: ManifestEntry[];
  problems: string[];
}

export function readManifest(dir: string): ManifestRead {
  const file = manifestPath(dir);
  const entries: ManifestEntry[] = [];
  const problems: string[] = [];
  if (!fs.existsSync(file)) return { entries, problems };
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  let prev = GENESIS;
  let seq = 0;
  lines.forEach((line, i) => {
    const c = checkLine(line);
    if (!c.ok) {
      problems.push(`manifest.jsonl:${i + 1}: ${c.reason}`);
      prev = /"hash":"([0-9a-f]{64})"/.exec(line)?.[1] ?? prev;
      seq++;
      return;
    }
    if (c.record.prev !== prev || c.record.seq !== seq)
      problems.push(`manifest.jsonl:${i + 1}: chain broken (a line before it was removed, inserted or edited)`);
    const { seq: _s, prev: _p, hash: _h, ...entry } = c.record;
    entries.push(entry as unknown as ManifestEntry);
    prev = c.hash;
    seq = c.record.seq + 1;
  });
  return { entries, problems };
}
