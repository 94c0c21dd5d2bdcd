// Two operators deployed as hospitals deploy mss-sidecar — each one real Postfix, one real
// Dovecot with the shipped pieces, and one `mss-sidecar serve` process on its own
// configuration file — and mail between them as their users make it: an LPS of A submits
// over A's 587 front with a PSC token, A's milter judges it, A's outbound gate carries it
// over mutual TLS to B's inbound gate, B's Postfix delivers to B's Dovecot, and B's holder
// reads it over B's 143 front. Then what each side recorded, and refusals on each side.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { JournalEvent } from '../../src/journal/events.js';
import type { OperatorNode } from '../../sandbox/operator-node.js';
import { lpsRead, lpsSend, recentJournal, STATS_HEADERS, waitForMail } from '../../sandbox/lps-exchange.js';
import { SandboxPsc } from '../../sandbox/psc/sandbox-psc.js';
import { monthOf, monthText } from '../../src/stats/month.js';
import { CLI, cliEnv } from '../helpers/cli.js';
import { runCliAsync } from '../helpers/cli-async.js';
import { gateWorld, type TestWorld } from '../helpers/gates.js';
import { testPki } from '../helpers/pki.js';
import { freshLoopback } from '../helpers/lps-stack.js';
import { spawnTracked, waitForOutput, type Spawned } from '../helpers/processes.js';
import { tmpDir } from '../helpers/tmp.js';

let psc: SandboxPsc;
let world: TestWorld;
const serves = new Map<string, Spawned>();
const node = (id: string): OperatorNode => world.node(id);
const token = (idNat: string): Promise<string> => psc.mint({ idNat });

before(async () => {
  const pki = await testPki();
  psc = new SandboxPsc({
    tls: { cert: fs.readFileSync(pki.https.cert, 'utf8') + fs.readFileSync(pki.intermediate.cert, 'utf8'), key: fs.readFileSync(pki.https.key, 'utf8') },
  });
  await psc.start();
  // The mail servers and configuration files only: the daemons are the `serve` processes below.
  world = await gateWorld({ mta: 'real', daemons: false, psc: { issuer: psc.issuer, ca: pki.root.cert } });
  for (const id of ['A', 'B']) {
    const serve = spawnTracked(process.execPath, [CLI, '--config', node(id).configFile, 'serve'], { env: cliEnv() });
    serves.set(id, serve);
    await waitForOutput(serve, (out) => /"msg":"ready"/.test(out), 30_000);
  }
});

after(async () => {
  for (const s of serves.values()) await s.stop();
  await world?.stop();
  await psc?.stop();
});

/** The line of `mailId` in A's Echanges file of the current month, built by `stats build`. */
async function echangesLine(mailId: string): Promise<string | undefined> {
  const out = tmpDir('mss-e2e-stats-');
  const month = monthText(monthOf(Date.now(), node('A').config.operator.timeZone));
  const built = await runCliAsync(['--config', node('A').configFile, 'stats', 'build', '--month', month, '--out', out]);
  assert.equal(built.status, 0, built.stderr);
  for (const f of fs.readdirSync(out, { recursive: true, encoding: 'utf8' }).filter((n) => /EchangesMSSante_.*\.csv$/.test(n))) {
    const line = fs
      .readFileSync(path.join(out, f), 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`${mailId};`));
    if (line) return line;
  }
  return undefined;
}

let sentId: string | undefined;

test("EX_LPS_0900 EX_3.2_5050 EX_3.1_5030: an LPS of A submits over A's front with a PSC token; the message crosses both gates into B's Dovecot and B's holder reads it over B's IMAP front", async () => {
  assert.equal(serves.size, 2, 'one serve process per operator');
  const a = node('A');
  const b = node('B');
  const subject = `e2e A to B ${Date.now()}`;
  const sent = await lpsSend(a.ports.submission, a.mailboxes.person, await token(a.mailboxes.holder), [b.mailboxes.person], subject, freshLoopback());
  assert.match(sent.login, /^235 /);
  assert.deepEqual(
    sent.sent?.rcpt.map((r) => r.slice(0, 3)),
    ['250'],
  );
  assert.ok(sent.sent?.queueId, JSON.stringify(sent.sent));
  sentId = sent.sent.queueId;

  const landed = await waitForMail(b.mailDir, subject, 30_000);
  assert.equal(landed.length, 1, `in B's Dovecot; A's serve:\n${serves.get('A')?.output().slice(-3000)}`);
  const read = await lpsRead(b.ports.imap, b.mailboxes.person, await token(b.mailboxes.holder), subject, freshLoopback());
  assert.match(read.login, /OK/);
  const message = read.message ?? '';
  // B's inbound gate checked A's full DN (EX_3.1_5030) and said so in its Received line.
  assert.match(message, /client certificate verified: CN=mss\.ch-sandbox-a\.fr/);
  assert.match(message, new RegExp(`^X-MSS-CODECDA: ${STATS_HEADERS.codeCda}`, 'm'));
  assert.match(message, new RegExp(`^From: <${a.mailboxes.person.replace(/\./g, '\\.')}>`, 'm'));
});

