// Login latency of the API LPS entry points as an LPS sees it, with the real Dovecot 2.3 and
// Postfix 3.7 behind the fronts (the stack of the integration tests): connect, greeting,
// STARTTLS, AUTHENTICATE/AUTH XOAUTH2 with a valid PSC token, final reply. Tokens are
// warm (UserInfo cached, as for every login after a token's first), so the figures are the
// path's own cost: TLS handshakes, the checker, Dovecot's auth, Postfix, the fronts. This
// process runs the clients, the fronts and the checker: its CPU per login, which the
// machine's load does not change, is where a front that terminates TLS shows.
//   node dist/bench/lps-login.js [--logins 200] [--concurrency 4]
// Needs root, Dovecot (with dovecot-auth-lua) and Postfix; without them it says so and exits 0.
import { operatorMtasMissing } from '../src/sandbox/operator-mtas.js';
import { LineConnection, smtpOverTls, xoauth2InitialResponse } from '../test/helpers/lps-clients.js';
import { freshLoopback, startLpsStack } from '../test/helpers/lps-stack.js';
import { tmpDir } from '../test/helpers/tmp.js';
import { fmt, summarise } from './lib/stats.js';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};

const BAL = 'bench@ch-exemple.mssante.fr';
const HOLDER = '810000000001';

interface Timing {
  /** Connect to final reply, ns. */
  total: number;
  /** AUTH line sent to final reply, ns. */
  auth: number;
  final: string;
}

async function smtpLogin(port: number, token: string): Promise<Timing> {
  const t0 = process.hrtime.bigint();
  const { connection: c } = await smtpOverTls(port, { localAddress: freshLoopback() });
  try {
    const t1 = process.hrtime.bigint();
    c.send(`AUTH XOAUTH2 ${xoauth2InitialResponse(BAL, token)}`);
    const final = (await c.expect(/^\d{3} /)).line;
    const t2 = process.hrtime.bigint();
    return { total: Number(t2 - t0), auth: Number(t2 - t1), final };
  } finally {
    c.destroy();
  }
}

async function imapLogin(port: number, token: string): Promise<Timing> {
  const t0 = process.hrtime.bigint();
  const c = await LineConnection.open(port, { localAddress: freshLoopback() });
  try {
    await c.expect(/^\* OK/);
    c.send('a1 STARTTLS');
    await c.expect(/^a1 /);
    await c.startTls();
    const t1 = process.hrtime.bigint();
    c.send(`a2 AUTHENTICATE XOAUTH2 ${xoauth2InitialResponse(BAL, token)}`);
    const final = (await c.expect(/^a2 /)).line;
    const t2 = process.hrtime.bigint();
    return { total: Number(t2 - t0), auth: Number(t2 - t1), final };
  } finally {
    c.destroy();
  }
}

async function measure(name: string, logins: number, concurrency: number, one: () => Promise<Timing>, ok: RegExp): Promise<boolean> {
  const totals: number[] = [];
  const auths: number[] = [];
  let refused = 0;
  let next = 0;
  const start = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < logins) {
        const t = await one();
        if (!ok.test(t.final)) refused += 1;
        totals.push(t.total);
        auths.push(t.auth);
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const total = summarise(totals);
  const auth = summarise(auths);
  const ms = (us: number): string => fmt(us / 1000, 1);
  process.stdout.write(
    `${name}: ${total.count} logins, ${concurrency} at a time, ${fmt(total.count / seconds, 0)}/s, ${refused} refused; ` +
      `connect→reply p50 ${ms(total.p50us)} ms p99 ${ms(total.p99us)} ms; AUTH→reply p50 ${ms(auth.p50us)} ms p99 ${ms(auth.p99us)} ms; this process's CPU ${fmt((cpu.user + cpu.system) / 1000 / total.count, 2)} ms per login\n`,
  );
  return refused === 0;
}

async function main(): Promise<void> {
  const missing = operatorMtasMissing();
  if (missing.length > 0) {
    process.stdout.write(`lps-login benchmark skipped: missing ${missing.join(', ')}\n`);
    return;
  }
  const logins = arg('logins', 200);
  const concurrency = arg('concurrency', 4);
  const stack = await startLpsStack(tmpDir('mss-bench-lps-'));
  try {
    stack.access.add(BAL, { type: 'PER', holder: HOLDER });
    const token = await stack.psc.mint({ idNat: HOLDER, ttlSeconds: 3600 });
    // Warm-up: the first login fetches discovery, JWKS and UserInfo; Postfix and Dovecot start their processes.
    for (let i = 0; i < 10; i += 1) {
      await smtpLogin(stack.submissionPort, token);
      await imapLogin(stack.imapPort, token);
    }
    let ok = true;
    for (const c of [1, concurrency]) {
      ok = (await measure(`smtp 587`, logins, c, () => smtpLogin(stack.submissionPort, token), /^235 /)) && ok;
      ok = (await measure(`imap 143`, logins, c, () => imapLogin(stack.imapPort, token), /^a2 OK/)) && ok;
    }
    if (!ok) process.exitCode = 1;
  } finally {
    await stack.stop();
  }
}

await main();
