import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { WHITELIST_REFUSALS } from '../../src/whitelist/codes.js';
import { REPO_ROOT } from '../helpers/cli.js';

test('every liste blanche refusal code is documented in docs/whitelist.md', () => {
  const doc = fs.readFileSync(path.join(REPO_ROOT, 'docs', 'whitelist.md'), 'utf8');
  const missing = Object.keys(WHITELIST_REFUSALS).filter((code) => !doc.includes(`\`${code}\``));
  assert.deepEqual(missing, []);
});
