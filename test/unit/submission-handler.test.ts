// The submission rules driven through the milter protocol (no Postfix): the cases an
// integration test cannot set up cheaply — no liste blanche yet, dgs.mssante.fr and the rate
// limit, abandoned transactions, the null sender, configuration bounds.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { pino } from 'pino';
import type { JournalEvent } from '../../src/journal/events.js';
import { Journal } from '../../src/journal/journal.js';
import type { Decision, MilterHandler } from '../../src/milter/handler.js';
import { MilterServer } from '../../src/milter/server.js';
import { Proto } from '../../src/milter/constants.js';
import { MilterClient, submitLikePostfix, type Transaction } from '../../src/milter/mta-client.js';
import { loadRegistry } from '../../src/registry/load.js';
import { EmbeddedStore } from '../../src/store/embedded.js';
import type { StateStore } from '../../src/store/store.js';
import { submissionSection } from '../../src/submission/config.js';
import { submissionHandler } from '../../src/submission/handler.js';
import { MessageRecorder } from '../../src/submission/record.js';
import { RateLimiter } from '../../src/submission/rules/rate-limit.js';
import { TraceLog } from '../../src/traces/trace-log.js';
import type { WhitelistIndex } from '../../src/whitelist/whitelist-index.js';
import { LOAD, writeRegistry } from '../helpers/registry.js';
import { BAL, DOMAIN, listIndex, testMailboxes } from '../helpers/submission-rig.js';
import { tmpDir } from '../helpers/tmp.js';
import { traceLines } from '../helpers/traces.js';

const log = pino({ level: 'silent' });
const closers: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of closers) await c();
});

async function rules(
  opts: {
    submission?: Record<string, unknown>;
    list?: WhitelistIndex | undefined;
    /** What the journal writes to, made from the real store (a failing one…). */
    journalStore?: (real: EmbeddedStore) => StateStore;
    /** The handler as the server sees it, made from the real one (to watch its answers). */
    wrap?: (h: MilterHandler) => MilterHandler;
  } = {},
) {
  const root = tmpDir();
  const registry = loadRegistry(writeRegistry(root, testMailboxes()), LOAD);
  const config = submissionSection.parse(opts.submission ?? {});
  const store = new EmbeddedStore(path.join(root, 'store'));
  const traces = new TraceLog(path.join(root, 'traces'), { syncDelayMs: 0 });
  const list = 'list' in opts ? opts.list : listIndex();
  const limiter = new RateLimiter(config.rateLimit, store, log);
  const server = new MilterServer({
    listen: { kind: 'inet', host: '127.0.0.1', port: 0 },
    log,
    handler: (opts.wrap ?? ((h) => h))(
      submissionHandler({
        config,
        registry: () => registry,
        space: { isOurDomain: (d) => d === DOMAIN, list: () => list },
        recorder: new MessageRecorder(new Journal(opts.journalStore ? opts.journalStore(store) : store), traces, log),
        rateLimiter: limiter,
        log,
      }),
    ),
  });
  await server.start();
  closers.push(async () => {
    await server.stop(50);
    traces.close();
    await store.close();
  });
  const submit = async (t: Transaction) => {
    const mta = await MilterClient.connect(server.port ?? 0);
    await mta.negotiate();
    try {
      return await submitLikePostfix(mta, t);
    } finally {
      await mta.quit();
    }
  };
  const events = async () => {
    const out: JournalEvent[] = [];
    for await (const e of new Journal(store).read({ from: new Date(0), to: new Date(Date.now() + 86_400_000) })) out.push(e);
    return out;
  };
  return {
    submit,
    store,
    limiter,
    events,
    port: server.port ?? 0,
    traces: () => traceLines(path.join(root, 'traces')).filter((t) => t.action === 'message.submit'),
  };
}

test('EX_3.2_5060: without a verified liste blanche, other domains are temp-failed (451 4.7.1) and our own domain still passes', async () => {
  const r = await rules({ list: undefined });
  const out = await r.submit({ sender: BAL.alice, recipients: [BAL.bob, 'x@autre.mssante.fr'], headers: [['From', BAL.alice]] });
  assert.equal(out.mail, '250 2.1.0 Ok');
  assert.deepEqual(out.rcpt, ['250 2.1.5 Ok', '451 4.7.1 The MSSante liste blanche is not available on this server: try again later']);
  assert.match(out.data ?? '', /^250 /);
});

