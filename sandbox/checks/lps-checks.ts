// Self-check steps for operator A's API LPS: an LPS logs in over IMAP and SMTP with a token
// from the sandbox PSC, a token of someone else is refused, and structure A's AUTH-CLI
// certificate opens its APP mailbox — through the real Dovecot and Postfix.
import fs from 'node:fs';
import { SMTP_AUTH_FAILED } from '../../src/auth/front/smtp-session.js';
import { httpsRequest } from '../../src/net/https-request.js';
import { imapAuthCliLogin, imapXoauth2Login, smtpXoauth2Login } from '../lps-client.js';
import type { SandboxOperatorEndpoints } from '../manifest.js';
import { fail, pass, skip, type CheckContext, type CheckOutcome, type SelfCheckStep } from './check.js';

/** Operator A's API LPS entry points and mailboxes, or why they are not running. */
interface Lps extends NonNullable<SandboxOperatorEndpoints['lps']> {
  mailbox: string;
  holder: string;
  appMailbox: string;
}

function lps(ctx: CheckContext): Lps | string {
  const operators = ctx.sandbox.endpoints.operators;
  const a = operators?.nodes.A;
  if (!operators || !a) return 'the sandbox has no operator A';
  if (!a.lps) return operators.unavailable ?? "operator A's API LPS fronts are off";
  return { ...a.lps, mailbox: a.mailboxes.person, holder: a.mailboxes.holder, appMailbox: a.mailboxes.app };
}

/** A token of the sandbox PSC for `idNat`. */
export async function token(ctx: CheckContext, idNat: string): Promise<string> {
  const psc = ctx.sandbox.endpoints.psc;
  if (!psc) throw new Error('the sandbox has no PSC');
  const res = await httpsRequest({
    url: psc.mint,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ idNat, ttlSeconds: 300 }),
    ca: fs.readFileSync(psc.ca, 'utf8'),
    timeoutMs: 5000,
    maxBytes: 65_536,
  });
  return String((JSON.parse(res.body.toString('utf8')) as { access_token?: string }).access_token);
}

// Each connection from its own loopback address: Dovecot delays the logins of an address
// that just failed (auth penalty), which would slow the steps after a refusal.
let nextAddress = 10;
export const source = (): { localAddress: string } => ({ localAddress: `127.77.${Math.floor(nextAddress / 250)}.${(nextAddress++ % 250) + 2}` });

function step(name: string, run: (ctx: CheckContext, e: Lps) => Promise<CheckOutcome>): SelfCheckStep {
  return {
    name,
    async run(ctx) {
      const e = lps(ctx);
      return typeof e === 'string' ? skip(`not run: ${e}`) : run(ctx, e);
    },
  };
}

export const lpsChecks: SelfCheckStep[] = [
  step('api-lps: IMAP login with a sandbox PSC token (STARTTLS, AUTHENTICATE XOAUTH2 with SASL-IR)', async (ctx, e) => {
    const r = await imapXoauth2Login(e.imap, e.mailbox, await token(ctx, e.holder), source());
    const caps = ['SASL-IR', 'AUTH=XOAUTH2'].filter((c) => r.capabilities.includes(c));
    return r.verdict === 'OK' && caps.length === 2
      ? pass(`${e.mailbox} as ${e.holder}: ${r.line.replace(/\[CAPABILITY [^\]]*\] /, '')} (announced ${caps.join(' ')})`)
      : fail(r.line);
  }),
  step('api-lps: SMTP submission login with a sandbox PSC token (STARTTLS, AUTH XOAUTH2)', async (ctx, e) => {
    const r = await smtpXoauth2Login(e.submission, e.mailbox, await token(ctx, e.holder), source());
    return r.verdict === 'OK' ? pass(`${e.mailbox} as ${e.holder}: ${r.line}`) : fail(r.line);
  }),
  step('api-lps: a token of someone with no right on the mailbox is refused on IMAP and SMTP', async (ctx, e) => {
    const other = await token(ctx, '899700000999');
    const i = await imapXoauth2Login(e.imap, e.mailbox, other, source());
    const s = await smtpXoauth2Login(e.submission, e.mailbox, other, source());
    const got = `IMAP: ${i.line}; SMTP: ${s.line}`;
    // EX_LPS_0710: exactly RFC 4954's reply on SMTP.
    return /NO \[AUTHENTICATIONFAILED\]/.test(i.line) && s.line === SMTP_AUTH_FAILED ? pass(got) : fail(got);
  }),
  step("api-lps: AUTH-CLI login to structure A's APP mailbox with its certificate", async (ctx, e) => {
    const cli = ctx.pki.authCli[0];
    if (!cli) return fail('no AUTH-CLI certificate in the sandbox PKI');
    const r = await imapAuthCliLogin(e.authCliImap, e.appMailbox, {
      ...source(),
      cert: fs.readFileSync(cli.cert, 'utf8'),
      key: fs.readFileSync(cli.key, 'utf8'),
    });
    return r.verdict === 'OK' ? pass(`${e.appMailbox} with ${cli.subject}: ${r.line.replace(/\[CAPABILITY [^\]]*\] /, '')}`) : fail(r.line);
  }),
];
