// The outbound gate of operator A driven over LMTP as Postfix drives it, delivering to B's
// inbound gate (in front of a sink) or to stand-in receiving servers the DNS points at:
// §6.7.2.1 steps 3–6 with their outcomes, per recipient.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, test } from 'node:test';
import { SMTPServer } from 'smtp-server';
import { mssTlsOptions } from '../../src/pki/tls-profile.js';
import { gateWorld, type TestWorld } from '../helpers/gates.js';
import { SmtpClient, message, type RawReply } from '../helpers/smtp-client.js';

let world: TestWorld;
const ALICE = 'alice.martin@ch-sandbox-a.mssante.fr';
const BRUNO = 'bruno.petit@clinique-sandbox-b.mssante.fr';
const B_DOMAIN = 'clinique-sandbox-b.mssante.fr';
const FAKE_IP = '127.0.0.9';

before(async () => {
  world = await gateWorld({ mta: 'none' });
});
after(async () => {
  await world?.stop();
});

/** One LMTP transaction with A's outbound gate, as Postfix's mss-gate-out transport does it. */
async function lmtp(from: string, to: string[], subject: string, ident = `ID${Date.now()}`): Promise<{ mail: RawReply; rcpts: RawReply[]; data: RawReply[] }> {
  const c = await SmtpClient.connect(world.node('A').ports.gateOut);
  const lhlo = await c.command('LHLO mx.ch-sandbox-a.fr');
  assert.match(lhlo.text, /XFORWARD/);
  assert.equal((await c.command(`XFORWARD IDENT=${ident}`)).code, 250);
  const mail = await c.command(`MAIL FROM:<${from}>`);
  const rcpts: RawReply[] = [];
  const data: RawReply[] = [];
  if (mail.code === 250) {
    for (const t of to) rcpts.push(await c.command(`RCPT TO:<${t}>`));
    const accepted = rcpts.filter((r) => r.code === 250).length;
    if (accepted > 0) {
      const [, first] = await c.data(message({ from, to, subject }));
      data.push(first);
      for (let i = 1; i < accepted; i++) data.push(await c.read());
    }
  }
  await c.quit();
  return { mail, rcpts, data };
}

