// The fast reader of a cold load (js-yaml events) must give what the Document API gives:
// the same values, the same layout for splicing edits, and the same line for every key.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { ASK_DOCUMENT, lineOf, parseRegistryFast, parseRegistryText } from '../../src/registry/source.js';
import { bigRegistryYaml, cab, org, per, registryYaml } from '../helpers/registry.js';

const SAME_SHAPE = [
  bigRegistryYaml(200),
  registryYaml([
    per('a.b', 'A', 'B', '810000000101', { contact: { email: 'x@y.fr' } }),
    org('sec'),
    cab('cab', [{ idNat: '810000000111', lastName: 'X', firstName: 'Y', responsible: true }]),
  ]),
  fs.readFileSync(new URL('../../../examples/registry.yaml', import.meta.url), 'utf8'),
  '# x\nmailboxes:\n  - address: a@b\n    description: >\n      folded\n    holder:\n  - { address: c }\n',
  'mailboxes: [ {address: a}, {address: b} ]\n',
  'mailboxes:\n- address: a\n  type: x\n\n# c\n\nversion: 1\n',
  'mailboxes:\r\n  - address: a\r\n    type: x\r\n\r\n# c\r\nversion: 1\r\n',
  'mailboxes:\n  - address: a\n  - &x {address: b}\n',
  'version: 1\nmailboxes:\n  -   address: a\n  - address: b\n',
  'version: 1\nmailboxes:\n  - address: a\n    delegates:\n      - idNat: "1"\n        for: \'2\'\n      - idNat: 3\n    "coHolders": [ { idNat: x } ]\n',
];
const PATHS: Array<Array<string | number>> = [
  [],
  ['address'],
  ['holder'],
  ['holder', 'idNat'],
  ['holder', 'nope'],
  ['structure', 'id'],
  ['delegates', 0, 'for'],
  ['delegates', 1, 'idNat'],
  ['delegates', 5],
  ['coHolders', 0, 'idNat'],
  ['description'],
  ['contact', 'email'],
  ['nope', 'x'],
];

test('the fast reader agrees with the Document API on values, layout and lines', () => {
  let compared = 0;
  for (const text of SAME_SHAPE) {
    const fast = parseRegistryFast(text);
    assert.ok(fast, `fast reader gave up on ${JSON.stringify(text.slice(0, 40))}`);
    const doc = parseRegistryText(text, 'r.yaml');
    assert.deepEqual(fast.raw, doc.raw);
    assert.deepEqual(fast.layout, doc.layout);
    for (let i = -1; i < doc.raw.length; i++) {
      for (const p of i < 0 ? [[]] : PATHS) {
        const line = fast.line(i, p);
        if (line === ASK_DOCUMENT) continue;
        assert.equal(line, lineOf(doc, i, p), `mailbox ${i} ${p.join('.')} in ${JSON.stringify(text.slice(0, 40))}`);
        compared++;
      }
    }
  }
  assert.ok(compared > 2000);
});

test('the fast reader leaves unusual files to the Document API', () => {
  for (const text of [
    '',
    '# only a comment\n',
    'version: 2\nmailboxes: []\n',
    'mailbox: []\n',
    'mailboxes: 3\n',
    '- a\n',
    'version: 1\nmailboxes: [\n',
    'mailboxes:\n  - address: a\n    type: PER\n    type: ORG\n',
    'mailboxes:\n  - &a { address: a }\n  - *a\n',
    '---\nmailboxes: []\n---\nmailboxes: []\n',
  ]) {
    assert.equal(parseRegistryFast(text), undefined, JSON.stringify(text));
  }
});
