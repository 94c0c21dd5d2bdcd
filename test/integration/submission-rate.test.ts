// The per-sender rate limit (§5.4.3, mass sending from a compromised mailbox) through
// Postfix: over the budget, MAIL gets a temporary failure; other senders are not affected.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { BAL, startRig, type Rig } from '../helpers/submission-rig.js';
import { message } from '../helpers/smtp-client.js';

let rig: Rig;

before(async () => {
  rig = await startRig({ submission: { rateLimit: { enabled: true, messages: 2, recipients: 100, windowSeconds: 600 } } });
});

after(async () => {
  await rig?.stop();
});

async function counted(sender: string, n: number): Promise<void> {
  const deadline = Date.now() + 5000;
  while (Number((await rig.store.get(`rate:m:${sender}`)) ?? 0) < n) {
    if (Date.now() > deadline) throw new Error(`rate counter of ${sender} never reached ${n}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('§5.4.3 rate limit: after 2 messages in the window the sender gets 450 4.7.1 at MAIL; another sender still passes', async () => {
  for (let i = 1; i <= 2; i++) {
    const c = await rig.session(BAL.alice);
    assert.equal((await c.command(`MAIL FROM:<${BAL.alice}>`)).code, 250);
    assert.equal((await c.command(`RCPT TO:<${BAL.bob}>`)).code, 250);
    const [, final] = await c.data(message({ from: BAL.alice, to: [BAL.bob], subject: `envoi ${i}` }));
    assert.equal(final.code, 250, final.text);
    await c.quit();
    await counted(BAL.alice, i);
  }
  const c = await rig.session(BAL.alice);
  const r = await c.command(`MAIL FROM:<${BAL.alice}>`);
  assert.equal(r.code, 450);
  assert.equal(r.text, `4.7.1 Sending limit reached for ${BAL.alice}: 2 messages or 100 recipients per 10 min (protection against mass sending); try again later`);
  await c.quit();
  const other = await rig.session(BAL.bob);
  assert.equal((await other.command(`MAIL FROM:<${BAL.bob}>`)).code, 250);
  await other.quit();
});
