// The milter behind a real Postfix 3.7 (milter_protocol 6), configured with the pieces
// shipped in postfix/: replies reach the SMTP client exactly, per recipient, and header
// edits reach the delivered message.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { createLogger } from '../../src/log.js';
import { decide, type MilterHandler } from '../../src/milter/handler.js';
import { MilterServer } from '../../src/milter/server.js';
import { PostfixInstance } from '../../sandbox/mta/postfix-instance.js';
import { testPki } from '../helpers/pki.js';
import { freePorts } from '../helpers/ports.js';
import { mainPiecesForMilter, submissionListener } from '../helpers/postfix-pieces.js';
import { SmtpClient, message, type RawReply } from '../helpers/smtp-client.js';
import { tmpDir } from '../helpers/tmp.js';

const log = createLogger({ level: 'silent', pretty: false });
const seen: Array<Record<string, string | undefined>> = [];

// A stand-in for the rules: enough behaviour to see each protocol feature through Postfix.
const handler: MilterHandler = {
  mail(_ctx, sender) {
    if (/^usurper[0-9]*@/.test(sender.address)) return decide.reply(553, '5.7.1', `Sender ${sender.address} is not the authenticated mailbox`);
    return undefined;
  },
  async rcpt(_ctx, r) {
    await new Promise((res) => setTimeout(res, 1));
    if (r.address.endsWith('@gmail.com')) return decide.reply(550, '5.7.1', `Recipient domain gmail.com is outside the MSSante trust space`);
    if (r.address.startsWith('crash@')) throw new Error('rule crashed');
    return undefined;
  },
  eom(ctx) {
    seen.push({
      i: ctx.queueId,
      client_addr: ctx.macros.get('{client_addr}'),
      client_name: ctx.macros.get('client_name'),
      subject: ctx.message.header('Subject'),
    });
    ctx.addHeader('X-MSS-Milter', `checked ${ctx.message.recipients.length} recipient(s)`);
    return decide.continue();
  },
};

let milter: MilterServer;
let postfix: PostfixInstance;
let smtpPort = 0;
// At module level, not in before(): tmpDir() registers its clean-up with after(), and an
// after() registered inside a before() hook runs as soon as that hook ends — it would
// delete Postfix's directory under the running instance.
const root = tmpDir();

before(async () => {
  const [milterPort, port] = await freePorts(2);
  const pki = await testPki();
  smtpPort = port;
  milter = new MilterServer({ listen: { kind: 'inet', host: '127.0.0.1', port: milterPort }, handler, log });
  await milter.start();
  postfix = new PostfixInstance({
    dir: path.join(root, 'postfix'),
    myhostname: 'mx.ch.test',
    // The shipped service's milter and TLS options; no SASL here (nor the fronts' PROXY header).
    services: [submissionListener(smtpPort, [], /^(smtpd_milters|milter_|smtpd_tls_(security_level|chain_files|protocols|mandatory_)|tls_|line_length_limit)/)],
    virtualDomains: ['ch.mssante.fr', 'autre.mssante.fr'],
    // The shipped service requires STARTTLS (EX_LPS_0400): a test certificate for it.
    main: { ...mainPiecesForMilter(`inet:127.0.0.1:${milterPort}`), mss_submission_tls_chain_files: `${pki.https.key} ${pki.https.cert}` },
  });
  await postfix.start();
});

after(async () => {
  await postfix?.stop();
  await milter?.stop(100);
});

async function session(): Promise<SmtpClient> {
  const c = await SmtpClient.connect(smtpPort);
  // On failure, show what Postfix and the milter saw (a greeting waits for the milter's negotiation).
  assert.equal(
    c.greeting.code,
    220,
    `greeting ${c.greeting.code} ${c.greeting.text}; milter connections ${milter.connections}; maillog:\n${postfix.maillog().slice(-3000)}`,
  );
  assert.equal((await c.command('EHLO lps.ch.test')).code, 250);
  await c.startTls({ servername: 'localhost' });
  assert.equal((await c.command('EHLO lps.ch.test')).code, 250);
  return c;
}

function queued(r: RawReply): string {
  const m = /queued as ([0-9A-Za-z]+)/.exec(r.text);
  assert.ok(m, `expected "queued as", got ${r.code} ${r.text}`);
  return m[1] ?? '';
}

