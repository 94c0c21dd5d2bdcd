import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { buildMatrix, matrixOnDisk, problems } from '../../scripts/compliance.js';
import { REPO_ROOT } from '../helpers/cli.js';

test('docs/COMPLIANCE.md and docs/COMPLIANCE-details.md are current and every requirement cited in code is named by a test', () => {
  const matrix = buildMatrix(REPO_ROOT);
  assert.deepEqual(problems(matrix, matrixOnDisk(REPO_ROOT)), []);
});

test('the matrix is one line per ID linked to its details; the details link every place and test', () => {
  const matrix = buildMatrix(REPO_ROOT);
  const { summary, details } = matrixOnDisk(REPO_ROOT);
  const rows = summary.split('\n').filter((l) => /^\| \[/.test(l));
  assert.equal(rows.length, matrix.requirements.length, 'one row per requirement');
  for (const r of matrix.requirements) {
    assert.ok(summary.includes(`| [${r.id}](COMPLIANCE-details.md#${r.id}) |`), `${r.id} links to its details`);
    assert.ok(details.includes(`<a id="${r.id}"></a>`), `${r.id} has its anchor in the details`);
  }
  // Each place of the details names a file and line that exist (a link that leads nowhere fails).
  for (const m of details.matchAll(/\]\(\.\.\/([^#)]+)#L(\d+)\)/g)) {
    const lines = fs.readFileSync(path.join(REPO_ROOT, m[1] as string), 'utf8').split('\n').length;
    assert.ok(Number(m[2]) <= lines, `${m[1]}:${m[2]} exists`);
  }
  assert.ok(Math.max(...rows.map((l) => l.length)) < 1200, 'no row holds the whole list of places and tests');
});

test('the details list no test title as a raw template literal: each is rendered per value, or shows «the expression» (scripts/test-titles.ts)', () => {
  const { details } = matrixOnDisk(REPO_ROOT);
  const tests = details.split('\n').filter((l) => /^- \[test\//.test(l));
  assert.ok(tests.length > 500, `the tests are listed (${tests.length})`);
  assert.deepEqual(
    tests.filter((l) => l.includes('${')),
    [],
  );
  // A loop over the two store backends gives a line for each.
  for (const backend of ['redis', 'embedded']) {
    assert.ok(
      tests.some((l) => l.includes(`EX_PSU_5830 (${backend} store): the gate killed between Postfix`)),
      backend,
    );
  }
});
