// The journal's block reader (src/store/day-file-scan.ts): every line exactly once whatever
// the block boundaries (multi-byte characters across them, a line longer than a block, a torn
// last line), the time range, and the byte search of `contains`.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { scanDayFile } from '../../src/store/day-file-scan.js';
import type { JournalRecord } from '../../src/store/store.js';
import { tmpDir } from '../helpers/tmp.js';

const dir = tmpDir('mss-scan-');

async function all(file: string, from: number, to: number, contains?: string): Promise<JournalRecord[]> {
  const out: JournalRecord[] = [];
  for await (const batch of scanDayFile(file, from, to, contains === undefined ? {} : { contains })) {
    assert.ok(batch.length > 0, 'no empty batch');
    out.push(...batch);
  }
  return out;
}

// 3 MiB of lines of varying length with 2- and 3-byte characters, so that block and batch
// boundaries fall inside characters and lines; one line of 2.5 MiB; a torn last line.
const lines: JournalRecord[] = [];
for (let i = 0; i < 30_000; i++) lines.push({ at: 1_000 + i, data: JSON.stringify({ i, t: i % 97 === 0 ? 'needle' : 'hay', s: 'é€'.repeat(i % 50) }) });
lines.splice(12_345, 0, { at: 13_344, data: JSON.stringify({ big: 'x€'.repeat(900_000) }) });
const file = path.join(dir, 'w.jsonl');
fs.writeFileSync(file, lines.map((l) => `${l.at}\t${l.data}\n`).join('') + '99999\t{"torn":"needle');

test('the block reader returns every line once, in order, across block boundaries and a line longer than a block, and a torn last line as it is', async () => {
  const got = await all(file, 0, 1e12);
  assert.equal(got.length, lines.length + 1);
  assert.deepEqual(got.slice(0, -1), lines);
  assert.deepEqual(got.at(-1), { at: 99_999, data: '{"torn":"needle' });
});

test('the block reader keeps the records of the time range only (from inclusive, to exclusive)', async () => {
  const got = await all(file, 2_000, 2_010);
  assert.deepEqual(
    got.map((r) => r.at),
    [2_000, 2_001, 2_002, 2_003, 2_004, 2_005, 2_006, 2_007, 2_008, 2_009],
  );
});

test('with `contains`, the block reader returns exactly the lines holding the text (the first line, the torn last one included)', async () => {
  const got = await all(file, 0, 1e12, '"needle');
  const expected = [...lines.filter((l) => l.data.includes('"needle')), { at: 99_999, data: '{"torn":"needle' }];
  assert.deepEqual(got, expected);
  assert.equal(got[0]?.at, 1_000, 'the very first line matches');
  assert.deepEqual(
    await all(file, 0, 1e12, 'é€é€é€é€é€é€é€é€é€é€é€é€é€é€é€é€é€é€é€é€é€é€é€é€é€é€é€é€é€é€é€é€é€é€é€é€é€é€é€é€é€é€é€é€é€é€é€é€é€'),
    lines.filter((l) => l.data.includes('é€'.repeat(49))),
  );
});
