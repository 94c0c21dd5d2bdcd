// EX_GBM_4410 end to end through Postfix with the shipped message_size_limit: a message of
// exactly the configured limit (10 MiB, the larger reading of "10 Mo") is accepted and
// delivered; one byte more is refused by the milter with 552 5.3.4, the size it reports
// being the bytes the client sent.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, test } from 'node:test';
import { BAL, queuedId, startRig, type Rig } from '../helpers/submission-rig.js';

let rig: Rig;

before(async () => {
  rig = await startRig();
});

after(async () => {
  await rig?.stop();
});

/** A message of exactly `size` bytes as sent (CRLF line ends, no line starting with a dot). */
function messageOfSize(size: number, subject: string): string {
  const head = [
    `From: <${BAL.alice}>`,
    `To: <${BAL.bob}>`,
    `Subject: ${subject}`,
    `Date: ${new Date().toUTCString()}`,
    `Message-ID: <${subject}@lps.test>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain',
    '',
    '',
  ].join('\r\n');
  let remaining = size - Buffer.byteLength(head);
  const line = `${'x'.repeat(76)}\r\n`;
  const body: string[] = [];
  while (remaining >= line.length + 80) {
    body.push(line);
    remaining -= line.length;
  }
  body.push(`${'y'.repeat(remaining - 2)}\r\n`);
  const text = head + body.join('');
  assert.equal(Buffer.byteLength(text), size);
  return text;
}

test('EX_GBM_4410: a message of exactly the configured limit (10 MiB) passes Postfix and the milter and is delivered; limit + 1 byte is refused with 552 5.3.4', async () => {
  const max = rig.config.maxMessageBytes;
  assert.equal(max, 10 * 1024 * 1024);
  const c = await rig.session(BAL.alice);
  assert.equal((await c.command(`MAIL FROM:<${BAL.alice}>`)).code, 250);
  assert.equal((await c.command(`RCPT TO:<${BAL.bob}>`)).code, 250);
  const [, ok] = await c.data(messageOfSize(max, 'at-the-limit'));
  assert.equal(ok.code, 250, ok.text);

  assert.equal((await c.command(`MAIL FROM:<${BAL.alice}>`)).code, 250);
  assert.equal((await c.command(`RCPT TO:<${BAL.bob}>`)).code, 250);
  const [, refused] = await c.data(messageOfSize(max + 1, 'one-byte-over'));
  assert.equal(refused.code, 552);
  assert.equal(refused.text, `5.3.4 Message size ${max + 1} bytes exceeds the limit of ${max} bytes (EX_GBM_4410)`);
  await c.quit();

  await rig.postfix.waitFor((pf) => pf.delivered().length === 1, 20_000, 'delivery of the 10 MiB message');
  const delivered = fs.readFileSync(rig.postfix.delivered()[0] ?? '', 'utf8');
  assert.match(delivered, /^Subject: at-the-limit$/m);
  // The maildir copy has LF line ends; back in CRLF it is the whole message plus Postfix's headers.
  assert.ok(Buffer.byteLength(delivered.replace(/\n/g, '\r\n')) > max, 'delivered whole');
  const events = await rig.events();
  assert.deepEqual(
    events.map((e) => (e.type === 'submitted' ? [e.mailId, e.size] : [])),
    [[queuedId(ok.text), max]],
  );
  assert.ok(rig.traces().some((t) => t.response?.ok === false && t.response?.code === 'EX_GBM_4410'));
});