test('EX_3.1_5015 §5.4.3: dgs.mssante.fr senders and configured exemptions are never rate-limited; the limit counts messages and recipients per sender', async () => {
  const r = await rules({ submission: { rateLimit: { enabled: true, messages: 1, recipients: 3, exempt: ['bob.durand@ch-test.mssante.fr'] } } });
  assert.equal(r.limiter.limited('alerte@dgs.mssante.fr'), false);
  assert.equal(r.limiter.limited('ALERTE@DGS.MSSANTE.FR'), false);
  assert.equal(r.limiter.limited(BAL.bob), false);
  assert.equal(r.limiter.limited(BAL.alice), true);
  for (let i = 0; i < 5; i++) await r.limiter.count('alerte@dgs.mssante.fr', 40);
  assert.equal(await r.limiter.check('alerte@dgs.mssante.fr'), undefined);
  // Recipients: one message to 3 recipients uses the recipient budget.
  const first = await r.submit({ sender: BAL.alice, recipients: [BAL.bob, 'a@autre.mssante.fr', 'b@autre.mssante.fr'], headers: [['From', BAL.alice]] });
  assert.match(first.data ?? '', /^250 /);
  const deadline = Date.now() + 3000;
  while ((await r.store.get(`rate:r:${BAL.alice}`)) !== '3' && Date.now() < deadline) await new Promise((res) => setTimeout(res, 10));
  const second = await r.submit({ sender: BAL.alice, recipients: [BAL.bob], headers: [['From', BAL.alice]] });
  assert.match(second.mail, /^450 4\.7\.1 Sending limit reached/);
});

test('rate limit is off by default (§5.4.3: the Référentiel sets none)', () => {
  assert.equal(submissionSection.parse({}).rateLimit.enabled, false);
});

test('EX_GBM_4420 EX_GBM_4410: the configuration cannot raise the recipient limit above 40 or lower the size limit below 10 MiB', () => {
  assert.equal(submissionSection.parse({}).maxRecipients, 40);
  assert.equal(submissionSection.parse({}).maxMessageBytes, 10_485_760);
  assert.throws(() => submissionSection.parse({ maxRecipients: 41 }), /at most 40 \(EX_GBM_4420\)/);
  assert.throws(() => submissionSection.parse({ maxMessageBytes: 10_000_000 }), /10 Mo must pass, EX_GBM_4410/);
  assert.equal(submissionSection.parse({ maxRecipients: 20, maxMessageBytes: 20_000_000 }).maxRecipients, 20);
});

test('EX_GDT_5040: recipients refused in a transaction the client then abandons are traced as a refusal', async () => {
  const r = await rules();
  const out = await r.submit({ sender: BAL.alice, recipients: ['eve@gmail.com'] });
  assert.equal(out.data, undefined, 'no DATA without a recipient');
  // The next transaction on a new connection; the abandoned one is traced when its connection ends.
  const deadline = Date.now() + 3000;
  while (r.traces().length === 0 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 10));
  const t = r.traces()[0];
  assert.equal(t?.response?.ok, false);
  assert.equal(t?.response?.message, 'transaction abandoned before the end of the message');
  assert.equal(t?.response?.refusedRecipients?.[0]?.recipient, 'eve@gmail.com');
  assert.equal(t?.response?.refusedRecipients?.[0]?.ref, 'EX_3.2_5060');
});

test('sender rights (EX_LPS_0900): the null sender is allowed for a logged-in mailbox, its From: must still be the login', async () => {
  const r = await rules();
  const ok = await r.submit({
    sender: '',
    login: BAL.alice,
    recipients: [BAL.bob],
    headers: [
      ['From', `<${BAL.alice}>`],
      ['Auto-Submitted', 'auto-replied'],
    ],
  });
  assert.match(ok.data ?? '', /^250 /);
  const other = await r.submit({ sender: '', login: BAL.alice, recipients: [BAL.bob], headers: [['From', `<${BAL.bob}>`]] });
  assert.match(other.data ?? '', /^550 5\.7\.1 The From: header names /);
  const nobody = await r.submit({ sender: BAL.alice, login: BAL.alice, recipients: [BAL.bob], headers: [['From', 'service informatique']] });
  assert.match(nobody.data ?? '', /^550 5\.7\.1 The From: header has no address that can be checked/);
});

