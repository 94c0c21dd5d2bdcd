// The statistics archive written as a stream (src/stats/zip-stream.ts) keeps the bytes the
// archive always had: a rebuild of the same content after an upgrade gives the same archive,
// which the schedule compares with the ones SIPIL rejected (STATS_SAME_AS_REJECTED). The
// sha256 below is what the writer before issue 20 (whole files read back from disk in 1 MiB
// pieces) produced for the same two files; the content is several pieces long.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { readZip } from '../../src/stats/zip.js';
import { ZipStream } from '../../src/stats/zip-stream.js';
import { tmpDir } from '../helpers/tmp.js';

const dir = tmpDir('mss-zip-');
const A = Array.from(
  { length: 60_000 },
  (_, i) => `M${i};expediteur${i % 97}@ch-a.mssante.fr;dest${(i * 7) % 1013}@ch-b.mssante.fr;2025-03-01 00:00:00;${1000 + i}\n`,
).join('');
const B = 'BAL;DATE\nx@ch-a.mssante.fr;\n';
const MTIME = new Date(Date.UTC(2025, 1, 28, 23));
const EXPECTED = { bytes: 582_578, sha256: '4c8038b376314f87f2863a9691e716f2506170ec0c2f1cb3dec2780bb0e39baf' };
fs.writeFileSync(path.join(dir, 'b.csv'), B);
fs.writeFileSync(path.join(dir, 'a.csv'), A);

const sha = (file: string): string => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

test('EX_PSU_5810: the streamed archive has the bytes of the archive before issue 20, whatever the size of the blocks it is given', () => {
  assert.ok(A.length > 4 * 1024 * 1024, 'several 1 MiB pieces');
  for (const block of [4_099, 65_536, 1_000_003, 3 << 20]) {
    const out = path.join(dir, `live-${block}.zip`);
    const zip = new ZipStream(out, MTIME);
    zip.entry('a.csv');
    const bytes = Buffer.from(A);
    for (let i = 0; i < bytes.length; i += block) zip.push(bytes.subarray(i, i + block));
    zip.endEntry();
    zip.file('b.csv', path.join(dir, 'b.csv'));
    assert.deepEqual(zip.finish(), EXPECTED, `blocks of ${block} bytes`);
    assert.equal(sha(out), EXPECTED.sha256);
  }
  const fromDisk = new ZipStream(path.join(dir, 'disk.zip'), MTIME);
  fromDisk.file('a.csv', path.join(dir, 'a.csv'));
  fromDisk.file('b.csv', path.join(dir, 'b.csv'));
  assert.deepEqual(fromDisk.finish(), EXPECTED);
  const names: string[] = [];
  readZip(path.join(dir, 'disk.zip'), (n) => void names.push(n));
  assert.deepEqual(names, ['a.csv', 'b.csv']);
});

test('an abandoned archive leaves no file behind', () => {
  const out = path.join(dir, 'abandoned.zip');
  const zip = new ZipStream(out, MTIME);
  zip.entry('a.csv');
  zip.push(Buffer.from(A.slice(0, 100_000)));
  zip.abort();
  assert.deepEqual(
    fs.readdirSync(dir).filter((n) => n.startsWith('abandoned')),
    [],
  );
});
