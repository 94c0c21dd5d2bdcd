// Self-check steps for the submission rules: one submission refused for each rule, with the
// reply an LPS would get, then monitor mode and the message journal. The first step starts
// the rules (sandbox/submission/rig.ts) and says how they are reached; the last stops them.
import path from 'node:path';
import { Journal } from '../../src/journal/journal.js';
import type { SmtpOutcome, Transaction } from '../../src/milter/mta-client.js';
import { openStore } from '../../src/store/open.js';
import { tracesDir } from '../../src/traces/config.js';
import { traceLines } from '../../src/traces/read.js';
import { startSubmissionRig, type SubmissionRig } from '../submission/rig.js';
import { fail, pass, type CheckContext, type CheckOutcome, type SelfCheckStep } from './check.js';

const RIG = 'submission.rig';

function rigOf(ctx: CheckContext): SubmissionRig {
  const rig = ctx.facts.get(RIG) as SubmissionRig | undefined;
  if (!rig) throw new Error('the submission rules are not running (see the first submission step)');
  return rig;
}

function remote(ctx: CheckContext, n: number): string[] {
  const other = ctx.sandbox.operators[1]?.domains[0] ?? 'clinique-sandbox-b.mssante.fr';
  return Array.from({ length: n }, (_, i) => `dest${i}@${other}`);
}

/** A transaction with the headers an LPS sends (Postfix would add a missing Date: or Message-ID:). */
function tx(from: string, to: string[], extra: Partial<Transaction> = {}): Transaction {
  const id = `SC${Date.now().toString(36).toUpperCase()}`;
  const headers: Array<[string, string]> = [
    ['From', `<${from}>`],
    ['To', to.map((t) => `<${t}>`).join(', ')],
    ['Subject', 'self-check'],
    ['Date', new Date().toUTCString()],
    ['Message-ID', `<${id}@lps.sandbox.test>`],
  ];
  return { sender: from, recipients: to, headers, queueId: id, ...extra };
}

/** A step that sends and expects one refusal; `refusal` picks the reply that must match. */
function refusalStep(
  name: string,
  run: (ctx: CheckContext, rig: SubmissionRig) => Promise<{ out: SmtpOutcome; refusal: string | undefined; expect: RegExp; also?: () => string | undefined }>,
): SelfCheckStep {
  return {
    name,
    async run(ctx): Promise<CheckOutcome> {
      const rig = rigOf(ctx);
      const { out, refusal, expect, also } = await run(ctx, rig);
      if (!refusal || !expect.test(refusal)) return fail(`${rig.transport}: expected ${expect.source}, got ${JSON.stringify(out)}`);
      const problem = also?.();
      if (problem) return fail(`${rig.transport}: ${problem}`);
      return pass(`${rig.transport}: ${refusal}`);
    },
  };
}

