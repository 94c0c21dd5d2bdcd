// Milter decisions per second and their latency for a message with 10 recipients, with the
// real submission rules (src/submission: login, sender rights, mailbox status, liste
// blanche, recipient count, test mailboxes, size, journal event and trace per message),
// against postfwd (Debian's postfix policy daemon) enforcing what a policy service can — at
// most 40 recipients and recipient domains in a list of 50 — in the same run:
//   1. direct: each engine driven by a client of its own protocol on its shipped transport
//      (below), in BENCH_ROUNDS rounds (default 5) whose order of engines turns, min and median;
//   2. through a real Postfix: two smtpd listeners of one instance with SMTP AUTH (Dovecot),
//      one with the milter (shipped options), one with check_policy_service → postfwd2, SMTP
//      clients in parallel, decision latency timed by the same proxy in front of each engine.
// Engines: the milter in one process, and in BENCH_MILTER_WORKERS processes (default 2, as
// `serve` with serve.workers: 2 runs it: node:cluster, shared listener); postfwd2 — Debian's
// preforking engine with its default pool — the anchor of issue 20's goal (milter ≥ 5×
// postfwd2); postfwd1 (one process) for reference. Fairness: postfwd's request cache is off
// (--cache=0, no parent caches) and it logs nothing (-P), DNS tests off (-n); the milter logs
// warnings only; both with the same concurrency (BENCH_CONCURRENCY, 8); CPU
// is the engine's whole process tree (/proc). Per message the milter answers 12 times (MAIL,
// 10 RCPT, end of message: the rules judge the headers at end of message and Postfix does not
// wait at end of headers), postfwd 11 (10 RCPT, DATA), and the milter also
// writes a journal event and a trace per message; the rates compare messages, the unit both
// engines judge. Bounded: BENCH_SECONDS per measured phase (default 4).
// The load generator (this process) runs on the same 2 cores as the engines, so its own CPU
// per message is printed for each engine (process.cpuUsage over the phase). It is lean and
// the same for both (night of 2026-12-06): each worker's messages are encoded once before
// any measured phase and replayed (BENCH_CONCURRENCY × 50 messages, recipients cycling
// through the 50 domains), one promise per message, replies only cut at their length (milter) or
// blank line (policy) and checked for a refusal — no packet objects, decoders or string
// decoding. The milter is not timed per packet in the direct phase (`serve` is not); the
// phase through Postfix turns that timing on.
// BENCH_FLOOR=1 adds the FLOOR engine (bench/lib/milter-floor.ts): a Node milter that only
// speaks the protocol — the same negotiation and 12 awaited replies per message, no rules,
// macros, journal or trace — on the milters' transport, driven by the same generator. It
// is printed on its own line, never in a goal ratio: the ceiling of any Node 20 milter on
// this machine with this generator. BENCH_ENGINES=milter1,milterN,postfwd2,postfwd1,floor
// picks engines (phase 2 needs milterN and postfwd2).
// BENCH_ENGINES=frame adds the FRAME engine: the milter process with the rules replaced by a
// handler that only continues (BENCH_MILTER_HANDLER=continue in bench/lib/milter-process.ts)
// — the session framework's own cost, between the floor and the milter; refuses nothing,
// never in a goal ratio. BENCH_BASE_DIST=<another build's dist/> adds milter1base and
// framebase: the same engines from that build (e.g. main's), driven in the same rounds, for
// before/after comparisons that the machine's load does not blur. BENCH_MILTER_PROF=<dir>
// runs the milter processes under `node --cpu-prof` with their profiles written there;
// BENCH_MILTER_NODE_ARGS adds node options to this build's (not the base's: flags to try, never a figure of `serve`).
// Transport (BENCH_TRANSPORT, default unix): every engine on a unix socket — the milters'
// shipped transport (milter.listen's default, Postfix's unix:mss-sidecar/milter.sock) and
// postfwd's own unix mode (--proto=unix --port=<path>, as its manual says) — or, with
// BENCH_TRANSPORT=tcp, every engine on loopback TCP. Issue 20's goal is judged on the
// default since the late night of 2026-12-06 (before, every engine was on loopback TCP, the
// milter paying a TCP cost Postfix does not make it pay when installed as shipped). In
// phase 2 Postfix reaches each engine through a TCP timing proxy, which connects to the
// engine on its transport.
import { fork, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DovecotInstance } from '../sandbox/mta/dovecot-instance.js';
import { PostfixInstance } from '../sandbox/mta/postfix-instance.js';
import { mainPiecesForMilter, submissionListener } from '../test/helpers/postfix-pieces.js';
import { SmtpClient } from '../test/helpers/smtp-client.js';
import { connectTo, messageSteps, runMessage, type EngineAddress } from './lib/milter-load.js';
import { encodeRequest, PolicyClient } from './lib/policy-client.js';
import { DOMAINS, postfwdRules, recipients, SENDER } from './lib/policy.js';
import { fmt, summarise, type Summary } from './lib/stats.js';
import { TimingProxy } from './lib/timing-proxy.js';
import { cpuTreeSeconds } from './lib/cpu.js';
import { loadAverage, median } from './lib/runs.js';
import { DECISION_CODES } from './lib/decisions.js';