test('sender rights: a login that is not one of our mailboxes cannot send (553 5.7.1)', async () => {
  const r = await rules();
  const out = await r.submit({ sender: 'x@ailleurs.fr', login: 'x@ailleurs.fr', recipients: [BAL.bob] });
  assert.equal(out.mail, '553 5.7.1 Login x@ailleurs.fr is not an MSSante mailbox of this operator: it cannot send here');
});

test('sender rights (EX_LPS_0900): a From: hidden past the headers the milter keeps cannot slip through', async () => {
  const r = await rules();
  const filler: Array<[string, string]> = Array.from({ length: 1000 }, (_, i) => [`X-Filler-${i}`, 'x']);
  const out = await r.submit({ sender: BAL.alice, recipients: [BAL.bob], headers: [...filler, ['From', `<${BAL.bob}>`]] });
  assert.equal(out.data, '550 5.7.1 Too many headers for the From: header to be checked: the message cannot be sent');
});

/** A local submission as Postfix's non_smtpd_milters reports it: no login, {daemon_name} its myhostname. */
const local = (t: Omit<Transaction, 'login' | 'daemonName'>): Transaction => ({ ...t, login: '', daemonName: 'mx.ch-test.mssante.fr' });

test('EX_LPS_0900 (local submission): without a login, only the senders of submission.localSenders may send, judged as if logged in; any other sender is refused naming the rule', async () => {
  const r = await rules({ submission: { localSenders: [BAL.autoreply, BAL.suspended] } });
  const stranger = await r.submit(local({ sender: BAL.alice, recipients: [BAL.bob], headers: [['From', BAL.alice]] }));
  assert.equal(
    stranger.mail,
    `553 5.7.1 Local submission refused: ${BAL.alice} may not send from this host without logging in (not in submission.localSenders); MSSante mail is sent through the API LPS with a login`,
  );
  const allowed = await r.submit(local({ sender: BAL.autoreply, recipients: ['test.recette@autre.mssante.fr'], headers: [['From', BAL.autoreply]] }));
  assert.match(allowed.data ?? '', /^250 /);
  const traced = r.traces().find((t) => t.response?.ok === true);
  assert.equal(traced?.means?.authType, 'local');
  assert.equal(traced?.bal, BAL.autoreply);
  // Listed, but suspended: the mailbox rules still apply.
  const suspended = await r.submit(local({ sender: BAL.suspended, recipients: [BAL.bob], headers: [['From', BAL.suspended]] }));
  assert.match(suspended.mail, /^550 5\.7\.1 Mailbox claire\.petit@.* is suspended: it cannot send messages/);
  // A forged From: is a sender-rights refusal, as on 587.
  const forged = await r.submit(local({ sender: BAL.autoreply, recipients: ['test.recette@autre.mssante.fr'], headers: [['From', BAL.alice]] }));
  assert.match(forged.data ?? '', /^550 5\.7\.1 The From: header names alice\.martin@/);
  // The LPS service itself still wants a login, whatever the sender.
  const lps = await r.submit({ sender: BAL.autoreply, login: '', recipients: [BAL.bob], headers: [['From', BAL.autoreply]] });
  assert.match(lps.mail, /^530 5\.7\.0 Authentication required/);
});

test('EX_GBM_4420 EX_3.2_5060 EX_GBM_4010 (local submission): Postfix cannot refuse one recipient of non-SMTP mail, so a refused recipient refuses the whole message at its end, and 41 recipients are refused permanently', async () => {
  const r = await rules({ submission: { localSenders: [BAL.alice, BAL.test] } });
  const many = await r.submit(
    local({ sender: BAL.alice, recipients: Array.from({ length: 41 }, (_, i) => `r${i}@autre.mssante.fr`), headers: [['From', BAL.alice]] }),
  );
  assert.ok(
    many.rcpt.every((x) => x.startsWith('250')),
    'every RCPT goes on',
  );
  assert.equal(many.data, '550 5.5.3 Too many recipients: at most 40 per message (EX_GBM_4420); send to the others in another message');
  const gmail = await r.submit(local({ sender: BAL.alice, recipients: [BAL.bob, 'x@gmail.com'], headers: [['From', BAL.alice]] }));
  assert.equal(gmail.data, '550 5.7.1 Not sent to x@gmail.com: domain gmail.com is not in the MSSante trust space (liste blanche)');
  const test = await r.submit(local({ sender: BAL.test, recipients: [BAL.bob], headers: [['From', BAL.test]] }));
  assert.match(test.data ?? '', /^550 5\.7\.1 Not sent to bob\.durand@.*: test mailbox labo-test@.* may only exchange with test mailboxes/);
});

