// The outbound gate reads the beginning of a message from Postfix while it waits for the
// remote servers' 354 (src/gate/outbound/prefetch.ts, issue 20): bounded, in order, every
// chunk seen once by the header sniffer, a failure of Postfix's stream not lost.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { setImmediate as tick } from 'node:timers/promises';
import { test } from 'node:test';
import { ContentPrefetch } from '../../src/gate/outbound/prefetch.js';

const CHUNK = 4096;

/**
 * Postfix's side as smtp-server presents it: a stream with a 16 KB high-water mark written
 * chunk by chunk, each write waiting for 'drain' when the stream says so (smtp-server stops
 * reading its socket then, and Postfix's writes block). Resolves with the bytes written once
 * all are, or when `settle` says the writer is stuck.
 */
function postfixContent(total: number): { stream: PassThrough; written: () => number; done: Promise<void>; bytes: Buffer } {
  const stream = new PassThrough({ highWaterMark: 16 * 1024 });
  const bytes = Buffer.alloc(total);
  for (let i = 0; i < total; i++) bytes[i] = 0x41 + (i % 26);
  let written = 0;
  const done = (async () => {
    while (written < total) {
      const piece = bytes.subarray(written, Math.min(total, written + CHUNK));
      written += piece.length;
      if (!stream.write(piece)) await new Promise((r) => stream.once('drain', r));
    }
    stream.end();
  })();
  return { stream, written: () => written, done, bytes };
}

async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await tick();
}

test('issue 20: without a reader the content stalls at the stream s 16 KB high-water mark; with the prefetch a 100 KB message is read whole before the 354, then yielded in order, each chunk seen once', async () => {
  const unread = postfixContent(100 * 1024);
  await settle();
  assert.ok(unread.written() <= 40 * 1024, `nobody reads: the writer is held back (${unread.written()} bytes written)`);
  unread.stream.resume();
  await unread.done;

  const p = postfixContent(100 * 1024);
  const seen: Buffer[] = [];
  const ahead = new ContentPrefetch(p.stream, 128 * 1024, (c) => seen.push(c));
  await settle();
  assert.equal(p.written(), 100 * 1024, 'the whole message went through before anyone asked for it');
  assert.equal(Buffer.concat(seen).length, 100 * 1024, 'read ahead, and seen by the sniffer as it was read');
  const out: Buffer[] = [];
  for await (const c of ahead.content()) out.push(c);
  assert.ok(Buffer.concat(out).equals(p.bytes), 'the same bytes, in order');
  assert.ok(Buffer.concat(seen).equals(p.bytes), 'each chunk seen once, in order');
});

test('issue 20: the prefetch holds at most its bound (128 KB) of a larger message; the rest is read as it is asked for, in order', async () => {
  const p = postfixContent(600 * 1024);
  const seen: Buffer[] = [];
  const ahead = new ContentPrefetch(p.stream, 128 * 1024, (c) => seen.push(c));
  await settle();
  const held = Buffer.concat(seen).length;
  assert.ok(held >= 128 * 1024 && held < 128 * 1024 + 2 * CHUNK, `read ahead: ${held} bytes`);
  assert.ok(p.written() < 300 * 1024, `the writer is held back past the bound (${p.written()} bytes written)`);
  const out: Buffer[] = [];
  for await (const c of ahead.content()) out.push(c);
  await p.done;
  assert.ok(Buffer.concat(out).equals(p.bytes));
  assert.ok(Buffer.concat(seen).equals(p.bytes));
});

test('issue 20: a failure of Postfix s stream while reading ahead is thrown by content(); discard() reads a message nobody takes to its end', async () => {
  const broken = new PassThrough();
  const ahead = new ContentPrefetch(broken, 128 * 1024);
  broken.write(Buffer.from('Subject: x\r\n\r\n'));
  broken.destroy(new Error('Postfix went away'));
  await settle();
  await assert.rejects(async () => {
    for await (const _chunk of ahead.content()) void _chunk;
  }, /Postfix went away/);

  const p = postfixContent(300 * 1024);
  const ended = new Promise((r) => p.stream.once('end', r));
  await new ContentPrefetch(p.stream, 128 * 1024).discard();
  await p.done;
  await ended;
});
