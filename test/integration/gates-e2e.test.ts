// Operators A and B of the test PKI, each with its gates in front of a real Postfix: mail
// written by a user of A leaves A's Postfix through A's outbound gate, crosses mutual TLS
// to B's inbound gate, and lands in B's Postfix.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, test } from 'node:test';
import { gateWorld, deliveredMatching, type TestWorld } from '../helpers/gates.js';
import { SmtpClient, message } from '../helpers/smtp-client.js';
import { connectTls, send } from '../helpers/gate-client.js';
import type { JournalEvent } from '../../src/journal/events.js';
import { recentJournal } from '../../sandbox/lps-exchange.js';

let world: TestWorld;
const A = { user: 'alice.martin@ch-sandbox-a.mssante.fr' };
const B = { user: 'bruno.petit@clinique-sandbox-b.mssante.fr' };

before(async () => {
  world = await gateWorld({ mta: 'real' });
});
after(async () => {
  await world?.stop();
});

async function inject(from: string, to: string[], subject: string, body = 'bonjour'): Promise<void> {
  const c = await SmtpClient.connect(world.node('A').ports.inject);
  assert.equal((await c.command('EHLO lps.ch-sandbox-a.test')).code, 250);
  assert.equal((await c.command(`MAIL FROM:<${from}>`)).code, 250);
  for (const t of to) assert.equal((await c.command(`RCPT TO:<${t}>`)).code, 250);
  const [, final] = await c.data(message({ from, to, subject, body }));
  assert.equal(final.code, 250, final.text);
  await c.quit();
}

test("TM3.2P → TM3.1P end to end: a message from A lands in B's Postfix through both gates (EX_3.2_5050 EX_3.1_5030; RFC 5321 commands both ways: EX_3.2_5070 EX_3.1_5040)", async () => {
  await inject(A.user, [B.user], 'e2e simple');
  const b = world.node('B').postfix;
  assert.ok(b);
  await b.waitFor(() => deliveredMatching(world, 'B', /Subject: e2e simple/).length === 1, 20_000, 'delivery in B');
  const text = fs.readFileSync(deliveredMatching(world, 'B', /Subject: e2e simple/)[0] as string, 'utf8');
  assert.match(text, /mss-sidecar gate-in/);
  assert.match(text, /client certificate verified: CN=mss\.ch-sandbox-a\.fr/);
});

/** An operator's journal events of the last hour, as its `serve` wrote them. */
const journalOf = (id: string): Promise<JournalEvent[]> => recentJournal(world.node(id).config);

test("XFORWARD: delivery events carry A's Postfix queue id (the mailId of submitted events); B records the received message under its own queue id", async () => {
  await inject(A.user, [B.user], 'e2e journal');
  await world.node('B').postfix?.waitFor(() => deliveredMatching(world, 'B', /Subject: e2e journal/).length === 1, 20_000, 'delivery in B');
  const aLog = world.node('A').postfix?.maillog() ?? '';
  // Postfix hands the message to the gate's unix socket (mss-gate-out, default_transport).
  const aId = new RegExp(`([0-9A-F]{6,}): to=<${B.user.replace(/\./g, '\\.')}>, relay=[^,]*\\[[^\\]]*gate-out\\.sock\\],.*status=sent`).exec(aLog)?.[1];
  assert.ok(aId, aLog.slice(-2000));
  const deliveries = (await journalOf('A')).filter((e) => e.type === 'delivery' && e.mailId === aId);
  assert.equal(deliveries.length, 1);
  assert.equal(deliveries[0]?.type === 'delivery' && deliveries[0].outcome, 'delivered');
  const file = deliveredMatching(world, 'B', /Subject: e2e journal/)[0] as string;
  const bLog = world.node('B').postfix?.maillog() ?? '';
  const received = (await journalOf('B')).filter((e) => e.type === 'received' && e.sender === A.user);
  assert.ok(
    received.some((e) => e.type === 'received' && bLog.includes(`${e.mailId}: client=`) && e.peer?.startsWith('CN=mss.ch-sandbox-a.fr')),
    `${JSON.stringify(received)} ${file}`,
  );
});

