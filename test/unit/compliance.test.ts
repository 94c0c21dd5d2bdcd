import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { buildMatrix, problems } from '../../scripts/compliance.js';
import { REPO_ROOT } from '../helpers/cli.js';

test('docs/COMPLIANCE.md is current and every requirement cited in code is named by a test', () => {
  const matrix = buildMatrix(REPO_ROOT);
  const onDisk = fs.readFileSync(path.join(REPO_ROOT, 'docs', 'COMPLIANCE.md'), 'utf8');
  assert.deepEqual(problems(matrix, onDisk), []);
});
