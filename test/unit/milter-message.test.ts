// What a milter session keeps of the message in progress (src/milter/message.ts): header
// lookups by name as the rules and the recorder make them, within the kept bounds.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MessageState } from '../../src/milter/message.js';

test('issue 20: header lookups ignore the case of names, keep the order of repeated fields and see only the headers kept', () => {
  const m = new MessageState({ maxHeaders: 4, maxHeaderBytes: 64 * 1024 });
  m.addHeader({ name: 'From', value: '<a@x.fr>' });
  m.addHeader({ name: 'X-MSS-NIL', value: '<nil/1>' });
  m.addHeader({ name: 'from', value: '<b@x.fr>' });
  m.addHeader({ name: 'SUBJECT', value: 'hello' });
  m.addHeader({ name: 'X-Late', value: 'over the count' });
  assert.equal(m.header('x-mss-nil'), '<nil/1>');
  assert.equal(m.header('Subject'), 'hello');
  assert.equal(m.header('FROM'), '<a@x.fr>', 'the first of repeated fields');
  assert.deepEqual(m.headerAll('From'), ['<a@x.fr>', '<b@x.fr>']);
  assert.equal(m.header('X-Late'), undefined, 'a header beyond maxHeaders is counted, not kept');
  assert.deepEqual(m.headerAll('x-late'), []);
  assert.equal(m.headersTruncated, true);
  assert.equal(m.header('User-Agent'), undefined);
  assert.equal(m.headers.length, 4);
});