test("one recipient refused with the rule's 550 5.7.1 text while the other recipient of the message is accepted and delivered with the added header", async () => {
  const c = await session();
  assert.equal((await c.command('MAIL FROM:<alice@ch.mssante.fr>')).code, 250);
  const ok = await c.command('RCPT TO:<bob@autre.mssante.fr>');
  assert.equal(ok.code, 250);
  const refused = await c.command('RCPT TO:<eve@gmail.com>');
  assert.equal(refused.code, 550);
  assert.equal(refused.text, '5.7.1 Recipient domain gmail.com is outside the MSSante trust space');
  const [, final] = await c.data(message({ from: 'alice@ch.mssante.fr', to: ['bob@autre.mssante.fr'], subject: 'compte rendu' }));
  assert.equal(final.code, 250);
  const id = queued(final);
  await c.quit();

  await postfix.waitFor((pf) => pf.delivered().some((f) => fs.readFileSync(f, 'utf8').includes('compte rendu')), 15_000, 'delivery');
  const file = postfix.delivered().find((f) => fs.readFileSync(f, 'utf8').includes('compte rendu')) ?? '';
  const text = fs.readFileSync(file, 'utf8');
  assert.match(text, /^X-MSS-Milter: checked 1 recipient\(s\)$/m);
  assert.match(text, /^Delivered-To: bob@autre\.mssante\.fr$/m);
  assert.doesNotMatch(text, /eve@gmail\.com/);
  // Macros i and {client_addr} seen by the handler at end of message.
  const saw = seen.find((s) => s.subject === 'compte rendu');
  assert.deepEqual(saw && { i: saw.i, client_addr: saw.client_addr }, { i: id, client_addr: '127.0.0.1' });
});

test("a message refused at MAIL FROM with 553 5.7.1 and the rule's text", async () => {
  const c = await session();
  const r = await c.command('MAIL FROM:<usurper@ch.mssante.fr>');
  assert.equal(r.code, 553);
  assert.equal(r.text, '5.7.1 Sender usurper@ch.mssante.fr is not the authenticated mailbox');
  // The session goes on: the next transaction is judged afresh.
  assert.equal((await c.command('MAIL FROM:<alice@ch.mssante.fr>')).code, 250);
  assert.equal((await c.command('RCPT TO:<bob@autre.mssante.fr>')).code, 250);
  await c.quit();
});

test('a rule that throws temp-fails the message: 4xx to the client, nothing queued', async () => {
  const before = postfix.queue().length + postfix.delivered().length;
  const c = await session();
  assert.equal((await c.command('MAIL FROM:<alice@ch.mssante.fr>')).code, 250);
  const r = await c.command('RCPT TO:<crash@autre.mssante.fr>');
  assert.equal(r.code, 451);
  assert.match(r.text, /^4\.7\.1 /);
  // Every later step of that message is temp-failed as well.
  const r2 = await c.command('RCPT TO:<bob@autre.mssante.fr>');
  assert.equal(Math.floor(r2.code / 100), 4, `${r2.code} ${r2.text}`);
  const [go] = await c.data(message({ from: 'alice@ch.mssante.fr', to: ['bob@autre.mssante.fr'] }));
  assert.notEqual(go.code, 354);
  await c.quit();
  assert.equal(postfix.queue().length + postfix.delivered().length, before);
});

test('50 concurrent SMTP sessions through the milter each get their own correct replies', async () => {
  const results = await Promise.all(
    Array.from({ length: 50 }, async (_, n) => {
      const c = await session();
      const mail = await c.command(`MAIL FROM:<${n % 10 === 0 ? 'usurper' : 'alice'}${n}@ch.mssante.fr>`);
      if (n % 10 === 0) {
        await c.quit();
        return mail.code === 553 && mail.text.includes(`usurper${n}@`);
      }
      const good = await c.command(`RCPT TO:<r${n}@autre.mssante.fr>`);
      const bad = await c.command(`RCPT TO:<x${n}@gmail.com>`);
      const [, final] = await c.data(message({ from: `alice${n}@ch.mssante.fr`, to: [`r${n}@autre.mssante.fr`], subject: `concurrent ${n}` }));
      await c.quit();
      return mail.code === 250 && good.code === 250 && bad.code === 550 && bad.text.includes('gmail.com') && final.code === 250;
    }),
  );
  assert.deepEqual(
    results.map((ok, n) => (ok ? 'ok' : `session ${n} failed`)).filter((x) => x !== 'ok'),
    [],
  );
  assert.ok(milter.connections <= 50);
});