test('Postfix A keeps its LMTP connection to the outbound gate between messages (postfix/master.cf.d/10-gates.cf, lmtp_connection_cache_destinations): a message sent after the previous one was delivered goes over the same connection', async () => {
  const a = world.node('A').postfix;
  assert.ok(a);
  const sentLine = (id: string): string | undefined =>
    new RegExp(`${id}: to=<[^>]*>, relay=[^\\n]*gate-out\\.sock\\][^\\n]*status=sent[^\\n]*`).exec(a.maillog())?.[0];
  const ids: string[] = [];
  for (const n of [1, 2]) {
    const c = await SmtpClient.connect(world.node('A').ports.inject);
    await c.command('EHLO lps.ch-sandbox-a.test');
    await c.command(`MAIL FROM:<${A.user}>`);
    await c.command(`RCPT TO:<${B.user}>`);
    const [, final] = await c.data(message({ from: A.user, to: [B.user], subject: `e2e lmtp reuse ${n}` }));
    await c.quit();
    const id = /queued as ([0-9A-Za-z]+)/.exec(final.text)?.[1];
    assert.ok(id, final.text);
    ids.push(id);
    // Each message is delivered before the next is sent: no backlog, so Postfix's on-demand cache alone would not keep the connection.
    await a.waitFor(() => sentLine(id) !== undefined, 20_000, `delivery of message ${n} to the gate`);
  }
  assert.match(sentLine(ids[1] as string) ?? '', / conn_use=\d+,/, 'the second message went over a connection Postfix reused');
});

test('EX_3.2_5060 RE_GBM_4410: the outbound gate refuses a non-MSSanté recipient and Postfix bounces the message to its sender with a readable reason', async () => {
  await inject(A.user, ['someone@gmail.com', B.user], 'e2e mixed');
  const a = world.node('A').postfix;
  await a?.waitFor(
    () => deliveredMatching(world, 'A', /Subject: Undelivered Mail Returned to Sender/).some((f) => /someone@gmail\.com/.test(fs.readFileSync(f, 'utf8'))),
    20_000,
    'bounce to alice',
  );
  const bounce = fs.readFileSync(
    deliveredMatching(world, 'A', /someone@gmail\.com/).find((f) => /Undelivered Mail/.test(fs.readFileSync(f, 'utf8'))) as string,
    'utf8',
  );
  // The milter's own rule and text (one implementation), re-checked at the gate.
  assert.match(bounce, /Not sent to someone@gmail\.com: domain gmail\.com is not in the MSSante\s+trust\s+space/);
  assert.match(bounce, /Status: 5\.7\.1/);
  // The MSSanté recipient of the same message was delivered.
  await world.node('B').postfix?.waitFor(() => deliveredMatching(world, 'B', /Subject: e2e mixed/).length === 1, 20_000, 'delivery in B');
});

test("EX_GBM_4410: a message of exactly 10 MiB (the submission milter's limit) injected at A crosses both gates and lands in B, headers added in transit included", async () => {
  const limit = 10 * 1024 * 1024;
  const head = message({ from: A.user, to: [B.user], subject: 'e2e ten mebibytes', body: '' });
  const line = `${'x'.repeat(76)}\r\n`;
  const room = limit - Buffer.byteLength(head);
  const lines = Math.floor((room - 80) / line.length);
  const last = 'y'.repeat(room - lines * line.length - 2);
  const body = line.repeat(lines) + `${last}\r\n`;
  const text = head + body;
  // Exactly the milter's limit as submitted, CRLF line ends (what DATA carries, dot-stuffing aside).
  assert.equal(Buffer.byteLength(text), limit);
  const c = await SmtpClient.connect(world.node('A').ports.inject);
  assert.equal((await c.command('EHLO lps.ch-sandbox-a.test')).code, 250);
  assert.equal((await c.command(`MAIL FROM:<${A.user}> SIZE=${limit}`)).code, 250);
  assert.equal((await c.command(`RCPT TO:<${B.user}>`)).code, 250);
  const [, final] = await c.data(text);
  assert.equal(final.code, 250, final.text);
  await c.quit();
  await world.node('B').postfix?.waitFor(() => deliveredMatching(world, 'B', /Subject: e2e ten mebibytes/).length === 1, 60_000, '10 MiB delivery in B');
  const delivered = fs.readFileSync(deliveredMatching(world, 'B', /Subject: e2e ten mebibytes/)[0] as string, 'latin1');
  // The whole body arrived (LF line ends in the maildir), behind the headers A and B added.
  assert.ok(delivered.endsWith(`\n${last}\n`));
  assert.equal(delivered.split('\n').filter((l) => l === 'x'.repeat(76)).length, lines);
  assert.match(delivered, /mss-sidecar gate-in/);
  assert.doesNotMatch(world.node('A').postfix?.maillog() ?? '', /status=bounced.*(size|5\.3\.4)/);
});

