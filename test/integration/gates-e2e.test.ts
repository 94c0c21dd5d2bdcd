// Operators A and B of the test PKI, each with its gates in front of a real Postfix: mail
// written by a user of A leaves A's Postfix through A's outbound gate, crosses mutual TLS
// to B's inbound gate, and lands in B's Postfix.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, test } from 'node:test';
import { gateWorld, deliveredMatching, type TestWorld } from '../helpers/gates.js';
import { SmtpClient, message } from '../helpers/smtp-client.js';

let world: TestWorld;
const A = { user: 'alice.martin@ch-sandbox-a.mssante.fr' };
const B = { user: 'bruno.petit@clinique-sandbox-b.mssante.fr' };

before(async () => {
  world = await gateWorld({ postfix: true });
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

test('TM3.2P → TM3.1P end to end: a message from A lands in B\'s Postfix through both gates (EX_3.2_5050 EX_3.1_5030)', async () => {
  await inject(A.user, [B.user], 'e2e simple');
  const b = world.node('B').postfix;
  assert.ok(b);
  await b.waitFor(() => deliveredMatching(world, 'B', /Subject: e2e simple/).length === 1, 20_000, 'delivery in B');
  const text = fs.readFileSync(deliveredMatching(world, 'B', /Subject: e2e simple/)[0] as string, 'utf8');
  assert.match(text, /mss-sidecar gate-in/);
  assert.match(text, /client certificate verified: CN=mss\.ch-sandbox-a\.fr/);
});