export const submissionChecks: SelfCheckStep[] = [
  {
    name: 'submission: the rules run as `serve` runs them (registry, verified liste blanche, journal, traces)',
    async run(ctx) {
      const rig = await startSubmissionRig(ctx.config, ctx.pki, path.join(ctx.sandbox.dir, 'submission-check'), ctx.log);
      ctx.facts.set(RIG, rig);
      const ok = await rig.send(tx(rig.mailboxes.sender, remote(ctx, 1)));
      return ok.data?.startsWith('250')
        ? pass(`${rig.transport}: a conforming message is accepted (${ok.data})`)
        : fail(`${rig.transport}: a conforming message was not accepted: ${JSON.stringify(ok)}`);
    },
  },
  refusalStep('submission: EX_GBM_4420 — 40 recipients pass, the 41st is refused', async (ctx, rig) => {
    const out = await rig.send(tx(rig.mailboxes.sender, remote(ctx, 41)));
    return {
      out,
      refusal: out.rcpt[40],
      expect: /^452 4\.5\.3 Too many recipients/,
      also: () => (out.rcpt.slice(0, 40).every((r) => r.startsWith('250')) && out.data?.startsWith('250') ? undefined : 'the first 40 were not all accepted'),
    };
  }),
  refusalStep('submission: EX_GBM_4410 — a message one byte over the 10 MiB limit is refused', async (ctx, rig) => {
    const t = tx(rig.mailboxes.sender, remote(ctx, 1));
    const head = (t.headers ?? []).reduce((n, [k, v]) => n + Buffer.byteLength(`${k}: ${v}\r\n`), 2);
    const size = ctx.config.submission.maxMessageBytes + 1;
    const lines = Math.floor((size - head) / 78);
    const body = Buffer.concat([Buffer.from(`${'x'.repeat(76)}\r\n`.repeat(lines)), Buffer.from(`${'y'.repeat(size - head - lines * 78 - 2)}\r\n`)]);
    const out = await rig.send({ ...t, body });
    return { out, refusal: out.data, expect: new RegExp(`^552 5\\.3\\.4 Message size ${size} bytes exceeds`) };
  }),
  refusalStep('submission: EX_3.2_5060 — a recipient outside the liste blanche is refused with its reason, MSSanté recipients pass', async (ctx, rig) => {
    const out = await rig.send(tx(rig.mailboxes.sender, [...remote(ctx, 1), 'cabinet@interop-mssante.apicrypt.org', 'patient@gmail.com']));
    return {
      out,
      refusal: out.rcpt[2],
      expect: /^550 5\.7\.1 Not sent to patient@gmail\.com: domain gmail\.com is not in the MSSante trust space/,
      also: () =>
        out.rcpt[0]?.startsWith('250') && out.rcpt[1]?.startsWith('250') && out.data?.startsWith('250') ? undefined : 'the MSSanté recipients did not pass',
    };
  }),
  refusalStep('submission: sender rights — MAIL FROM another mailbox is refused', async (ctx, rig) => {
    const out = await rig.send({ ...tx(rig.mailboxes.burst, remote(ctx, 1)), login: rig.mailboxes.sender });
    return { out, refusal: out.mail, expect: /^553 5\.7\.1 Sender address .* is not the mailbox you logged in as/ };
  }),
  refusalStep('submission: sender rights — a From: header naming another mailbox is refused', async (ctx, rig) => {
    const t = tx(rig.mailboxes.sender, remote(ctx, 1));
    const out = await rig.send({ ...t, headers: [['From', `"Direction" <${rig.mailboxes.burst}>`], ...(t.headers ?? []).slice(1)] });
    return { out, refusal: out.data, expect: /^550 5\.7\.1 The From: header names / };
  }),
  refusalStep('submission: RE_GBM_4420 — a suspended mailbox cannot send', async (ctx, rig) => {
    const out = await rig.send(tx(rig.mailboxes.suspended, remote(ctx, 1)));
    return { out, refusal: out.mail, expect: /^550 5\.7\.1 Mailbox .* is suspended: it cannot send messages/ };
  }),
  refusalStep('submission: EX_GBM_4010 — a test mailbox cannot write to a real mailbox', async (ctx, rig) => {
    const out = await rig.send(tx(rig.mailboxes.test, [rig.mailboxes.sender]));
    return { out, refusal: out.rcpt[0], expect: /^550 5\.7\.1 Not sent to .*: test mailbox .* may only exchange with test mailboxes/ };
  }),
  refusalStep('submission: §5.4.3 — a sender over its rate limit (2 messages) gets a temporary failure', async (ctx, rig) => {
    let out: SmtpOutcome | undefined;
    for (let i = 0; i < 3; i++) {
      out = await rig.send(tx(rig.mailboxes.burst, remote(ctx, 1)));
      // The counter is updated after the reply (not awaited): wait until it counts this message
      // before the next one, whatever the machine's load.
      if (i < 2 && out.data?.startsWith('250') && !(await rig.rateCounted(rig.mailboxes.burst, i + 1, 30_000)))
        return { out, refusal: `message ${i + 1} accepted but never counted by the rate limit`, expect: /^450 4\.7\.1 Sending limit reached/ };
    }
    return { out: out as SmtpOutcome, refusal: out?.mail, expect: /^450 4\.7\.1 Sending limit reached/ };
  }),
  {
    name: 'submission: monitor mode — every rule would refuse, the message is accepted, the refusals are traced',
    async run(ctx) {
      const rig = rigOf(ctx);
      const t = tx(rig.mailboxes.test, [...remote(ctx, 40), 'patient@gmail.com', rig.mailboxes.sender], { login: rig.mailboxes.sender });
      const out = await rig.send(t, 'monitor');
      if (!out.mail.startsWith('250') || !out.rcpt.every((r) => r.startsWith('250')) || !out.data?.startsWith('250'))
        return fail(`${rig.transport}: monitor mode refused something: ${JSON.stringify(out)}`);
      const trace = traceLines(tracesDir(ctx.config.traces, ctx.config.state.dir))
        .reverse()
        .find((r) => r.action === 'message.submit' && Array.isArray((r.response as { wouldRefuse?: unknown }).wouldRefuse));
      const refs = [...new Set(((trace?.response as { wouldRefuse?: Array<{ ref: string }> } | undefined)?.wouldRefuse ?? []).map((w) => w.ref))].sort();
      return refs.length >= 3
        ? pass(`${rig.transport}: 42 recipients accepted; would have refused: ${refs.join(', ')} (logged "would refuse", traced)`)
        : fail(`expected would-be refusals in the trace, got ${JSON.stringify(refs)}`);
    },
  },
  {
    name: 'submission: EX_PSU_5830 — the journal holds one submitted event per message, with the X-MSS headers',
    async run(ctx) {
      const rig = rigOf(ctx);
      const t = tx(rig.mailboxes.sender, remote(ctx, 2));
      const out = await rig.send({
        ...t,
        headers: [...(t.headers ?? []), ['X-MSS-INS', 'O'], ['X-MSS-CODECDA', '11488-4'], ['X-MSS-NIL', '<sandbox/lps/1.0>']],
      });
      const mailId = /queued as ([0-9A-Za-z]+)/.exec(out.data ?? '')?.[1];
      if (!mailId) return fail(`${rig.transport}: not accepted: ${JSON.stringify(out)}`);
      const store = openStore(ctx.config.state);
      try {
        const events = [];
        for await (const e of new Journal(store).read({ from: new Date(Date.now() - 3_600_000), to: new Date(Date.now() + 60_000), types: ['submitted'] }))
          if (e.mailId === mailId) events.push(e);
        const e = events[0];
        if (events.length !== 1 || e?.type !== 'submitted') return fail(`${events.length} events for ${mailId}`);
        return e.ins === 'O' && e.codeCda === '11488-4' && e.nil === '<sandbox/lps/1.0>' && e.recipients.length === 2
          ? pass(
              `${rig.transport}: MAIL_ID=${mailId} sender=${e.sender} recipients=${e.recipients.length} size=${e.size} INS=${e.ins} CODECDA=${e.codeCda} NIL=${e.nil}`,
            )
          : fail(`unexpected event ${JSON.stringify(e)}`);
      } finally {
        await store.close();
      }
    },
  },
  {
    name: 'submission: the rules stop cleanly',
    async run(ctx) {
      const rig = ctx.facts.get(RIG) as SubmissionRig | undefined;
      ctx.facts.delete(RIG);
      await rig?.stop();
      return pass(rig ? 'stopped' : 'nothing was running');
    },
  },
];