/** A receiving server at B's MX address holding `identity`'s certificate (or offering no STARTTLS). */
async function standIn(identity: { cert: string; key: string } | 'plain'): Promise<{ mails: string[]; connections: number; close: () => Promise<void> }> {
  const state = { mails: [] as string[], connections: 0 };
  const server = new SMTPServer({
    ...(identity === 'plain'
      ? { disabledCommands: ['STARTTLS', 'AUTH'] }
      : { ...mssTlsOptions(), key: fs.readFileSync(identity.key), cert: fs.readFileSync(identity.cert), disabledCommands: ['AUTH'] }),
    authOptional: true,
    logger: false,
    disableReverseLookup: true,
    onConnect: (_s, cb) => {
      state.connections++;
      cb();
    },
    onMailFrom: (a, _s, cb) => {
      state.mails.push(a.address);
      cb();
    },
    onData: (stream, _s, cb) => {
      stream.resume();
      stream.on('end', () => cb(null, 'Ok: queued as STANDIN'));
    },
  });
  await new Promise<void>((r) => server.listen(world.port, FAKE_IP, r));
  // Sessions cached from earlier tests were verified for B's real gate: start afresh.
  await world.node('A').gates()?.gateOut?.cache.closeAll();
  world.dns.zone.mx = { ...world.dns.zone.mx, [B_DOMAIN]: [{ priority: 10, exchange: 'standin.test' }] };
  world.dns.zone.a = { ...world.dns.zone.a, 'standin.test': [FAKE_IP] };
  return {
    get mails() {
      return state.mails;
    },
    get connections() {
      return state.connections;
    },
    close: async () => {
      world.dns.zone.mx = { ...world.dns.zone.mx, [B_DOMAIN]: [{ priority: 10, exchange: world.node('B').op.fqdn }] };
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

test("TM3.2P EX_3.2_5010: per-recipient LMTP replies — one delivered through B's gate, one refused by it — with the remote server named", async () => {
  const r = await lmtp(ALICE, [BRUNO, `nobody@${B_DOMAIN}`], 'out per recipient');
  assert.equal(r.mail.code, 250);
  assert.deepEqual(
    r.rcpts.map((x) => x.code),
    [250, 250],
  );
  assert.equal(r.data[0]?.code, 250, r.data[0]?.text);
  assert.match(r.data[0]?.text ?? '', /delivered to smtp\.clinique-sandbox-b\.fr\[127\.0\.0\.3\]/);
  // The unknown mailbox was refused by B's gate: its own LMTP reply, permanent, naming who said it.
  assert.equal(r.data[1]?.code, 550);
  assert.match(r.data[1]?.text ?? '', /^5\.1\.1 smtp\.clinique-sandbox-b\.fr\[127\.0\.0\.3\]:\d+ said: 550 5\.1\.1 Mailbox <nobody@/);
  assert.equal(
    world
      .node('B')
      .delivered()
      .filter((f) => /Subject: out per recipient/.test(fs.readFileSync(f, 'utf8'))).length,
    1,
  );
});

test('EX_3.2_5060: a sender or a recipient domain outside the liste blanche is refused before anything is sent, with the reason', async () => {
  const sender = await lmtp('x@gmail.com', [BRUNO], 'unlisted sender');
  assert.equal(sender.mail.code, 550);
  assert.match(sender.mail.text, /^5\.7\.1 Not sent: sender domain gmail\.com is not in the liste blanche MSSante/);
  const notOurs = await lmtp(`x@${B_DOMAIN}`, [BRUNO], 'sender of another operator');
  assert.equal(notOurs.mail.code, 550);
  assert.match(notOurs.mail.text, /does not list sender domain clinique-sandbox-b\.mssante\.fr under this operator's certificate DN/);
  const rcpt = await lmtp(ALICE, ['y@gmail.com'], 'unlisted rcpt');
  assert.equal(rcpt.rcpts[0]?.code, 550);
  assert.match(rcpt.rcpts[0]?.text ?? '', /^5\.7\.1 Not sent to y@gmail\.com: domain gmail\.com is not in the MSSante trust space/);
});

test('EX_3.2_5060: a notification with the null sender (MAIL FROM:<>: a DSN, an auto-reply) leaves for a listed domain; to a domain outside the liste blanche it is refused', async () => {
  const dsn = await lmtp('', [BRUNO], 'null sender to B');
  assert.equal(dsn.mail.code, 250, dsn.mail.text);
  assert.equal(dsn.rcpts[0]?.code, 250, dsn.rcpts[0]?.text);
  assert.equal(dsn.data[0]?.code, 250, dsn.data[0]?.text);
  assert.equal(
    world
      .node('B')
      .delivered()
      .filter((f) => /Subject: null sender to B/.test(fs.readFileSync(f, 'utf8'))).length,
    1,
  );
  const out = await lmtp('', ['postmaster@gmail.com'], 'null sender to gmail');
  assert.equal(out.mail.code, 250);
  assert.equal(out.rcpts[0]?.code, 550);
  assert.match(out.rcpts[0]?.text ?? '', /^5\.7\.1 Not sent to postmaster@gmail\.com: domain gmail\.com is not in the MSSante trust space/);
});

test('EX_LPS_0900 RE_GBM_4420 (defence in depth): the outbound gate refuses a sender that is not one of our mailboxes, and a suspended one, whatever door the message came by', async () => {
  const unknown = await lmtp('nobody.here@ch-sandbox-a.mssante.fr', [BRUNO], 'unknown sender');
  assert.equal(unknown.mail.code, 553);
  assert.equal(
    unknown.mail.text,
    '5.7.1 Sender nobody.here@ch-sandbox-a.mssante.fr is not an MSSante mailbox of this operator: it cannot send through this operator',
  );
  const suspended = await lmtp('ancien.service@ch-sandbox-a.mssante.fr', [BRUNO], 'suspended sender');
  assert.equal(suspended.mail.code, 550);
  assert.equal(suspended.mail.text, '5.7.1 Mailbox ancien.service@ch-sandbox-a.mssante.fr is suspended: it cannot send messages (RE_GBM_4420)');
  assert.equal(
    world
      .node('B')
      .delivered()
      .filter((f) => /Subject: (unknown|suspended) sender/.test(fs.readFileSync(f, 'utf8'))).length,
    0,
  );
});

test('EX_GBM_4420 (defence in depth): a message with 41 recipients leaves for none of them — the 41st refused at RCPT, the 40 others at DATA, permanently — and a later delivery of the same message is refused at MAIL', async () => {
  const ident = `TOOMANY${Date.now()}`;
  const to = Array.from({ length: 41 }, (_, i) => `dest${i}@${B_DOMAIN}`);
  const r = await lmtp(ALICE, to, 'forty-one recipients', ident);
  assert.deepEqual(
    r.rcpts.slice(0, 40).map((x) => x.code),
    Array(40).fill(250),
  );
  assert.equal(r.rcpts[40]?.code, 550);
  assert.equal(r.rcpts[40]?.text, '5.5.3 Too many recipients: at most 40 per message (EX_GBM_4420); send to the others in another message');
  assert.deepEqual(
    [...new Set(r.data.map((x) => `${x.code} ${x.text}`))],
    ['550 5.5.3 Too many recipients: at most 40 per message (EX_GBM_4420); send to the others in another message'],
  );
  assert.equal(r.data.length, 40);
  // Postfix sends the rest of a large message in a later delivery with the same queue id.
  const again = await lmtp(ALICE, [BRUNO], 'forty-one recipients', ident);
  assert.equal(again.mail.code, 550);
  assert.equal(
    world
      .node('B')
      .delivered()
      .filter((f) => /Subject: forty-one recipients/.test(fs.readFileSync(f, 'utf8'))).length,
    0,
  );
  // Forty recipients is the limit, not beyond it.
  const forty = await lmtp(ALICE, [BRUNO, ...to.slice(0, 39)], 'forty recipients');
  assert.equal(forty.rcpts.filter((x) => x.code === 250).length, 40);
});

test('EX_GBM_4010: a test mailbox of ours writes only to test mailboxes', async () => {
  const r = await lmtp('test.recette@ch-sandbox-a.mssante.fr', [BRUNO, `test.recette@${B_DOMAIN}`], 'test to test');
  assert.equal(r.rcpts[0]?.code, 550);
  assert.match(r.rcpts[0]?.text ?? '', /test mailbox test\.recette@ch-sandbox-a\.mssante\.fr may only exchange with test mailboxes \(EX_GBM_4010\)/);
  assert.equal(r.rcpts[1]?.code, 250);
  assert.equal(r.data[0]?.code, 250, r.data[0]?.text);
});

test('EX_3.2_5050 step 5: a receiving server whose certificate DN is not in the list gets nothing; the recipient is deferred (4.7.1)', async () => {
  const s = await standIn({ cert: world.pki.rogue.cert, key: world.pki.rogue.key });
  try {
    const r = await lmtp(ALICE, [BRUNO], 'to rogue');
    assert.equal(r.data[0]?.code, 451, r.data[0]?.text);
    assert.match(r.data[0]?.text ?? '', /^4\.7\.1 Certificate DN CN=mss\.rogue\.sandbox\.invalid.* is not in the liste blanche/);
    assert.deepEqual(s.mails, [], 'no MAIL FROM reached the server');
  } finally {
    await s.close();
  }
});

test('EX_3.2_5050 step 6 EX_3.2_5040: a listed connector that the list does not give for the recipient domain gets nothing', async () => {
  const a = world.pki.operators.find((o) => o.id === 'A');
  assert.ok(a);
  const s = await standIn({ cert: a.cert, key: a.key });
  try {
    const r = await lmtp(ALICE, [BRUNO], 'to another operator');
    assert.equal(r.data[0]?.code, 451);
    assert.match(
      r.data[0]?.text ?? '',
      /^4\.7\.1 .*presented CN=mss\.ch-sandbox-a\.fr,.* which the liste blanche MSSante does not list for clinique-sandbox-b\.mssante\.fr/,
    );
    assert.deepEqual(s.mails, []);
  } finally {
    await s.close();
  }
});

test('EX_OPE_5050 outbound: a receiving server with a revoked certificate gets nothing', async () => {
  const s = await standIn({ cert: world.pki.revoked.cert, key: world.pki.revoked.key });
  try {
    const r = await lmtp(ALICE, [BRUNO], 'to revoked');
    assert.equal(r.data[0]?.code, 451);
    assert.match(r.data[0]?.text ?? '', /revoked/);
    assert.deepEqual(s.mails, []);
  } finally {
    await s.close();
  }
});

test('EX_3.2_5020: a receiving server without STARTTLS gets nothing in clear; deferred 4.7.4', async () => {
  const s = await standIn('plain');
  try {
    const r = await lmtp(ALICE, [BRUNO], 'to plaintext');
    assert.equal(r.data[0]?.code, 451);
    assert.match(r.data[0]?.text ?? '', /^4\.7\.4 .*does not offer STARTTLS/);
    assert.deepEqual(s.mails, []);
  } finally {
    await s.close();
  }
});

test('connection cache: consecutive messages to one domain share one verified session', async () => {
  const b = world.pki.operators.find((o) => o.id === 'B');
  assert.ok(b);
  const s = await standIn({ cert: b.cert, key: b.key });
  try {
    for (let i = 0; i < 3; i++) assert.equal((await lmtp(ALICE, [BRUNO], `cached ${i}`)).data[0]?.code, 250);
    assert.deepEqual(s.mails, [ALICE, ALICE, ALICE]);
    assert.equal(s.connections, 1);
  } finally {
    await s.close();
  }
});
