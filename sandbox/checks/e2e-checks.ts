// Self-check steps for the whole product between operators A and B, each deployed as a
// hospital deploys it (one Postfix, one Dovecot, one daemon): an LPS of A sends over A's
// submission front to a mailbox of B, B's holder reads it over B's IMAP front; then what each
// side recorded (journal, statistics, traces); then a refusal on each side through the whole
// chain. Needs the real mail servers; without them the steps say SKIP and why.
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { loadRegistryFrom } from '../../src/registry/open.js';
import { buildMonth } from '../../src/stats/build.js';
import { monthOf } from '../../src/stats/month.js';
import { openStore } from '../../src/store/open.js';
import { tracesDir } from '../../src/traces/config.js';
import { verifyTraces } from '../../src/traces/verify.js';
import { lpsRead, lpsSend, recentJournal, STATS_HEADERS, waitForMail } from '../lps-exchange.js';
import type { SandboxOperatorEndpoints } from '../manifest.js';
import { fail, pass, skip, type CheckContext, type CheckOutcome, type SelfCheckStep } from './check.js';
import { operators } from './gate-checks.js';
import { source, token } from './lps-checks.js';

type WithLps = SandboxOperatorEndpoints & { lps: NonNullable<SandboxOperatorEndpoints['lps']> };
const SENT = 'e2e.sent';

function both(ctx: CheckContext): { a: WithLps; b: WithLps } | string {
  const o = operators(ctx);
  const a = o.nodes.A;
  const b = o.nodes.B;
  if (!a?.lps || !b?.lps) return o.unavailable ?? 'the API LPS fronts of A and B are not running';
  return { a: a as WithLps, b: b as WithLps };
}

function step(name: string, run: (ctx: CheckContext, a: WithLps, b: WithLps) => Promise<CheckOutcome>): SelfCheckStep {
  return {
    name,
    async run(ctx) {
      const ops = both(ctx);
      return typeof ops === 'string' ? skip(`not run: ${ops}`) : run(ctx, ops.a, ops.b);
    },
  };
}

/** The Echanges line of `mailId` in a build of the current month, in a directory of its own. */
async function echangesLine(ctx: CheckContext, config: Config, mailId: string): Promise<string | undefined> {
  const store = openStore(config.state);
  try {
    const now = new Date();
    const b = await buildMonth({
      config,
      registry: loadRegistryFrom(config),
      store,
      month: monthOf(now.getTime(), config.operator.timeZone),
      now,
      outDir: path.join(ctx.sandbox.dir, 'e2e-stats'),
    });
    for (const f of b.files.filter((x) => x.kind === 'echanges')) {
      const line = fs
        .readFileSync(path.join(b.dir, f.name), 'utf8')
        .split(/\r?\n/)
        .find((l) => l.startsWith(`${mailId};`));
      if (line) return line;
    }
    return undefined;
  } finally {
    await store.close();
  }
}

