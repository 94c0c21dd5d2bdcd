// Milter decisions per second and their latency for a message with 10 recipients, with the
// real submission rules (src/submission: login, sender rights, mailbox status, liste
// blanche, recipient count, test mailboxes, size, journal event and trace per message),
// against postfwd (Debian's postfix policy daemon) enforcing what a policy service can — at
// most 40 recipients and recipient domains in a list of 50 — in the same run:
//   1. direct: each engine driven over loopback TCP by a client of its own protocol;
//   2. through a real Postfix: two smtpd listeners of one instance with SMTP AUTH (Dovecot),
//      one with the milter (shipped options), one with check_policy_service → postfwd, SMTP
//      clients in parallel, decision latency timed by the same proxy in front of each engine.
// Per message the milter answers 13 times (MAIL, 10 RCPT, end of headers, end of message),
// postfwd 11 (10 RCPT, DATA); the rates compare messages, the unit both engines judge.
// Bounded: BENCH_SECONDS per measured phase (default 4).
import { fork, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DovecotInstance } from '../src/mta/dovecot-instance.js';
import { PostfixInstance } from '../src/mta/postfix-instance.js';
import { mainPiecesForMilter, submissionListener } from '../test/helpers/postfix-pieces.js';
import { SmtpClient } from '../test/helpers/smtp-client.js';
import { messageSteps, runMessage } from './lib/milter-load.js';
import { PolicyClient } from './lib/policy-client.js';
import { DOMAINS, postfwdRules, recipients, SENDER } from './lib/policy.js';
import { fmt, summarise, type Summary } from './lib/stats.js';
import { TimingProxy } from './lib/timing-proxy.js';
import { cpuSeconds } from './lib/cpu.js';
import { DECISION_CODES } from './lib/decisions.js';

const PHASE_MS = Number(process.env.BENCH_SECONDS ?? 4) * 1000;
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
/** Replies per message: the milter's (MAIL, 10 RCPT, EOH, EOM) and postfwd's (10 RCPT, DATA). */
const DECISIONS: Record<string, number> = { milter: 13, postfwd: 11 };
const PASSWORD = 'bench';
const here = path.dirname(fileURLToPath(import.meta.url));

interface Row {
  phase: string;
  engine: string;
  messages: number;
  seconds: number;
  latency: Summary;
  /** CPU seconds the engine's process used during the phase. */
  cpu?: number;
  note?: string;
}
const rows: Row[] = [];

async function freePort(): Promise<number> {
  const s = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => s.once('listening', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function runFor(ms: number, concurrency: number, one: (worker: number, n: number) => Promise<void>): Promise<{ messages: number; seconds: number }> {
  const start = process.hrtime.bigint();
  const deadline = Date.now() + ms;
  let messages = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, w) => {
      for (let n = 0; Date.now() < deadline; n++) {
        await one(w, n);
        messages++;
      }
    }),
  );
  return { messages, seconds: Number(process.hrtime.bigint() - start) / 1e9 };
}

// ---------------------------------------------------------------- engines
interface Engine {
  port: number;
  pid(): number | undefined;
}

async function startMilterProcess(): Promise<Engine & { take(): Promise<number[]>; stop(): Promise<void> }> {
  const child = fork(path.join(here, 'lib', 'milter-process.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const guard = (): void => void child.kill('SIGKILL');
  process.once('exit', guard);
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m: { port: number }) => resolve(m.port));
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`milter process exited with ${code}`)));
  });
  return {
    port,
    pid: () => child.pid,
    take: () =>
      new Promise((resolve) => {
        child.once('message', (m: { decisionsNs: number[] }) => resolve(m.decisionsNs));
        child.send('take');
      }),
    stop: async () => {
      const exited = new Promise((r) => child.once('exit', r));
      child.send('stop');
      await exited;
      process.off('exit', guard);
    },
  };
}

/** Run `body` and return the CPU seconds the engine's process used meanwhile. */
async function measuredCpu<T>(engine: Engine, body: () => Promise<T>): Promise<{ result: T; cpu: number }> {
  const pid = engine.pid();
  const before = pid === undefined ? NaN : cpuSeconds(pid);
  const result = await body();
  return { result, cpu: pid === undefined ? NaN : cpuSeconds(pid) - before };
}