test('LMTP per recipient: with one domain deferred, the delivered recipient is not delivered again when Postfix retries the other', async () => {
  // dgs.mssante.fr is listed but its MX does not answer: that recipient is deferred.
  world.dns.zone.mx = { ...world.dns.zone.mx, 'dgs.mssante.fr': [{ priority: 10, exchange: 'mx.dgs.test' }] };
  world.dns.zone.a = { ...world.dns.zone.a, 'mx.dgs.test': ['127.0.0.9'] };
  await inject(A.user, [B.user, 'alerte@dgs.mssante.fr'], 'e2e partial');
  const a = world.node('A').postfix;
  assert.ok(a);
  await world.node('B').postfix?.waitFor(() => deliveredMatching(world, 'B', /Subject: e2e partial/).length === 1, 20_000, 'delivery in B');
  await a.waitFor(
    (pf) => pf.queue().some((q) => q.recipients.some((r) => r.address === 'alerte@dgs.mssante.fr' && /4\.4\.1/.test(r.delay_reason ?? ''))),
    20_000,
    'deferral of the dgs recipient',
  );
  const queued = a.queue().find((q) => q.recipients.some((r) => r.address === 'alerte@dgs.mssante.fr'));
  assert.deepEqual(
    queued?.recipients.map((r) => r.address),
    ['alerte@dgs.mssante.fr'],
  );
  // Two more attempts: still one copy in B.
  for (let i = 0; i < 2; i++) {
    a.flush();
    await new Promise((r) => setTimeout(r, 1500));
  }
  assert.equal(deliveredMatching(world, 'B', /Subject: e2e partial/).length, 1);
  const events = (await journalOf('A')).filter((e) => e.type === 'delivery' && e.mailId === queued?.queue_id);
  assert.equal(events.filter((e) => e.type === 'delivery' && e.recipient === B.user && e.outcome === 'delivered').length, 1);
  assert.ok(events.filter((e) => e.type === 'delivery' && e.recipient === 'alerte@dgs.mssante.fr' && e.outcome === 'deferred').length >= 2);
});

test('Postfix down: the inbound gate answers 451 4.3.0, never 250 (at DATA: Postfix hears of complete transactions only); the message is delivered once Postfix is back', async () => {
  const b = world.node('B').postfix;
  assert.ok(b);
  await b.stop();
  try {
    const { c } = await connectTls(world.node('B').config.gates.in.listen.host, world.port, {
      cert: world.pki.operators[0]?.cert ?? '',
      key: world.pki.operators[0]?.key ?? '',
    });
    const r = await send(c, A.user, [B.user], message({ from: A.user, to: [B.user], subject: 'e2e postfix down, direct' }));
    await c.quit();
    assert.equal(r.mail.code, 250);
    assert.equal(r.data?.code, 451);
    assert.match(r.data?.text ?? '', /^4\.3\.0 Mail system of smtp\.clinique-sandbox-b\.fr temporarily unavailable/);
    await inject(A.user, [B.user], 'e2e postfix down');
    const a = world.node('A').postfix;
    await a?.waitFor(
      (pf) => pf.queue().some((q) => q.recipients.some((x) => x.address === B.user && /4\.3\.0/.test(x.delay_reason ?? ''))),
      20_000,
      'deferral in A',
    );
  } finally {
    await b.start();
  }
  world.node('A').postfix?.flush();
  await b.waitFor(() => deliveredMatching(world, 'B', /Subject: e2e postfix down/).length === 1, 30_000, 'delivery after Postfix returned');
});
