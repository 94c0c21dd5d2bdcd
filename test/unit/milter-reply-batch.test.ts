// The replies of a milter session's drain pass (src/milter/reply-batch.ts): what reaches the
// socket, in how many writes, and that a lone reply is written as it is (issue 20).
import assert from 'node:assert/strict';
import type net from 'node:net';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { encodePacket } from '../../src/milter/framing.js';
import { encodeResponse } from '../../src/milter/responses.js';
import { REPLY_BATCH_BYTES, ReplyBatch } from '../../src/milter/reply-batch.js';

/** A socket stand-in that keeps what it is given: a copy of each write, and the buffer object itself. */
function recorder(): { socket: net.Socket; writes: Buffer[]; given: Buffer[] } {
  const writes: Buffer[] = [];
  const given: Buffer[] = [];
  const socket = new Writable({
    write(chunk: Buffer, _enc, done) {
      given.push(chunk);
      writes.push(Buffer.from(chunk));
      done();
    },
  });
  return { socket: socket as unknown as net.Socket, writes, given };
}

test('issue 20: a pass with one reply writes that reply once, as it is; the cached reply stays intact for the next pass', () => {
  const { socket, writes, given } = recorder();
  const batch = new ReplyBatch(socket);
  const cont = encodeResponse({ type: 'continue' });
  const before = Buffer.from(cont);
  batch.add(cont);
  assert.equal(batch.bytes, cont.length);
  batch.flush();
  batch.flush();
  assert.equal(writes.length, 1);
  assert.deepEqual(writes[0], before);
  assert.equal(given[0], cont, 'written as it is: not copied into a batch buffer');
  batch.add(encodeResponse({ type: 'continue' }));
  batch.flush();
  assert.deepEqual(writes, [before, before]);
  assert.deepEqual(cont, before, 'the shared reply buffer is never written into');
});

test('issue 20 / #21 item 2: several replies of one pass leave in one write, in order, the lone first one included', () => {
  const { socket, writes } = recorder();
  const batch = new ReplyBatch(socket);
  const replies = [encodeResponse({ type: 'continue' }), encodeResponse({ type: 'replycode', reply: '550 5.7.1 no' }), encodeResponse({ type: 'accept' })];
  for (const r of replies) batch.add(r);
  assert.equal(batch.bytes, Buffer.concat(replies).length);
  batch.flush();
  assert.equal(writes.length, 1);
  assert.deepEqual(writes[0], Buffer.concat(replies));
  assert.deepEqual(replies[0], encodeResponse({ type: 'continue' }));
});

test('issue 20: a reply larger than a batch after a lone one: both written, in order', () => {
  const { socket, writes } = recorder();
  const batch = new ReplyBatch(socket);
  const small = encodeResponse({ type: 'continue' });
  const big = encodePacket('h', Buffer.alloc(REPLY_BATCH_BYTES + 10, 0x41));
  batch.add(small);
  batch.add(big);
  batch.flush();
  assert.deepEqual(Buffer.concat(writes), Buffer.concat([small, big]));
});
