// Redis stops while mail flows: operator A's daemon (the 587 front, the milter and the gates,
// in front of a real Postfix and Dovecot) keeps its journal events and logins in the local
// spool, says so on /health and in `status`, and replays them in order once Redis is back;
// the month's statistics then hold every message once (EX_PSU_5830) and the logins made
// during the outage (EX_PSU_5840).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { JournalEvent } from '../../src/journal/events.js';
import { recentJournal } from '../../sandbox/lps-exchange.js';
import { RuntimeFields } from '../../src/registry/runtime.js';
import { lpsSend, waitForMail } from '../../sandbox/lps-exchange.js';
import { SandboxPsc } from '../../sandbox/psc/sandbox-psc.js';
import { RedisStore } from '../../src/store/redis.js';
import { readNodeStats, spoolRoot } from '../../src/store/spool.js';
import { runCommand } from '../../src/util/run-command.js';
import { traceLines } from '../../src/traces/read.js';
import { tracesDir } from '../../src/traces/config.js';
import { storedSha256, whitelistPaths, writeRecord } from '../../src/whitelist/store.js';
import { REPO_ROOT, runCliAsync } from '../helpers/cli.js';
import { gateWorld, type TestWorld } from '../helpers/gates.js';
import { freshLoopback } from '../helpers/lps-stack.js';
import { testPki } from '../helpers/pki.js';
import { freePorts } from '../helpers/ports.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { tmpDir } from '../helpers/tmp.js';
import { duplicateKeyLines } from '../helpers/log.js';
import { createLogger } from '../../src/log.js';
import { Writable } from 'node:stream';

const BEFORE = 3;
const DURING = 5;

let psc: SandboxPsc;
let world: TestWorld;
/** Every line the daemons logged (JSON, as journald receives them). */
const logLines: string[] = [];
let redis: RedisServer;
let redisDir: string;
let metricsPort: number;

let testPkiCas: string[];

before(async () => {
  redisDir = tmpDir('mss-redis-');
  redis = await startRedis(5000, { dir: redisDir });
  [metricsPort] = (await freePorts(1)) as [number];
  const pki = await testPki();
  testPkiCas = [pki.root.cert, pki.intermediate.cert];
  psc = new SandboxPsc({
    tls: { cert: fs.readFileSync(pki.https.cert, 'utf8') + fs.readFileSync(pki.intermediate.cert, 'utf8'), key: fs.readFileSync(pki.https.key, 'utf8') },
  });
  await psc.start();
  world = await gateWorld({
    mta: 'real',
    log: createLogger({
      level: 'info',
      pretty: false,
      destination: new Writable({ write: (chunk: Buffer, _e, done) => (logLines.push(...chunk.toString().split('\n').filter(Boolean)), done()) }),
    }),
    psc: { issuer: psc.issuer, ca: pki.root.cert },
    configure: (op, c) => {
      if (op.id !== 'A') return;
      c.state = { ...c.state, redis: { url: redis.url, keyPrefix: 'outage-a:', replayIntervalMs: 300 } };
      // The outage is what this file checks, not Redis's speed on a loaded machine: a PING slower
      // than the default 100 ms would make the store check WARN before Redis is stopped.
      c.health = { ...c.health, storeLatencyWarnMs: 10_000, metrics: { enabled: true, listen: { host: '127.0.0.1', port: metricsPort }, cacheMs: 50 } };
    },
  });
  // The node holds the sandbox list; record it as `whitelist sync` would, so that /health
  // is about the store only.
  const paths = whitelistPaths(world.node('A').config.state.dir);
  const now = new Date().toISOString();
  await writeRecord(paths, {
    url: 'https://sandbox.invalid/list.xml',
    sha256: storedSha256(paths) ?? '',
    bytes: fs.statSync(paths.file).size,
    generated: now,
    domains: 1,
    dns: 1,
    signer: 'sandbox',
    storedAt: now,
    confirmedAt: now,
  });
});
after(async () => {
  await world?.stop();
  await redis?.stop();
  await psc?.stop();
});

/** An LPS of A logs in on A's 587 front with a PSC token and sends to B, `count` times. */
async function sendPhase(phase: string, count: number): Promise<void> {
  const [a, b] = [world.node('A'), world.node('B')];
  for (let i = 0; i < count; i++) {
    const subject = `outage ${phase} ${i} ${Date.now()}`;
    const sent = await lpsSend(
      a.ports.submission,
      a.mailboxes.person,
      await psc.mint({ idNat: a.mailboxes.holder }),
      [b.mailboxes.person],
      subject,
      freshLoopback(),
    );
    assert.match(sent.login, /^235 /, `${phase} ${i}: login`);
    assert.deepEqual(
      sent.sent?.rcpt.map((r) => r.slice(0, 3)),
      ['250'],
      `${phase} ${i}: ${JSON.stringify(sent.sent)}`,
    );
    assert.equal((await waitForMail(b.mailDir, subject, 30_000)).length, 1, `${phase} ${i}: delivered in B`);
  }
}