test('EX_GBM_4020 (local submission): an auto-reply with the null sender is judged as its From: mailbox, which must be a local sender', async () => {
  const r = await rules({ submission: { localSenders: [BAL.autoreply] } });
  const reply = await r.submit(
    local({
      sender: '',
      recipients: ['test.recette@autre.mssante.fr'],
      headers: [
        ['From', `Réponse automatique <${BAL.autoreply}>`],
        ['Auto-Submitted', 'auto-replied'],
      ],
    }),
  );
  assert.match(reply.data ?? '', /^250 /);
  const other = await r.submit(local({ sender: '', recipients: ['x@autre.mssante.fr'], headers: [['From', `<${BAL.alice}>`]] }));
  assert.equal(
    other.data,
    `553 5.7.1 Local submission refused: a message with the null sender from ${BAL.alice} may not send from this host without logging in (not in submission.localSenders); MSSante mail is sent through the API LPS with a login`,
  );
  // The auto-reply mailbox is a test mailbox (EX_GBM_4020): test mailboxes only, with the null sender too.
  const real = await r.submit(local({ sender: '', recipients: ['jean@autre.mssante.fr'], headers: [['From', `<${BAL.autoreply}>`]] }));
  assert.match(
    real.data ?? '',
    /^550 5\.7\.1 Not sent to jean@autre\.mssante\.fr: test mailbox reponse\.automatique-test@.* may only exchange with test mailboxes/,
  );
});

test('EX_GDT_5050 EX_PSU_5830: Subject and X-MSS-* are recorded unfolded and trimmed, whatever the case of their names; one-line values as they are', async () => {
  const r = await rules();
  const out = await r.submit({
    sender: BAL.alice,
    recipients: [BAL.bob],
    headers: [
      ['From', `<${BAL.alice}>`],
      ['subject', 'Compte rendu\r\n\tdu 6 décembre  '],
      ['X-MSS-NIL', '<nil/42>'],
      ['x-mss-ins', ' 1 2 3\n 4'],
    ],
  });
  assert.match(out.data ?? '', /^250/);
  const t = r.traces().find((x) => x.response?.ok === true);
  assert.equal(t?.message?.subject, 'Compte rendu du 6 décembre');
  assert.equal(t?.request?.nil, '<nil/42>');
  assert.equal(t?.request?.ins, '1 2 3 4');
});

test('issue 20 (EX_LPS_0900 EX_GBM_4410): the headers are judged at end of message, so Postfix is told not to wait for a reply at end of headers; a forged From: is still refused before the size', async () => {
  const r = await rules({ submission: { localSenders: [BAL.autoreply] } });
  const mta = await MilterClient.connect(r.port);
  try {
    await mta.negotiate();
    assert.notEqual(mta.agreed.protocol & Proto.NR_EOH, 0, 'SMFIP_NR_EOH agreed');
    assert.equal(mta.expectsReply('eoh'), false);
    for (const type of ['mail', 'rcpt', 'eom'] as const) assert.equal(mta.expectsReply(type), true, type);
  } finally {
    await mta.quit();
  }
  // Both a forged From: and a body above the limit: the From: is named, as when the headers
  // were judged at their end and the size never reached.
  const max = submissionSection.parse({}).maxMessageBytes;
  const both = await r.submit({ sender: BAL.alice, recipients: [BAL.bob], headers: [['From', `<${BAL.bob}>`]], body: Buffer.alloc(max + 1, 'x') });
  assert.match(both.data ?? '', /^550 5\.7\.1 The From: header names bob\.durand@/);
  const big = await r.submit({ sender: BAL.alice, recipients: [BAL.bob], headers: [['From', `<${BAL.alice}>`]], body: Buffer.alloc(max + 1, 'x') });
  assert.match(big.data ?? '', /^552 5\.3\.4 Message size \d+ bytes exceeds the limit/);
  // Local submission: a recipient refused at RCPT refuses the message before its size too.
  const local41 = await r.submit(
    local({ sender: BAL.autoreply, recipients: ['x@gmail.com'], headers: [['From', BAL.autoreply]], body: Buffer.alloc(max + 1, 'x') }),
  );
  assert.equal(local41.data, '550 5.7.1 Not sent to x@gmail.com: domain gmail.com is not in the MSSante trust space (liste blanche)');
  const traced = r.traces().filter((t) => t.response?.ok === false);
  assert.deepEqual(
    traced.map((t) => t.response?.rule),
    ['sender-rights', 'message-size', 'trust-space'],
  );
});

