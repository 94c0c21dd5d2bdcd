// The error codes are typed lists per part (src/error-codes.ts): MssError takes no other
// (tsc checks every `new MssError('…')`); these tests keep the lists honest.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ERROR_CODES } from '../../src/error-codes.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { tsFilesUnder } from '../helpers/import-graph.js';

const LISTS = path.join(REPO_ROOT, 'src', 'error-codes.ts');
const sources = (): string =>
  ['src', 'sandbox']
    .flatMap((d) => tsFilesUnder(path.join(REPO_ROOT, d)))
    .filter((f) => f !== LISTS)
    .map((f) => fs.readFileSync(f, 'utf8'))
    .join('\n');

test('each listed error code is raised or named somewhere in src/ or sandbox/, and listed in one part only', () => {
  const text = sources();
  const all = Object.values(ERROR_CODES).flat();
  assert.deepEqual(
    all.filter((c, i) => all.indexOf(c) !== i),
    [],
    'a code in two parts',
  );
  assert.deepEqual(
    all.filter((c) => !new RegExp(`\\b${c}\\b`).test(text)),
    [],
    'listed, raised nowhere: remove it from src/error-codes.ts',
  );
  for (const [part, codes] of Object.entries(ERROR_CODES)) assert.ok(codes.length > 0, `${part} has codes`);
});

test('every code written after `new MssError(` is in a list (what tsc checks, seen from the text)', () => {
  const listed = new Set<string>(Object.values(ERROR_CODES).flat());
  const raised = [...sources().matchAll(/new MssError\(\s*'([A-Z][A-Z0-9_]+)'/g)].map((m) => m[1] as string);
  assert.ok(raised.length > 150, `the sources are read (${raised.length} codes raised)`);
  assert.deepEqual([...new Set(raised.filter((c) => !listed.has(c)))], []);
});