const PHASE_MS = Number(process.env.BENCH_SECONDS ?? 4) * 1000;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const MILTER_WORKERS = Number(process.env.BENCH_MILTER_WORKERS ?? 2);
const GOAL_RATIO = 5;
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const TRANSPORT = process.env.BENCH_TRANSPORT ?? 'unix';
if (TRANSPORT !== 'unix' && TRANSPORT !== 'tcp')
  throw new Error(`BENCH_TRANSPORT must be unix (the milters' shipped transport, default) or tcp, not "${TRANSPORT}"`);
/** Every engine on a unix socket (the milters' shipped transport), else on loopback TCP. */
const UNIX = TRANSPORT === 'unix';
/** BENCH_FLOOR=1: also run the floor engine (bench/lib/milter-floor.ts), printed on its own, never in the goal ratio. */
const FLOOR = process.env.BENCH_FLOOR === '1';
/** BENCH_ENGINES: a comma list of milter1, milterN, postfwd2, postfwd1, floor (default: all but floor, plus floor with BENCH_FLOOR=1). */
const ENGINES = new Set((process.env.BENCH_ENGINES ?? `milter1,milterN,postfwd2,postfwd1${FLOOR ? ',floor' : ''}`).split(',').map((e) => e.trim()));
/** Replies per message: the milter's (MAIL, 10 RCPT, EOM) and postfwd's (10 RCPT, DATA). */
const DECISIONS: Record<string, number> = { milter: 12, postfwd: 11 };
const PASSWORD = 'bench';
const FLOOR_NAME = 'floor (protocol only)';
/** BENCH_BASE_DIST: another build's dist/ whose milter engines run beside this build's (milter1base, framebase). */
const BASE_DIST = process.env.BENCH_BASE_DIST;
/** BENCH_MILTER_PROF: a directory for `node --cpu-prof` profiles of the milter processes. */
const PROF_DIR = process.env.BENCH_MILTER_PROF;
/** BENCH_MILTER_NODE_ARGS: more node options for the milter processes (space-separated; e.g. V8 heap flags to try). */
const NODE_ARGS = (process.env.BENCH_MILTER_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
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
  /** A loopback TCP port, or a unix socket's path (the milters by default; BENCH_TRANSPORT=tcp: a port). */
  port: EngineAddress;
  pid(): number | undefined;
}

