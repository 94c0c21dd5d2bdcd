// Monitor-only mode (submission.mode: monitor), as hospitals roll the rules out: every rule
// logs "would refuse …" and traces it, and the message goes through.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { BAL, logged, queuedId, startRig, type Rig } from '../helpers/submission-rig.js';
import { message } from '../helpers/smtp-client.js';

let rig: Rig;

before(async () => {
  rig = await startRig({ submission: { mode: 'monitor' } });
});

after(async () => {
  await rig?.stop();
});

test('monitor mode: a message breaking EX_GBM_4420, EX_3.2_5060, EX_GBM_4010, RE_GBM_4420 and the sender rights is accepted, and each rule logs "would refuse"', async () => {
  const c = await rig.session(BAL.alice);
  assert.equal((await c.command(`MAIL FROM:<${BAL.bob}>`)).code, 250, 'another sender');
  const to = [...Array.from({ length: 40 }, (_, i) => `d${i}@autre.mssante.fr`), 'eve@gmail.com', BAL.test, BAL.suspended];
  for (const r of to) assert.equal((await c.command(`RCPT TO:<${r}>`)).code, 250, r);
  const [, final] = await c.data(message({ from: BAL.bob, to, subject: 'monitor' }));
  assert.equal(final.code, 250, final.text);
  await c.quit();

  const would = logged(rig, /^would refuse/);
  const refs = new Set(would.map((l) => l.ref));
  for (const ref of ['EX_LPS_0900', 'EX_GBM_4420', 'EX_3.2_5060', 'EX_GBM_4010', 'RE_GBM_4420'])
    assert.ok(refs.has(ref), `no "would refuse" for ${ref}: ${JSON.stringify([...refs])}`);
  assert.ok(
    would.every((l) => l.level === 40 && l.mode === 'monitor'),
    'warnings',
  );
  assert.ok(would.some((l) => /^would refuse recipient eve@gmail\.com: 550 5\.7\.1 Not sent to eve@gmail\.com: domain gmail\.com/.test(String(l.msg))));
  assert.ok(would.some((l) => /^would refuse message from .*: 550 5\.7\.1 The From: header names/.test(String(l.msg))));
  assert.equal(logged(rig, /^refused /).length, 0, 'nothing refused');

  const trace = rig.traces().find((t) => t.message?.id === queuedId(final.text));
  assert.equal(trace?.response?.ok, true);
  assert.equal(trace?.message?.to?.length, 43);
  assert.ok((trace?.response?.wouldRefuse ?? []).length >= 6);
  const event = (await rig.events()).find((e) => e.mailId === queuedId(final.text));
  assert.equal(event?.type === 'submitted' ? event.recipients.length : 0, 43);
});

test('monitor mode: an unauthenticated submission and a SIZE= over the limit go through with a warning', async () => {
  const c = await rig.session(undefined);
  assert.equal((await c.command(`MAIL FROM:<${BAL.alice}> SIZE=${rig.config.maxMessageBytes + 1}`)).code, 250);
  assert.equal((await c.command(`RCPT TO:<${BAL.bob}>`)).code, 250);
  const [, final] = await c.data(message({ from: BAL.alice, to: [BAL.bob], subject: 'anonyme' }));
  assert.equal(final.code, 250, final.text);
  await c.quit();
  assert.ok(logged(rig, /^would refuse message from .*: 530 5\.7\.0 Authentication required/).length === 1);
  assert.ok(logged(rig, /^would refuse message from .*: 552 5\.3\.4/).length === 1);
});
