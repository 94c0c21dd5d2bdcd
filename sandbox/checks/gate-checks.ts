// Self-check steps for the gates (TM3.1P/TM3.2P) between sandbox operators A and B: a
// message from A lands in B's mail store through both gates, and B's inbound gate refuses
// each kind of peer it must refuse, with the reply a sending operator would read.
import fs from 'node:fs';
import path from 'node:path';
import { formatReply, type Reply } from '../../src/gate/reply.js';
import { SmtpClient, type SmtpPeer } from '../../src/gate/smtp-client.js';
import { MSS_TLS12_CIPHERS } from '../../src/pki/tls-profile.js';
import type { SandboxOperatorEndpoints, SandboxOperators } from '../manifest.js';
import { waitForMail } from '../lps-exchange.js';
import { fail, pass, type CheckContext, type SelfCheckStep } from './check.js';

export function operators(ctx: CheckContext): SandboxOperators {
  const o = ctx.sandbox.endpoints.operators;
  if (!o) throw new Error('the sandbox has no operators');
  return o;
}

export function operator(ctx: CheckContext, id: string): SandboxOperatorEndpoints {
  const op = operators(ctx).nodes[id];
  if (!op) throw new Error(`the sandbox has no operator ${id}`);
  return op;
}

const client = (peer: SmtpPeer): Promise<SmtpClient> => SmtpClient.connect({ ...peer, connectTimeoutMs: 5000, commandTimeoutMs: 20_000 });

/** Write one message as A's Postfix would receive it from a local user, or hand it to A's outbound gate (without Postfix). */
async function sendFromA(ctx: CheckContext, to: string, subject: string): Promise<Reply> {
  const a = operator(ctx, 'A');
  const from = a.mailboxes.org;
  const viaPostfix = a.inject !== undefined;
  const entry = a.inject ?? a.gateOut;
  const c = await client(entry);
  try {
    await c.ehlo('selfcheck.sandbox', viaPostfix ? 'EHLO' : 'LHLO');
    await c.command(`MAIL FROM:<${from}>`);
    const rcpt = await c.command(`RCPT TO:<${to}>`);
    if (rcpt.code !== 250) return rcpt;
    const go = await c.command('DATA');
    if (go.code !== 354) return go;
    c.writeData(Buffer.from(`From: <${from}>\r\nTo: <${to}>\r\nSubject: ${subject}\r\n\r\nsandbox self-check\r\n`));
    return await c.endData(30_000);
  } finally {
    await c.quit();
  }
}

/** STARTTLS to B's inbound gate with a certificate (or none); the reply after the handshake, and MAIL's if given. */
async function tryB(ctx: CheckContext, who: { cert: string; key: string } | undefined, mailFrom?: string): Promise<Reply> {
  const b = operator(ctx, 'B');
  const c = await client(b.gateIn);
  try {
    await c.ehlo('peer.sandbox');
    const { reply, socket } = await c.startTls({
      ciphers: MSS_TLS12_CIPHERS.join(':'),
      rejectUnauthorized: false,
      ...(who ? { cert: fs.readFileSync(who.cert), key: fs.readFileSync(who.key) } : {}),
    });
    if (!socket) return reply;
    const ehlo = await c.ehlo('peer.sandbox');
    if (ehlo.code !== 250 || mailFrom === undefined) return ehlo;
    return await c.command(`MAIL FROM:<${mailFrom}>`);
  } catch (err) {
    return { code: 0, enhanced: '', text: `connection closed: ${(err as Error).message}` };
  } finally {
    c.destroy();
  }
}

function refusalStep(name: string, expect: { code: number; enhanced: string; text: RegExp }, attempt: (ctx: CheckContext) => Promise<Reply>): SelfCheckStep {
  return {
    name,
    async run(ctx) {
      const r = await attempt(ctx);
      const detail = `B's gate-in answered: ${formatReply(r)}`;
      return r.code === expect.code && r.enhanced === expect.enhanced && expect.text.test(r.text)
        ? pass(detail)
        : fail(`${detail}; expected ${expect.code} ${expect.enhanced} ${expect.text.source}`);
    },
  };
}

export const gateChecks: SelfCheckStep[] = [
  {
    name: "gates: A → B — a message from A crosses A's outbound gate and B's inbound gate (mutual TLS) into B's mail store",
    async run(ctx) {
      const subject = `sandbox A to B ${Date.now()}`;
      const b = operator(ctx, 'B');
      const final = await sendFromA(ctx, b.mailboxes.org, subject);
      if (final.code !== 250) return fail(`A refused the message: ${formatReply(final)}`);
      const [file] = await waitForMail(b.mailDir, subject, 30_000);
      if (!file) return fail(`not in B's mail store (${b.mailDir}) after 30 s; A said ${formatReply(final)}`);
      const received = /client certificate verified: ([^)]*)\)/.exec(fs.readFileSync(file, 'utf8'))?.[1];
      return pass(`landed in B's ${operators(ctx).mta === 'real' ? 'Dovecot' : 'sink'} (${path.basename(file)}); gate-in verified ${received ?? '?'}`);
    },
  },
  refusalStep(
    'gates: B refuses a valid certificate whose DN is not in the liste blanche',
    { code: 554, enhanced: '5.7.1', text: /is not in the liste blanche/ },
    (ctx) => tryB(ctx, operators(ctx).refused.rogue),
  ),
  refusalStep(
    "gates: B refuses A's DN sending for B's domain (DN listed for another domain)",
    { code: 550, enhanced: '5.7.1', text: /is not listed for sender domain/ },
    (ctx) => tryB(ctx, operator(ctx, 'A'), `usurpation@${operator(ctx, 'B').domains[0]}`),
  ),
  refusalStep('gates: B refuses a revoked certificate (EX_OPE_5050)', { code: 554, enhanced: '5.7.1', text: /is revoked/ }, (ctx) =>
    tryB(ctx, operators(ctx).refused.revoked),
  ),
  refusalStep('gates: B refuses an expired certificate', { code: 554, enhanced: '5.7.1', text: /is not valid now/ }, (ctx) =>
    tryB(ctx, operators(ctx).refused.expired),
  ),
  refusalStep('gates: B refuses a session without client certificate', { code: 554, enhanced: '5.7.1', text: /No certificate presented/ }, (ctx) =>
    tryB(ctx, undefined),
  ),
];