async function startMilterProcess(
  workers: number,
  socket?: string,
  script = 'milter-process.js',
  options: { handler?: 'continue'; dist?: string } = {},
): Promise<Engine & { observe(): void; take(): Promise<number[]>; stop(): Promise<void> }> {
  const lib = options.dist ? path.join(path.resolve(options.dist), 'bench', 'lib') : path.join(here, 'lib');
  const child = fork(path.join(lib, script), [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv: [...process.execArgv, ...(PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(PROF_DIR)}`] : []), ...(options.dist ? [] : NODE_ARGS)],
    env: {
      ...process.env,
      BENCH_MILTER_WORKERS: String(workers),
      ...(socket ? { BENCH_MILTER_SOCKET: socket } : {}),
      ...(options.handler ? { BENCH_MILTER_HANDLER: options.handler } : {}),
    },
  });
  const guard = (): void => void child.kill('SIGKILL');
  process.once('exit', guard);
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m: { port: number }) => resolve(m.port));
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`milter process exited with ${code}`)));
  });
  return {
    port: socket ?? port,
    pid: () => child.pid,
    observe: () => child.send('observe'),
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
  const before = pid === undefined ? NaN : cpuTreeSeconds(pid);
  const result = await body();
  return { result, cpu: pid === undefined ? NaN : cpuTreeSeconds(pid) - before };
}

/** A user's number (`id -u`). */
function userId(user: string): number {
  const r = spawnSync('id', ['-u', user], { encoding: 'utf8' });
  const n = Number(r.stdout.trim());
  if (r.status !== 0 || !Number.isInteger(n)) throw new Error(`id -u ${user} failed: ${r.stderr.trim()}`);
  return n;
}

async function startPostfwd(dir: string, engine: 'postfwd1' | 'postfwd2'): Promise<Engine & { stop(): Promise<void> }> {
  const rules = path.join(dir, `${engine}.cf`);
  const pidFile = path.join(dir, `${engine}.pid`);
  fs.writeFileSync(rules, postfwdRules());
  // On the unix transport postfwd listens on a unix socket as its manual says (--proto=unix
  // --port=<path>; Net::Server wants a dot in the path), created once it runs as nobody: in
  // a directory of nobody's.
  const port: EngineAddress = UNIX ? path.join(dir, `${engine}-sock`, `${engine}.socket`) : await freePort();
  if (typeof port === 'string') {
    fs.mkdirSync(path.dirname(port), { mode: 0o700 });
    fs.chownSync(path.dirname(port), userId('nobody'), -1); // -1: the group stays
  }
  const listen = typeof port === 'string' ? ['--proto=unix', `--port=${port}`] : ['-i', '127.0.0.1', '-p', String(port)];
  // Debian's postfwd cannot stay in the foreground: both postfwd1 -d and postfwd2 fork
  // into the background (Net::Server setsid); each is stopped by the PID it writes. postfwd1
  // is one process (Net::Server::Multiplex); postfwd2 preforks children (Net::Server::PreFork,
  // Debian's defaults) behind a master, plus its cache process. Request cache off, so every
  // request is evaluated as the milter evaluates every event; -P: no logging (the milter
  // under test logs only warnings); -n: no DNS-based test.
  const cacheOff = engine === 'postfwd2' ? ['--cache=0', '--no_parent_cache'] : ['--cache=0'];
  const r = spawnSync(engine, ['-d', '-P', '-n', '-f', rules, ...listen, ...cacheOff, '-u', 'nobody', '-g', 'nogroup', '--pidfile', pidFile], {
    stdio: 'ignore',
    timeout: 10_000,
  });
  if (r.status !== 0) throw new Error(`${engine} exited with ${r.status}`);
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
      const s = connectTo(port).once('connect', () => {
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
interface Named extends Engine {
  name: string;
  kind: 'milter' | 'postfwd';
  /** The floor engine (BENCH_FLOOR): protocol only, refuses nothing, never part of a goal ratio. */
  floor?: boolean;
  /** Refuses nothing (the floor and the frame engines): 0 refusals expected per message, not 2. */
  refusesNothing?: boolean;
}

interface DirectResult {
  engine: string;
  /** Messages per second, one per round. */
  rates: number[];
  /** CPU microseconds of the engine per message, one per round. */
  cpuUs: number[];
  /** CPU microseconds of the load generator (this process) per message, one per round. */
  genUs: number[];
  /** Client round trips of every decision, all rounds. */
  rtt: number[];
}

/** CPU seconds this process (the load generator) used while `body` ran. */
async function generatorCpu<T>(body: () => Promise<T>): Promise<T & { generator: number }> {
  const before = process.cpuUsage();
  const result = await body();
  const used = process.cpuUsage(before);
  return { ...result, generator: (used.user + used.system) / 1e6 };
}

async function directRound(e: Named, rtt: number[]): Promise<{ messages: number; seconds: number; cpu: number; generator: number }> {
  return generatorCpu(() => directPhase(e, rtt));
}

/**
 * Each worker's messages, encoded once before any measured phase and replayed in turn
 * (fairness notes: the same for both engines): MESSAGE_POOL messages per worker, whose
 * recipients cycle through every domain of the list, with the worker's own queue ids.
 */
const MESSAGE_POOL = DOMAINS.length;
interface Prepared {
  milter: ReturnType<typeof messageSteps>[][];
  policy: Buffer[][][];
}
function prepare(): Prepared {
  const each = <T>(make: (w: number, k: number) => T): T[][] =>
    Array.from({ length: CONCURRENCY }, (_, w) => Array.from({ length: MESSAGE_POOL }, (_, k) => make(w, k)));
  const request = (state: string, recipient: string, count: number, queueId: string): Buffer =>
    encodeRequest({
      protocol_state: state,
      protocol_name: 'ESMTP',
      client_address: '127.0.0.1',
      sender: SENDER,
      recipient,
      recipient_count: count,
      queue_id: queueId,
      size: 0,
    });
  return {
    milter: each((w, k) => messageSteps(recipients(k), `Q${w}x${k}`, SENDER)),
    // smtpd asks at each RCPT (no queue id yet) and at DATA with the accepted count (8 of 10).
    policy: each((w, k) => [...recipients(k).map((r) => request('RCPT', r, 0, '')), request('DATA', '', 8, `Q${w}x${k}`)]),
  };
}
let prepared: Prepared | undefined;

async function directPhase(e: Named, rtt: number[]): Promise<{ messages: number; seconds: number; cpu: number }> {
  const pool = (prepared ??= prepare());
  if (e.kind === 'milter') {
    const expected = e.floor || e.refusesNothing ? 0 : 2;
    const { result, cpu } = await measuredCpu(e, () =>
      runFor(PHASE_MS, CONCURRENCY, async (w, n) => {
        const refused = await runMessage(e.port, pool.milter[w]?.[n % MESSAGE_POOL] ?? [], rtt);
        if (refused !== expected) throw new Error(`${e.name}: ${refused} refusals instead of ${expected}`);
      }),
    );
    return { ...result, cpu };
  }
  const clients = await Promise.all(Array.from({ length: CONCURRENCY }, () => PolicyClient.connect(e.port)));
  try {
    const { result, cpu } = await measuredCpu(e, () =>
      runFor(PHASE_MS, CONCURRENCY, async (w, n) => {
        const refused = await (clients[w] as PolicyClient).runMessage(pool.policy[w]?.[n % MESSAGE_POOL] ?? [], rtt);
        if (refused !== 2) throw new Error(`${e.name}: ${refused} refusals instead of 2`);
      }),
    );
    return { ...result, cpu };
  } finally {
    for (const c of clients) c.close();
  }
}

/** BENCH_ROUNDS rounds; in each, every engine runs one phase, the order turning from round to round. */
async function direct(engines: Named[]): Promise<DirectResult[]> {
  const results = engines.map((e) => ({ engine: e.name, rates: [] as number[], cpuUs: [] as number[], genUs: [] as number[], rtt: [] as number[] }));
  // A warm-up phase each (JIT, preforked children, first files), not counted.
  for (const e of engines) await directRound(e, []);
  for (let round = 0; round < ROUNDS; round++) {
    const order = engines.map((_, i) => (i + round) % engines.length);
    for (const i of order) {
      const e = engines[i] as Named;
      const r = results[i] as DirectResult;
      const m = await directRound(e, r.rtt);
      r.rates.push(m.messages / m.seconds);
      r.cpuUs.push((m.cpu * 1e6) / m.messages);
      r.genUs.push((m.generator * 1e6) / m.messages);
    }
    process.stdout.write(
      `round ${round + 1}: ${order.map((i) => `${engines[i]?.name} ${fmt(results[i]?.rates.at(-1) ?? NaN)} msg/s`).join(', ')}; load ${loadAverage()}\n`,
    );
  }
  return results;
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
    const [, final] = await c.data(
      `From: <${SENDER}>\r\nSubject: bench ${n}\r\nDate: ${new Date().toUTCString()}\r\nMessage-ID: <${n}.${Math.random()}@bench>\r\nX-MSS-NIL: <bench/lps/1>\r\n\r\nhello\r\n`,
    );
    if (final.code !== 250) throw new Error(`DATA: ${final.code} ${final.text}`);
  } finally {
    await c.quit();
  }
}

async function throughPostfix(dir: string, milter: Named & { observe(): void }, postfwd: Named, takeMilter: () => Promise<number[]>): Promise<void> {
  const milterProxy = new TimingProxy(milter.port, { kind: 'milter', answered: `O${DECISION_CODES}` });
  const postfwdProxy = new TimingProxy(postfwd.port, { kind: 'policy' });
  const [mp, pp] = [await milterProxy.listen(), await postfwdProxy.listen()];
  const [milterSmtp, policySmtp] = [await freePort(), await freePort()];
  const policy = `check_policy_service inet:127.0.0.1:${pp}, permit_mynetworks, reject`;
  // The same SMTP dialogue on both listeners: AUTH PLAIN through Dovecot, no TLS (its cost
  // would be the same for both engines and only hide their difference).
  const dovecot = new DovecotInstance({
    dir: path.join(dir, 'dovecot'),
    authConfig: ['auth_mechanisms = plain', 'passdb {', '  driver = static', `  args = password=${PASSWORD}`, '}'].join('\n'),
  });
  const sasl = ['-o smtpd_sasl_auth_enable=yes', '-o smtpd_sasl_type=dovecot', `-o smtpd_sasl_path=${dovecot.authSocket}`];
  const postfix = new PostfixInstance({
    dir: path.join(dir, 'postfix'),
    myhostname: 'mx.bench.test',
    services: [
      submissionListener(milterSmtp, sasl, /^(smtpd_milters|milter_)/),
      [
        `127.0.0.1:${policySmtp} inet n - n - - smtpd`,
        '-o syslog_name=postfix/policy',
        ...sasl,
        '-o smtpd_recipient_restrictions=$bench_policy',
        '-o smtpd_data_restrictions=$bench_policy',
      ].join('\n  '),
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
    milter.observe();
    await Promise.all([smtpMessage(milterSmtp, 0), smtpMessage(policySmtp, 0)]);
    for (const [proc, port, proxy] of [
      [milter, milterSmtp, milterProxy],
      [postfwd, policySmtp, postfwdProxy],
    ] as const) {
      const engine = proc.name;
      proxy.latenciesNs.splice(0);
      if (proc.kind === 'milter') await takeMilter();
      const { result: r, cpu } = await measuredCpu(proc, () => runFor(PHASE_MS, CONCURRENCY, (_w, n) => smtpMessage(port, n)));
      rows.push({
        phase: '2 via Postfix',
        engine: `${engine} (timed at proxy)`,
        messages: r.messages,
        seconds: r.seconds,
        latency: summarise(proxy.latenciesNs),
        cpu,
        note: 'one SMTP session per message',
      });
      if (proc.kind === 'milter')
        rows.push({
          phase: '2 via Postfix',
          engine: 'milter (inside server)',
          messages: r.messages,
          seconds: r.seconds,
          latency: summarise(await takeMilter()),
        });
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
    fmt((r.messages * (DECISIONS[r.engine.startsWith('milter') ? 'milter' : 'postfwd'] ?? NaN)) / r.seconds),
    fmt(r.latency.p50us, 1),
    fmt(r.latency.p99us, 1),
    fmt(r.latency.maxUs, 0),
    r.cpu === undefined ? '' : fmt((r.cpu * 1e6) / r.messages, 0),
    r.note ?? '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  for (const l of [header, ...lines])
    process.stdout.write(`${l.map((c, i) => (i >= 2 && i <= 7 ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join('  ')}\n`);
}

function printDirect(results: DirectResult[]): void {
  process.stdout.write(
    `1 direct over ${UNIX ? 'unix sockets' : 'loopback TCP'}, ${ROUNDS} rounds of ${PHASE_MS / 1000} s (engines in turning order); load average ${loadAverage()}\n`,
  );
  for (const r of results) {
    const lat = summarise(r.rtt);
    process.stdout.write(
      `  ${r.engine.padEnd(22)} msg/s min ${fmt(Math.min(...r.rates)).padStart(6)} median ${fmt(median(r.rates)).padStart(6)}; CPU µs/msg min ${fmt(Math.min(...r.cpuUs)).padStart(5)} median ${fmt(median(r.cpuUs)).padStart(5)}; generator CPU µs/msg min ${fmt(Math.min(...r.genUs)).padStart(5)} median ${fmt(median(r.genUs)).padStart(5)}; client round trip p50 ${fmt(lat.p50us, 1)} µs p99 ${fmt(lat.p99us, 1)} µs\n`,
    );
  }
  const by = (name: string): DirectResult | undefined => results.find((r) => r.engine === name);
  const anchor = by('postfwd2');
  for (const r of results.filter((x) => x.engine.startsWith('milter'))) {
    if (!anchor) continue;
    const ratio = median(r.rates) / median(anchor.rates);
    const capacity = median(anchor.cpuUs) / median(r.cpuUs);
    process.stdout.write(
      `  ${r.engine}/postfwd2: message rate ${fmt(ratio, 2)}× (medians; min/min ${fmt(Math.min(...r.rates) / Math.min(...anchor.rates), 2)}×) — goal ≥ ${GOAL_RATIO}× ${ratio >= GOAL_RATIO ? 'met' : 'NOT met'}; messages per CPU-second ${fmt(capacity, 2)}×\n`,
    );
  }
  const floor = by(FLOOR_NAME);
  if (floor && anchor) {
    const perMessage = median(floor.cpuUs) + median(floor.genUs);
    process.stdout.write(
      `  ${FLOOR_NAME} — a ceiling, NOT a goal figure: ${fmt(median(floor.rates))} msg/s = ${fmt(median(floor.rates) / median(anchor.rates), 2)}× postfwd2's rate (medians; min/min ${fmt(Math.min(...floor.rates) / Math.min(...anchor.rates), 2)}×); floor + generator ${fmt(perMessage)} µs CPU per message, at most ${fmt((os.cpus().length * 1e6) / perMessage)} msg/s on ${os.cpus().length} cores, one floor process at most ${fmt(1e6 / median(floor.cpuUs))} msg/s\n`,
    );
  }
  if (floor)
    for (const r of results.filter((x) => x.engine !== FLOOR_NAME && !x.engine.startsWith('postfwd')))
      process.stdout.write(
        `  ${r.engine}: CPU per message ${fmt(median(r.cpuUs) / median(floor.cpuUs), 2)}× the floor's, ${fmt(median(r.cpuUs) - median(floor.cpuUs))} µs above it (medians of this run)\n`,
      );
  const p1 = by('postfwd1');
  const m1 = by('milter ×1');
  if (p1 && m1)
    process.stdout.write(
      `  milter ×1/postfwd1 (both one process): message rate ${fmt(median(m1.rates) / median(p1.rates), 2)}×, messages per CPU-second ${fmt(median(p1.cpuUs) / median(m1.cpuUs), 2)}×\n`,
    );
}

function verdict(): void {
  const rate = (engine: string): number => {
    const r = rows.find((x) => x.engine.startsWith(engine));
    return r ? r.messages / r.seconds : NaN;
  };
  process.stdout.write(
    `2 via Postfix: milter/postfwd2 message rate = ${fmt(rate('milter') / rate('postfwd2'), 2)}× (one Postfix for both: its smtpd processes, not the engines, set the pace)\n`,
  );
  const inside = rows.filter((r) => r.engine === 'milter (inside server)').map((r) => r.latency.p99us);
  const proxy = rows.find((r) => r.phase === '2 via Postfix' && r.engine.startsWith('milter'))?.latency.p99us ?? NaN;
  process.stdout.write(
    `milter p99 per decision: inside server ${inside.map((v) => fmt(v, 1)).join(' / ')} µs, at proxy under Postfix ${fmt(proxy, 1)} µs (target < 1000 µs)\n`,
  );
}

async function main(): Promise<void> {
  process.stdout.write(
    `milter benchmark (real submission rules): ${os.cpus().length} CPUs, Node ${process.version}, ${PHASE_MS / 1000} s per phase, ${CONCURRENCY} concurrent clients, 10 recipients/message (2 refused), ${DOMAINS.length} allowed domains\n`,
  );
  const missing = ['postfix', 'postfwd1', 'postfwd2', 'dovecot'].filter((b) => spawnSync('sh', ['-c', `command -v ${b}`]).status !== 0);
  if (missing.length > 0 || process.getuid?.() !== 0) {
    process.stdout.write(`skipping the benchmark: ${missing.length ? `missing ${missing.join(', ')}` : 'needs root'} (make system-deps)\n`);
    return;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mss-bench-'));
  fs.chmodSync(dir, 0o755);
  const stops: Array<() => Promise<void>> = [];
  try {
    const engines: Named[] = [];
    const sock = (name: string): string | undefined => (UNIX ? path.join(dir, `${name}.sock`) : undefined);
    // Started in this order, stopped in the reverse one.
    const start = async <E extends Named & { stop(): Promise<void> }>(key: string, make: () => Promise<E>): Promise<E | undefined> => {
      if (!ENGINES.has(key)) return undefined;
      const e = await make();
      stops.push(e.stop);
      engines.push(e);
      return e;
    };
    await start('milter1', async () => ({ ...(await startMilterProcess(1, sock('milter1'))), name: 'milter ×1', kind: 'milter' as const }));
    const many = await start('milterN', async () => ({
      ...(await startMilterProcess(MILTER_WORKERS, sock(`milter${MILTER_WORKERS}`))),
      name: `milter ×${MILTER_WORKERS}`,
      kind: 'milter' as const,
    }));
    const p2 = await start('postfwd2', async () => ({ ...(await startPostfwd(dir, 'postfwd2')), name: 'postfwd2', kind: 'postfwd' as const }));
    const p1 = await start('postfwd1', async () => ({ ...(await startPostfwd(dir, 'postfwd1')), name: 'postfwd1', kind: 'postfwd' as const }));
    await start('floor', async () => ({
      ...(await startMilterProcess(1, sock('floor'), 'milter-floor.js')),
      name: FLOOR_NAME,
      kind: 'milter' as const,
      floor: true,
    }));
    await start('frame', async () => ({
      ...(await startMilterProcess(1, sock('frame'), undefined, { handler: 'continue' })),
      name: 'frame (continue only)',
      kind: 'milter' as const,
      refusesNothing: true,
    }));
    if (BASE_DIST) {
      await start('milter1base', async () => ({
        ...(await startMilterProcess(1, sock('milter1base'), undefined, { dist: BASE_DIST })),
        name: 'milter ×1 base',
        kind: 'milter' as const,
      }));
      await start('framebase', async () => ({
        ...(await startMilterProcess(1, sock('framebase'), undefined, { handler: 'continue', dist: BASE_DIST })),
        name: 'frame base',
        kind: 'milter' as const,
        refusesNothing: true,
      }));
    }
    const results = await direct(engines);
    if (p1) {
      await p1.stop();
      stops.splice(stops.indexOf(p1.stop), 1);
    }
    const phase2 = many !== undefined && p2 !== undefined;
    if (phase2) await throughPostfix(dir, many, p2, many.take);
    printDirect(results);
    if (phase2) {
      print();
      verdict();
    }
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => {});
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

await main();