export const e2eChecks: SelfCheckStep[] = [
  step("end to end: an LPS of A sends over A's 587 front (PSC token, X-MSS-* headers) to B; B's holder reads it over B's 143 front", async (ctx, a, b) => {
    const subject = `e2e A to B ${Date.now()}`;
    const sent = await lpsSend(
      a.lps.submission,
      a.mailboxes.person,
      await token(ctx, a.mailboxes.holder),
      [b.mailboxes.person],
      subject,
      source().localAddress,
    );
    if (!sent.sent?.queueId) return fail(`A's submission: login ${sent.login}; ${JSON.stringify(sent.sent)}`);
    ctx.facts.set(SENT, sent.sent.queueId);
    if ((await waitForMail(b.mailDir, subject, 30_000)).length === 0) return fail(`not in B's Dovecot after 30 s (A said ${sent.sent.data})`);
    const read = await lpsRead(b.lps.imap, b.mailboxes.person, await token(ctx, b.mailboxes.holder), subject, source().localAddress);
    const verified = /client certificate verified: ([^)]*)\)/.exec(read.message ?? '')?.[1];
    if (!read.message || !/^X-MSS-CODECDA: /m.test(read.message))
      return fail(`B's IMAP: login ${read.login}; message ${read.message ? 'without X-MSS headers' : 'not found'}`);
    return pass(
      `A: ${sent.login}; RCPT ${sent.sent.rcpt.join(', ')}; ${sent.sent.data} → B's gate-in verified ${verified ?? '?'} → B's IMAP: ${read.login.replace(/\[CAPABILITY [^\]]*\] /, '')}, message read with its X-MSS headers`,
    );
  }),
  step(
    "end to end: A's journal has the submitted and delivery events under one mailId, stats build its Echanges line, A's traces verify; B's journal has the received event",
    async (ctx, a, b) => {
      const mailId = ctx.facts.get(SENT) as string | undefined;
      if (!mailId) return fail('no message was sent by the previous step');
      const events = (await recentJournal(ctx.config)).filter((e) => e.mailId === mailId);
      const submitted = events.find((e) => e.type === 'submitted');
      const delivered = events.find((e) => e.type === 'delivery' && e.outcome === 'delivered');
      const line = await echangesLine(ctx, ctx.config, mailId);
      const wanted = `;${STATS_HEADERS.ins};${STATS_HEADERS.codeCda};${STATS_HEADERS.nil}`;
      const traces = await verifyTraces(tracesDir(ctx.config.traces, ctx.config.state.dir));
      const received = (await recentJournal(loadConfig(b.config))).find(
        (e) => e.type === 'received' && e.sender === a.mailboxes.person && e.recipients.includes(b.mailboxes.person),
      );
      const detail = `A: submitted ${submitted ? 'yes' : 'NO'}, delivery ${delivered?.type === 'delivery' ? `${delivered.outcome} (${delivered.remote})` : 'NO'} under ${mailId}; Echanges: ${line ?? 'NO LINE'}; traces ${traces.ok ? `intact (${traces.lines} lines)` : 'NOT intact'}; B: received ${received ? `as ${received.mailId} from ${received.type === 'received' ? received.peer : ''}` : 'NO'}`;
      return submitted && delivered && line?.endsWith(wanted) && traces.ok && received ? pass(detail) : fail(detail);
    },
  ),
  step(
    "end to end: refusals through the chain — A's milter refuses a non-MSSanté recipient; B's gate-in refuses B's suspended mailbox and A bounces it to the LPS's mailbox",
    async (ctx, a, b) => {
      const subject = `e2e refusals ${Date.now()}`;
      const tokenA = await token(ctx, a.mailboxes.holder);
      const sent = await lpsSend(a.lps.submission, a.mailboxes.person, tokenA, ['patient@gmail.com', b.mailboxes.suspended], subject, source().localAddress);
      const [gmail, suspended] = sent.sent?.rcpt ?? [];
      if (!gmail?.startsWith('550 5.7.1 Not sent to patient@gmail.com') || !suspended?.startsWith('250') || !sent.sent?.queueId)
        return fail(`A's submission: ${JSON.stringify(sent)}`);
      if ((await waitForMail(a.mailDir, subject, 30_000)).length === 0) return fail(`no bounce in A's Dovecot after 30 s`);
      const bounce = await lpsRead(a.lps.imap, a.mailboxes.person, tokenA, 'Undelivered Mail', source().localAddress);
      // The DSN's reason for the suspended recipient, its folded lines joined.
      const diagnostic = /^Diagnostic-Code: (.*(?:\r?\n[ \t].*)*)/m.exec(bounce.message ?? '')?.[1]?.replace(/\r?\n[ \t]+/g, ' ');
      const detail = `A's milter: ${gmail}; B's gate-in, relayed by A's gate-out, in the bounce ${a.mailboxes.person} read over IMAP: ${diagnostic ?? 'NO Diagnostic-Code'}`;
      return diagnostic?.includes('550 5.2.1') && diagnostic.includes(b.mailboxes.suspended) && /suspended/.test(diagnostic) ? pass(detail) : fail(detail);
    },
  ),
];