test("EX_PSU_5830 EX_GDT_5050: A's journal holds the submitted and delivery events under one mailId, `stats build` writes its Echanges line with the X-MSS columns, A's traces verify; B's journal holds the received event", async () => {
  assert.ok(sentId, 'the previous test sent a message');
  const a = node('A');
  const b = node('B');
  let events: JournalEvent[] = [];
  // The delivery event is written when A's outbound gate hears B's 250; allow for the poll.
  for (let i = 0; i < 50; i += 1) {
    events = (await recentJournal(a.config)).filter((e) => e.mailId === sentId);
    if (events.some((e) => e.type === 'delivery')) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const submitted = events.find((e) => e.type === 'submitted');
  assert.ok(submitted && submitted.type === 'submitted', JSON.stringify(events));
  assert.equal(submitted.sender, a.mailboxes.person);
  assert.deepEqual(submitted.recipients, [b.mailboxes.person]);
  const delivery = events.find((e) => e.type === 'delivery');
  assert.ok(delivery && delivery.type === 'delivery' && delivery.outcome === 'delivered', JSON.stringify(events));

  const line = await echangesLine(submitted.mailId);
  assert.ok(line, 'an Echanges line for the message');
  const [mailId, from, to, , size, ins, codeCda, nil] = line.split(';');
  assert.deepEqual(
    [mailId, from, to, ins, codeCda, nil],
    [sentId, a.mailboxes.person, b.mailboxes.person, STATS_HEADERS.ins, STATS_HEADERS.codeCda, STATS_HEADERS.nil],
  );
  assert.match(size ?? '', /^[1-9]\d*$/);

  const verified = await runCliAsync(['--config', a.configFile, 'traces', 'verify', '--json']);
  assert.equal(verified.status, 0, verified.stdout + verified.stderr);

  const received = (await recentJournal(b.config)).find(
    (e) => e.type === 'received' && e.sender === a.mailboxes.person && e.recipients.includes(b.mailboxes.person),
  );
  assert.ok(received && received.type === 'received');
  assert.match(received.peer ?? '', /CN=mss\.ch-sandbox-a\.fr/);
});

test("EX_3.2_5060 RE_GBM_4420: refusals through the chain — A's milter refuses a non-MSSanté recipient at RCPT; B's inbound gate refuses B's suspended mailbox with 550 5.2.1 and A's Postfix bounces it to the sender's mailbox", async () => {
  const a = node('A');
  const b = node('B');
  const subject = `e2e refusals ${Date.now()}`;
  const tokenA = await token(a.mailboxes.holder);
  const sent = await lpsSend(a.ports.submission, a.mailboxes.person, tokenA, ['patient@gmail.com', b.mailboxes.suspended], subject, freshLoopback());
  const [gmail, suspended] = sent.sent?.rcpt ?? [];
  assert.match(gmail ?? '', /^550 5\.7\.1 Not sent to patient@gmail\.com: domain gmail\.com is not in the MSSante trust space/);
  assert.match(suspended ?? '', /^250 /);
  assert.ok(sent.sent?.queueId);

  // The bounce (from MAILER-DAEMON, quoting the original subject) lands in A's own Dovecot.
  assert.equal((await waitForMail(a.mailDir, subject, 30_000)).length, 1, "a bounce in A's Dovecot");
  const bounce = await lpsRead(a.ports.imap, a.mailboxes.person, tokenA, 'Undelivered Mail', freshLoopback());
  const diagnostic = /^Diagnostic-Code: (.*(?:\r?\n[ \t].*)*)/m.exec(bounce.message ?? '')?.[1]?.replace(/\r?\n[ \t]+/g, ' ') ?? '';
  assert.match(diagnostic, /550 5\.2\.1/);
  assert.ok(diagnostic.includes(b.mailboxes.suspended), diagnostic);
  assert.match(diagnostic, /suspended/);
  // B's Dovecot never received it.
  assert.equal((await waitForMail(b.mailDir, subject, 0)).length, 0);
});

test('both serve processes stop on SIGTERM with status 0', async () => {
  for (const [id, s] of serves) {
    await s.stop('SIGTERM', 15_000);
    assert.equal(s.child.exitCode, 0, `${id}:\n${s.output().slice(-2000)}`);
  }
});
