// The per-sender rate limit (§5.4.3, mass sending from a compromised mailbox) through
// Postfix: over the budget, MAIL gets a temporary failure; other senders are not affected;
// a sender of dgs.mssante.fr is never limited (EX_3.1_5015), the exemption being decided on
// the sender address's domain; and with no rateLimit section nobody is limited or counted.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AUTOREPLY, org } from '../helpers/registry.js';
import { BAL, startRig, testMailboxes, type Rig } from '../helpers/submission-rig.js';
import { message } from '../helpers/smtp-client.js';

const DGS_DOMAIN = 'dgs.mssante.fr';
/** A mailbox of dgs.mssante.fr: this rig's operator also manages that domain. */
const DGS = `alertes-sanitaires@${DGS_DOMAIN}`;
const BUDGET = 2;

async function counted(rig: Rig, sender: string, n: number): Promise<void> {
  const deadline = Date.now() + 5000;
  while (Number((await rig.store.get(`rate:m:${sender}`)) ?? 0) < n) {
    if (Date.now() > deadline) throw new Error(`rate counter of ${sender} never reached ${n}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** One message from `sender` (logged in as itself) to bob: MAIL, RCPT and final replies. */
async function send(rig: Rig, sender: string, i: number): Promise<{ mail: number; rcpt: number; final: number; text: string }> {
  const c = await rig.session(sender);
  try {
    const mail = await c.command(`MAIL FROM:<${sender}>`);
    if (mail.code !== 250) return { mail: mail.code, rcpt: 0, final: 0, text: mail.text };
    const rcpt = await c.command(`RCPT TO:<${BAL.bob}>`);
    if (rcpt.code !== 250) return { mail: mail.code, rcpt: rcpt.code, final: 0, text: rcpt.text };
    const [, final] = await c.data(message({ from: sender, to: [BAL.bob], subject: `envoi ${i}` }));
    return { mail: mail.code, rcpt: rcpt.code, final: final.code, text: final.text };
  } finally {
    await c.quit();
  }
}

describe(`rate limit enabled, budget ${BUDGET} messages`, () => {
  let rig: Rig;

  before(async () => {
    rig = await startRig({
      submission: { rateLimit: { enabled: true, messages: BUDGET, recipients: 100, windowSeconds: 600 } },
      domains: [DGS_DOMAIN],
      mailboxes: [
        ...testMailboxes(),
        { ...org('alertes-sanitaires', { description: 'Alertes sanitaires' }), address: DGS },
        { ...AUTOREPLY, address: `reponse.automatique-test@${DGS_DOMAIN}` },
      ],
    });
  });

  after(async () => {
    await rig?.stop();
  });

  test('§5.4.3 rate limit: after 2 messages in the window the sender gets 450 4.7.1 at MAIL; another sender still passes', async () => {
    for (let i = 1; i <= BUDGET; i++) {
      const r = await send(rig, BAL.alice, i);
      assert.deepEqual([r.mail, r.rcpt, r.final], [250, 250, 250], r.text);
      await counted(rig, BAL.alice, i);
    }
    const c = await rig.session(BAL.alice);
    const r = await c.command(`MAIL FROM:<${BAL.alice}>`);
    assert.equal(r.code, 450);
    assert.equal(
      r.text,
      `4.7.1 Sending limit reached for ${BAL.alice}: 2 messages or 100 recipients per 10 min (protection against mass sending); try again later`,
    );
    await c.quit();
    const other = await rig.session(BAL.bob);
    assert.equal((await other.command(`MAIL FROM:<${BAL.bob}>`)).code, 250);
    await other.quit();
  });

  test('EX_3.1_5015 §5.4.3: a dgs.mssante.fr sender is never rate-limited — 4 messages against a budget of 2 are all accepted by Postfix', async () => {
    for (let i = 1; i <= 2 * BUDGET; i++) {
      const r = await send(rig, DGS, i);
      assert.deepEqual([r.mail, r.rcpt, r.final], [250, 250, 250], `message ${i} from ${DGS}: ${r.text}`);
    }
  });
});

describe('rate limit in the default configuration (no rateLimit section)', () => {
  let rig: Rig;

  before(async () => {
    rig = await startRig();
  });

  after(async () => {
    await rig?.stop();
  });

  test(`§5.4.3 rate limit off by default: 4 messages from one sender (twice the budget of ${BUDGET} above) are all accepted, and nothing is counted`, async () => {
    for (let i = 1; i <= 2 * BUDGET; i++) {
      const r = await send(rig, BAL.alice, i);
      assert.deepEqual([r.mail, r.rcpt, r.final], [250, 250, 250], `message ${i}: ${r.text}`);
    }
    const deadline = Date.now() + 5000;
    while ((await rig.events()).length < 2 * BUDGET) {
      if (Date.now() > deadline) throw new Error('the 4 messages never reached the journal');
      await new Promise((r) => setTimeout(r, 20));
    }
    // Off, not merely far from a large default budget: no per-sender counter is kept.
    assert.equal(await rig.store.get(`rate:m:${BAL.alice}`), undefined);
    assert.equal(await rig.store.get(`rate:r:${BAL.alice}`), undefined);
  });
});