function get(p: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port: metricsPort, path: p }, (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve(text));
      })
      .on('error', reject);
  });
}

/** The value of one series of a Prometheus text exposition. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

function health(): Promise<{ status: number; body: { worst: string; checks: Array<{ check: string; severity: string; detail: string; value?: number }> } }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port: metricsPort, path: '/health' }, (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
      })
      .on('error', reject);
  });
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test("EX_PSU_5830 EX_PSU_5840: Redis stopped during traffic: events and logins spool to disk, /health and `status` say WARN with the spool size, and after Redis returns every message is in the month's Echanges once and the last login is the outage's", async (t) => {
  const a = world.node('A');
  const spoolRootDir = spoolRoot(a.config);
  await sendPhase('before', BEFORE);
  assert.equal((await health()).body.checks.find((c) => c.check === 'store')?.severity, 'ok');

  await redis.stop();
  const outageStart = Date.now();
  await sendPhase('during', DURING);
  // Per message: the login, the submitted event (milter), the delivery event (outbound gate).
  const waiting = await until('the outage writes in the spool', async () => {
    const n = readNodeStats(spoolRootDir).operations;
    return n >= 3 * DURING ? n : undefined;
  });
  const h = await health();
  assert.equal(h.status, 200, `degraded, not down: /health stays 200: ${JSON.stringify(h.body.checks.filter((c) => c.severity === 'critical'))}`);
  const spool = h.body.checks.find((c) => c.check === 'store.spool');
  assert.equal(spool?.severity, 'warning');
  assert.equal(spool?.value, waiting);
  assert.match(spool?.detail ?? '', new RegExp(`^${waiting} journal event\\(s\\) and login\\(s\\) wait in the local spool since`));
  assert.equal(h.body.checks.find((c) => c.check === 'store')?.severity, 'warning');
  const status = await runCliAsync(['--config', a.configFile, 'status', '--user', 'root']);
  assert.match(status.stdout, new RegExp(`WARN\\s+store\\.spool\\s+${waiting} journal event`));
  assert.match(status.stdout, /WARN\s+store\s+Redis .* does not answer/);
  const lastOutageLogin = traceLines(tracesDir(a.config.traces, a.config.state.dir))
    .filter((t) => t.action === 'login' && t.bal === a.mailboxes.person && Date.parse(t.at) >= outageStart)
    .map((t) => Date.parse(t.request?.at))
    .sort()
    .pop();
  assert.ok(lastOutageLogin, 'the logins of the outage are traced (local files, not Redis)');

  const restarted = Date.now();
  redis = await startRedis(5000, { port: redis.port, dir: redisDir });
  const replayedIn = await until('the spool to empty', async () => (readNodeStats(spoolRootDir).operations === 0 ? Date.now() - restarted : undefined));
  await until('/health to be ok again', async () =>
    (await health()).body.checks.find((c) => c.check === 'store.spool')?.severity === 'ok' ? true : undefined,
  );
  t.diagnostic(`outage of ${restarted - outageStart} ms: ${waiting} spooled writes replayed within ${replayedIn} ms of Redis restarting`);
  assert.ok(
    logLines.some((l) => /"msg":"state store unreachable: journal events and logins are kept in the local spool/.test(l)),
    'the outage is logged',
  );
  assert.ok(
    logLines.some((l) => new RegExp(`"replayed":${waiting},.*"msg":"state store back: spooled writes replayed in order"`).test(l)),
    'and its end, with the count',
  );

  // Every message once in the journal and in the month's Echanges; the outage's login is the last one.
  const journal: JournalEvent[] = await recentJournal(a.config);
  const submitted = journal.filter((e) => e.type === 'submitted' && e.sender === a.mailboxes.person);
  const delivered = journal.filter((e) => e.type === 'delivery' && e.outcome === 'delivered');
  assert.equal(submitted.length, BEFORE + DURING, `submitted events: ${submitted.length}`);
  assert.equal(new Set(submitted.map((e) => e.mailId)).size, submitted.length, 'no event twice');
  assert.equal(delivered.length, BEFORE + DURING, `delivery events: ${delivered.length}`);
  const store = new RedisStore({ url: redis.url, keyPrefix: 'outage-a:' });
  try {
    assert.equal(
      (await new RuntimeFields(store).get(a.mailboxes.person)).lastLogin?.getTime(),
      lastOutageLogin,
      'the last login, made during the outage, reached Redis',
    );
  } finally {
    await store.close();
  }
  const month = new Date().toISOString().slice(0, 7);
  const out = tmpDir('mss-outage-stats-');
  const built = await runCliAsync(['--config', a.configFile, 'stats', 'build', '--month', month, '--out', out, '--json']);
  assert.equal(built.status, 0, built.stdout + built.stderr);
  const lines = fs
    .readdirSync(out, { recursive: true, encoding: 'utf8' })
    .filter((f) => /EchangesMSSante_.*\.csv$/.test(f))
    .flatMap((f) => fs.readFileSync(path.join(out, f), 'utf8').split(/\r?\n/))
    .filter((l) => l.includes(world.node('B').mailboxes.person));
  assert.equal(lines.length, BEFORE + DURING, lines.join('\n'));
  assert.deepEqual(new Set(lines.map((l) => l.split(';')[0])), new Set(submitted.map((e) => e.mailId)));

  // EX_SSI_5120: what a NOC graphs, counted from the same traffic.
  const metrics = await get('/metrics');
  const n = BEFORE + DURING;
  assert.equal(sample(metrics, 'mss_messages_total{service="submission",outcome="accepted"}'), n, 'messages accepted by the milter');
  assert.equal(sample(metrics, 'mss_messages_total{service="gate-out",outcome="delivered"}'), n, 'recipients delivered by the outbound gate');
  assert.equal(
    sample(metrics, 'mss_logins_total{method="PSC/XOAUTH2",result="ok"}'),
    n,
    metrics
      .split('\n')
      .filter((l) => l.startsWith('mss_logins'))
      .join('\n'),
  );
  assert.equal(sample(metrics, 'mss_gate_duration_seconds_count{gate="out"}'), n);
  assert.ok((sample(metrics, 'mss_psc_request_duration_seconds_count{endpoint="userinfo",outcome="ok"}') ?? 0) >= 1, 'PSC UserInfo calls timed');
  assert.ok((sample(metrics, 'mss_store_errors_total{backend="redis"}') ?? 0) >= 1, 'the outage shows as store errors');
  assert.equal(sample(metrics, 'mss_spool_replayed_total'), waiting);
  assert.equal(sample(metrics, 'mss_spool_operations'), 0);
  assert.equal(sample(metrics, 'mss_store_up{backend="redis"}'), 1);
});

test('the JSON log lines of a whole run (gates, milter, fronts, checker, spool, through an outage) carry each key once', () => {
  assert.ok(logLines.length > 30, `${logLines.length} lines`);
  assert.deepEqual(duplicateKeyLines(logLines), []);
});

/** The curl commands of docs/install.md step 11, run against operator A's fronts. */
test("EX_LPS_0900: docs/install.md's curl commands log in with XOAUTH2 and a PSC token, list the mailbox over IMAP and send over submission", async () => {
  const a = world.node('A');
  const install = fs.readFileSync(path.join(REPO_ROOT, 'docs', 'install.md'), 'utf8');
  const lines = install.split('\n').filter((l) => /^(curl|printf) .*(oauth2-bearer|essai)/.test(l));
  assert.equal(lines.length, 3, lines.join('\n'));
  const dir = tmpDir('mss-curl-');
  const token = await psc.mint({ idNat: a.mailboxes.holder });
  // The sandbox's certificate chain: its root and the intermediate that issued the front's.
  const ca = path.join(dir, 'ca.pem');
  fs.writeFileSync(ca, testPkiCas.map((f) => fs.readFileSync(f, 'utf8')).join(''));
  // The documented lines with this node's mailbox, entry points and a CA for the sandbox's certificate.
  const script = lines
    .map((l) =>
      l
        .replaceAll('jean.dupont@ch-exemple.mssante.fr', a.mailboxes.person)
        .replace('imap://imap.ch-exemple.fr/', `imap://localhost:${a.config.auth?.front.imap.listen.port}/ --cacert ${ca}`)
        .replace('smtp://smtp.ch-exemple.fr:587/', `smtp://localhost:${a.config.auth?.front.submission.listen.port}/ --cacert ${ca}`)
        .replaceAll('/tmp/essai.eml', path.join(dir, 'essai.eml'))
        .replace(/^curl /, 'curl -sS --max-time 30 '),
    )
    .join(' && ');
  // Asynchronously: the fronts answering curl run in this process.
  const r = await runCommand(['sh', '-c', `TOKEN='${token}'; ${script}`], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, `${script}\n${r.stdout}${r.stderr}`);
  assert.match(r.stdout, /LIST \(.*\) "[./]" "?INBOX"?/, 'the IMAP folder list');
  assert.equal((await waitForMail(a.mailDir, 'Subject: essai', 30_000)).length, 1, 'the message sent over submission was delivered');
});