async function startPostfwd(dir: string): Promise<Engine & { stop(): Promise<void> }> {
  const rules = path.join(dir, 'postfwd.cf');
  const pidFile = path.join(dir, 'postfwd.pid');
  fs.writeFileSync(rules, postfwdRules());
  const port = await freePort();
  // Debian's postfwd cannot stay in the foreground: both postfwd1 -d and postfwd2 fork
  // into the background (Net::Server setsid). postfwd1 is one process (Net::Server::
  // Multiplex), the closest to one Node process; it is stopped by the PID it writes.
  // Request cache off, so every request is evaluated as the milter evaluates every
  // event; -P (perfmon): no logging, as the milter under test logs only warnings.
  const r = spawnSync('postfwd1', ['-d', '-P', '-f', rules, '-i', '127.0.0.1', '-p', String(port), '--cache=0', '-u', 'nobody', '-g', 'nogroup', '--pidfile', pidFile], { stdio: 'ignore', timeout: 10_000 });
  if (r.status !== 0) throw new Error(`postfwd1 exited with ${r.status}`);
  const pid = (): number | undefined => {
    const n = Number(fs.existsSync(pidFile) ? fs.readFileSync(pidFile, 'utf8').trim() : NaN);
    return Number.isInteger(n) && n > 0 ? n : undefined;
  };
  const kill = (signal: NodeJS.Signals): void => {
    const p = pid();
    if (p !== undefined) {
      try {
        process.kill(p, signal);
      } catch {
        /* gone */
      }
    }
  };
  const guard = (): void => kill('SIGKILL');
  process.once('exit', guard);
  const deadline = Date.now() + 10_000;
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (up && pid() !== undefined) break;
    if (Date.now() > deadline) {
      kill('SIGKILL');
      throw new Error('postfwd did not start listening');
    }
    await new Promise((res) => setTimeout(res, 50));
  }
  return {
    port,
    pid,
    stop: async () => {
      const p = pid();
      kill('SIGTERM');
      for (let i = 0; i < 60 && p !== undefined && alive(p); i++) await new Promise((res) => setTimeout(res, 50));
      if (p !== undefined && alive(p)) kill('SIGKILL');
      process.off('exit', guard);
    },
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------- 1. direct
async function direct(milter: Engine, postfwd: Engine, takeMilter: () => Promise<number[]>): Promise<void> {
  const milterRtt: number[] = [];
  await takeMilter();
  const { result: m, cpu: milterCpu } = await measuredCpu(milter, () =>
    runFor(PHASE_MS, CONCURRENCY, async (w, n) => {
      const refused = await runMessage(milter.port, messageSteps(recipients(n), `Q${w}x${n}`, SENDER), milterRtt);
      if (refused !== 2) throw new Error(`milter: ${refused} refusals instead of 2`);
    }),
  );
  const inside = await takeMilter();
  rows.push({ phase: '1 direct', engine: 'milter (client round trip)', messages: m.messages, seconds: m.seconds, latency: summarise(milterRtt), cpu: milterCpu, note: 'a new milter connection per message' });
  rows.push({ phase: '1 direct', engine: 'milter (inside server)', messages: m.messages, seconds: m.seconds, latency: summarise(inside) });

  const rtt: number[] = [];
  const clients = await Promise.all(Array.from({ length: CONCURRENCY }, () => PolicyClient.connect(postfwd.port)));
  const { result: p, cpu: postfwdCpu } = await measuredCpu(postfwd, () => runFor(PHASE_MS, CONCURRENCY, async (w, n) => {
    const c = clients[w] as PolicyClient;
    let refused = 0;
    const rcpts = recipients(n);
    for (const r of rcpts) {
      const t0 = process.hrtime.bigint();
      const action = await c.ask({ protocol_state: 'RCPT', protocol_name: 'ESMTP', client_address: '127.0.0.1', sender: SENDER, recipient: r, recipient_count: 0, queue_id: '', size: 0 });
      rtt.push(Number(process.hrtime.bigint() - t0));
      if (action.startsWith('REJECT')) refused++;
    }
    const t0 = process.hrtime.bigint();
    await c.ask({ protocol_state: 'DATA', protocol_name: 'ESMTP', client_address: '127.0.0.1', sender: SENDER, recipient: '', recipient_count: rcpts.length - refused, queue_id: `Q${w}x${n}`, size: 0 });
    rtt.push(Number(process.hrtime.bigint() - t0));
    if (refused !== 2) throw new Error(`postfwd: ${refused} refusals instead of 2`);
  }));
  for (const c of clients) c.close();
  rows.push({ phase: '1 direct', engine: 'postfwd (client round trip)', messages: p.messages, seconds: p.seconds, latency: summarise(rtt), cpu: postfwdCpu, note: 'kept-open policy connections' });
}

// ---------------------------------------------------------------- 2. through Postfix
async function smtpMessage(port: number, n: number): Promise<void> {
  const c = await SmtpClient.connect(port);
  try {
    if ((await c.command('EHLO lps.ch.test')).code !== 250) throw new Error('EHLO');
    const auth = await c.authPlain(SENDER, PASSWORD);
    if (auth.code !== 235) throw new Error(`AUTH: ${auth.code} ${auth.text}`);
    const mail = await c.command(`MAIL FROM:<${SENDER}>`);
    if (mail.code !== 250) throw new Error(`MAIL: ${mail.code} ${mail.text}`);
    let accepted = 0;
    let refused = 0;
    for (const r of recipients(n)) {
      const reply = await c.command(`RCPT TO:<${r}>`);
      if (reply.code === 250) accepted++;
      else if (Math.floor(reply.code / 100) === 5) refused++;
      else throw new Error(`RCPT ${r}: ${reply.code} ${reply.text}`);
    }
    if (accepted !== 8 || refused !== 2) throw new Error(`${accepted} accepted, ${refused} refused`);
    const [, final] = await c.data(`From: <${SENDER}>\r\nSubject: bench ${n}\r\nDate: ${new Date().toUTCString()}\r\nMessage-ID: <${n}.${Math.random()}@bench>\r\nX-MSS-NIL: <bench/lps/1>\r\n\r\nhello\r\n`);
    if (final.code !== 250) throw new Error(`DATA: ${final.code} ${final.text}`);
  } finally {
    await c.quit();
  }
}

async function throughPostfix(dir: string, milter: Engine, postfwd: Engine, takeMilter: () => Promise<number[]>): Promise<void> {
  const milterProxy = new TimingProxy(milter.port, { kind: 'milter', answered: `O${DECISION_CODES}` });
  const postfwdProxy = new TimingProxy(postfwd.port, { kind: 'policy' });
  const [mp, pp] = [await milterProxy.listen(), await postfwdProxy.listen()];
  const [milterSmtp, policySmtp] = [await freePort(), await freePort()];
  const policy = `check_policy_service inet:127.0.0.1:${pp}, permit_mynetworks, reject`;
  // The same SMTP dialogue on both listeners: AUTH PLAIN through Dovecot, no TLS (its cost
  // would be the same for both engines and only hide their difference).
  const dovecot = new DovecotInstance({ dir: path.join(dir, 'dovecot'), authConfig: ['auth_mechanisms = plain', 'passdb {', '  driver = static', `  args = password=${PASSWORD}`, '}'].join('\n') });
  const sasl = ['-o smtpd_sasl_auth_enable=yes', '-o smtpd_sasl_type=dovecot', `-o smtpd_sasl_path=${dovecot.authSocket}`];
  const postfix = new PostfixInstance({
    dir: path.join(dir, 'postfix'),
    myhostname: 'mx.bench.test',
    services: [
      submissionListener(milterSmtp, sasl, /^(smtpd_milters|milter_)/),
      [`127.0.0.1:${policySmtp} inet n - n - - smtpd`, '-o syslog_name=postfix/policy', ...sasl, '-o smtpd_recipient_restrictions=$bench_policy', '-o smtpd_data_restrictions=$bench_policy'].join('\n  '),
    ],
    main: {
      ...mainPiecesForMilter(`inet:127.0.0.1:${mp}`),
      bench_policy: policy,
      // Accepted mail is thrown away: the benchmark is about the decision, not the delivery.
      default_transport: 'discard:bench',
      virtual_transport: 'discard:bench',
      default_process_limit: 200,
    },
  });
  try {
    await dovecot.start();
    await postfix.start();
    await Promise.all([smtpMessage(milterSmtp, 0), smtpMessage(policySmtp, 0)]);
    for (const [engine, port, proxy, proc] of [['milter', milterSmtp, milterProxy, milter], ['postfwd', policySmtp, postfwdProxy, postfwd]] as const) {
      proxy.latenciesNs.splice(0);
      if (engine === 'milter') await takeMilter();
      const { result: r, cpu } = await measuredCpu(proc, () => runFor(PHASE_MS, CONCURRENCY, (_w, n) => smtpMessage(port, n)));
      rows.push({ phase: '2 via Postfix', engine: `${engine} (timed at proxy)`, messages: r.messages, seconds: r.seconds, latency: summarise(proxy.latenciesNs), cpu, note: 'one SMTP session per message' });
      if (engine === 'milter') rows.push({ phase: '2 via Postfix', engine: 'milter (inside server)', messages: r.messages, seconds: r.seconds, latency: summarise(await takeMilter()) });
    }
  } finally {
    await postfix.stop();
    await dovecot.stop();
    await milterProxy.close();
    await postfwdProxy.close();
  }
}

// ---------------------------------------------------------------- main
function print(): void {
  const header = ['phase', 'engine', 'messages/s', 'decisions/s', 'p50 µs', 'p99 µs', 'max µs', 'CPU µs/msg', 'note'];
  const lines = rows.map((r) => [
    r.phase,
    r.engine,
    fmt(r.messages / r.seconds),
    fmt((r.messages * (DECISIONS[r.engine.split(' ')[0] ?? ''] ?? NaN)) / r.seconds),
    fmt(r.latency.p50us, 1),
    fmt(r.latency.p99us, 1),
    fmt(r.latency.maxUs, 0),
    r.cpu === undefined ? '' : fmt((r.cpu * 1e6) / r.messages, 0),
    r.note ?? '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  for (const l of [header, ...lines]) process.stdout.write(`${l.map((c, i) => (i >= 2 && i <= 7 ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join('  ')}\n`);
}

function verdict(): void {
  const rate = (phase: string, engine: string): number => {
    const r = rows.find((x) => x.phase === phase && x.engine.startsWith(engine));
    return r ? r.messages / r.seconds : NaN;
  };
  const cpuPerMessage = (phase: string, engine: string): number => {
    const r = rows.find((x) => x.phase === phase && x.engine.startsWith(engine) && x.cpu !== undefined);
    return r?.cpu !== undefined ? r.cpu / r.messages : NaN;
  };
  for (const phase of ['1 direct', '2 via Postfix']) {
    const ratio = rate(phase, 'milter') / rate(phase, 'postfwd');
    const capacity = cpuPerMessage(phase, 'postfwd') / cpuPerMessage(phase, 'milter');
    process.stdout.write(`${phase}: milter/postfwd message rate = ${fmt(ratio, 1)}× (target ≥ 5×); messages per CPU-second = ${fmt(capacity, 1)}× (the milter answers 13 times per message, postfwd 11)\n`);
  }
  const inside = rows.filter((r) => r.engine === 'milter (inside server)').map((r) => r.latency.p99us);
  const proxy = rows.find((r) => r.phase === '2 via Postfix' && r.engine.startsWith('milter'))?.latency.p99us ?? NaN;
  process.stdout.write(`milter p99 per decision: inside server ${inside.map((v) => fmt(v, 1)).join(' / ')} µs, at proxy under Postfix ${fmt(proxy, 1)} µs (target < 1000 µs)\n`);
}

async function main(): Promise<void> {
  process.stdout.write(`milter benchmark (real submission rules): ${os.cpus().length} CPUs, Node ${process.version}, ${PHASE_MS / 1000} s per phase, ${CONCURRENCY} concurrent clients, 10 recipients/message (2 refused), ${DOMAINS.length} allowed domains\n`);
  const missing = ['postfix', 'postfwd1', 'dovecot'].filter((b) => spawnSync('sh', ['-c', `command -v ${b}`]).status !== 0);
  if (missing.length > 0 || process.getuid?.() !== 0) {
    process.stdout.write(`skipping the benchmark: ${missing.length ? `missing ${missing.join(', ')}` : 'needs root'} (make system-deps)\n`);
    return;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mss-bench-'));
  fs.chmodSync(dir, 0o755);
  const milter = await startMilterProcess();
  let postfwd: Awaited<ReturnType<typeof startPostfwd>> | undefined;
  try {
    postfwd = await startPostfwd(dir);
    await direct(milter, postfwd, milter.take);
    await throughPostfix(dir, milter, postfwd, milter.take);
  } finally {
    await postfwd?.stop();
    await milter.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  print();
  verdict();
}

await main();