/** The embedded store's journal lines on disk (<dir>/<day>/<writer>.jsonl), read synchronously. */
function journalLines(dir: string): number {
  if (!fs.existsSync(dir)) return 0;
  let n = 0;
  for (const day of fs.readdirSync(dir))
    for (const file of fs.readdirSync(path.join(dir, day)))
      n += fs
        .readFileSync(path.join(dir, day, file), 'utf8')
        .split('\n')
        .filter(Boolean).length;
  return n;
}

const NOT_RECORDED = '451 4.3.0 The message could not be recorded (traces, statistics): not accepted, try again later';

test('issue 20 (EX_PSU_5830 EX_GDT_5050): with a store that appends synchronously the end of message decides without a promise, its journal event and trace written before the decision is returned', async () => {
  const answers: unknown[] = [];
  let written: { events: number; traces: number } | undefined;
  const r = await rules({
    wrap: (h) => ({
      ...h,
      eom(ctx) {
        const answer = h.eom?.(ctx);
        answers.push(answer);
        // Read at once, before the session sends anything: what is on disk now was written before the decision left.
        written = { events: journalLines(path.join(r.store.dir, 'journal')), traces: r.traces().length };
        return answer;
      },
    }),
  });
  const out = await r.submit({ sender: BAL.alice, recipients: [BAL.bob], headers: [['From', `<${BAL.alice}>`]] });
  assert.match(out.data ?? '', /^250 /);
  assert.equal(answers.length, 1);
  assert.equal(answers[0], undefined, 'continue, answered synchronously (not a promise)');
  assert.equal(written?.events, 1, 'the journal event was on disk when the decision was returned');
  assert.equal(written?.traces, 1, 'the trace was on disk when the decision was returned');
  assert.deepEqual(
    (await r.events()).map((e) => e.mailId),
    ['ABC123'],
  );
});

test('EX_PSU_5830 EX_GDT_5050: a journal append that fails, synchronously (the embedded store) or asynchronously (Redis), temp-fails the message with the same reply (451 4.3.0), and the refusal is traced', async () => {
  const enospc = (): never => {
    throw new Error('ENOSPC: no space left on device');
  };
  const failing = {
    sync: (real: EmbeddedStore): StateStore => Object.assign(Object.create(real) as StateStore, { journalAppendSync: enospc }),
    async: (real: EmbeddedStore): StateStore =>
      Object.assign(Object.create(real) as StateStore, {
        journalAppendSync: undefined,
        journalAppend: () => Promise.reject(new Error('ENOSPC: no space left on device')),
      }),
  };
  for (const [kind, journalStore] of Object.entries(failing)) {
    const answers: unknown[] = [];
    const r = await rules({
      journalStore,
      wrap: (h) => ({ ...h, eom: (ctx) => (answers.push(h.eom?.(ctx)), answers.at(-1) as Decision | Promise<Decision | void> | void) }),
    });
    const out = await r.submit({ sender: BAL.alice, recipients: [BAL.bob], headers: [['From', `<${BAL.alice}>`]] });
    assert.equal(out.data, NOT_RECORDED, kind);
    assert.equal(answers[0] instanceof Promise, kind === 'async', `${kind}: ${kind === 'async' ? 'a promise' : 'decided synchronously'}`);
    assert.deepEqual(await r.events(), [], `${kind}: no event`);
    const traces = r.traces();
    assert.equal(traces.length, 1, kind);
    assert.equal(traces[0]?.response?.ok, false, `${kind}: the temp-failure is traced`);
  }
});
