// The bypass suite, mail (issue #12 items 1, 2, 3, 6, 8): every door by which a message could
// enter or leave an MSSanté operator without the sidecar's rules, tried on operators whose
// Postfix was configured by scripts/postfix-apply.sh itself, as docs/install.md says, and
// whose Dovecot is Debian's with the install steps — as an attacker on the same host would
// try them: the sendmail command, the outbound gate's LMTP socket and the inbound gate's way
// into Postfix as another Unix user, a site route around the gate. Each test names the door,
// asserts the refusal and its text, and fails if the door were reopened. Also the null sender
// through the outbound gate (a DSN our Postfix returns to another operator, delivered; to a
// domain outside the liste blanche, refused).
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { JournalEvent } from '../../src/journal/events.js';
import { debianDovecotLmtpSocket } from '../../sandbox/mta/dovecot-debian.js';
import { gateInSocketPath } from '../../sandbox/operator-mtas.js';
import { recentJournal } from '../../sandbox/lps-exchange.js';
import { SANDBOX_LOCALS } from '../../sandbox/gate-registry.js';
import { tracesDir } from '../../src/traces/config.js';
import { CLI, REPO_ROOT, cliEnv } from '../helpers/cli.js';
import { deliveredMatching, gateWorld, type TestWorld } from '../helpers/gates.js';
import { SmtpClient as GateClient } from '../../src/gate/smtp-client.js';
import { SmtpClient, message } from '../helpers/smtp-client.js';
import { tmpDir } from '../helpers/tmp.js';
import { strangerUid } from '../helpers/unix-user.js';
import { traceLines } from '../helpers/traces.js';

const A_DOMAIN = 'ch-sandbox-a.mssante.fr';
const B_DOMAIN = 'clinique-sandbox-b.mssante.fr';
const A = {
  person: `alice.martin@${A_DOMAIN}`,
  suspended: `${SANDBOX_LOCALS.suspended}@${A_DOMAIN}`,
  autoreply: `${SANDBOX_LOCALS.autoreply}@${A_DOMAIN}`,
  org: `${SANDBOX_LOCALS.org}@${A_DOMAIN}`,
};
const B = { person: `bruno.petit@${B_DOMAIN}`, test: `${SANDBOX_LOCALS.test}@${B_DOMAIN}` };

const execFileAsync = promisify(execFile);
let world: TestWorld;
const scratch = tmpDir('mss-perimeter-mail-');

before(async () => {
  world = await gateWorld({
    mta: 'real',
    mtaInstall: { postfixApply: true, debianDovecot: {} },
    // A's site cannot deliver to its secretariat (a mail store that is not there), and tries
    // once: A's Postfix accepts the message, then returns it to its sender with a DSN.
    postfixMain: (op) => (op.id === 'A' ? { transport_maps: `inline:{ {${A.org} = lmtp:unix:/nonexistent/lmtp} }`, maximal_queue_lifetime: '0' } : undefined),
    configure: (op, c) => {
      // What may be submitted on A's host without a login (EX_GBM_4020's auto-replies…).
      if (op.id === 'A') c.submission = { ...c.submission, localSenders: [A.autoreply, A.suspended] };
    },
  });
});
after(async () => {
  await world?.stop();
});

const a = () => world.node('A');
const aPostfix = () => a().postfix as NonNullable<ReturnType<typeof a>['postfix']>;

/** `sendmail -f sender rcpts` on A's host, the message on stdin, as root. */
function sendmail(sender: string, rcpts: string[], headers: Record<string, string>, body = 'bonjour'): void {
  const text = `${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}`)
    .join('\n')}\n\n${body}\n`;
  const r = spawnSync('sendmail', ['-C', aPostfix().configDir, '-f', sender || '<>', '--', ...rcpts], { input: text, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
}

/**
 * The milter's refusal of a message to `marker`, as A's Postfix bounced it (`5.7.1 text`):
 * refused there, it never reached a queue, nor the outbound gate.
 */
async function milterReply(marker: string): Promise<string> {
  const re = new RegExp(`: to=<${marker.replace(/[.+]/g, '\\$&')}>, relay=none, .*?dsn=(\\S+), status=bounced \\((.*)\\)$`, 'm');
  await aPostfix().waitFor((pf) => re.test(pf.maillog()), 20_000, `the milter's refusal of the message to ${marker}`);
  const m = re.exec(aPostfix().maillog());
  return `${m?.[1]} ${m?.[2]}`;
}

const journalOf = (id: string): Promise<JournalEvent[]> => recentJournal(world.node(id).config);

/** The journal events of `id` once one matches (the store is written just after the reply). */
async function eventually(id: string, match: (e: JournalEvent) => boolean, ms = 20_000): Promise<JournalEvent[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const events = await journalOf(id);
    if (events.some(match) || Date.now() > deadline) return events;
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('EX_LPS_0900 (sendmail/pickup): a sender that is not one of submission.localSenders is refused, naming the rule, and nothing leaves', async () => {
  const to = `case-local-${Date.now()}@${B_DOMAIN}`;
  sendmail(A.person, [to], { From: `<${A.person}>`, To: `<${to}>`, Subject: 'local, not allowed' });
  assert.equal(
    await milterReply(to),
    `5.7.1 Local submission refused: ${A.person} may not send from this host without logging in (not in submission.localSenders); MSSante mail is sent through the API LPS with a login`,
  );
});

test('RE_GBM_4420 EX_GBM_4420 (sendmail/pickup): `sendmail -f <suspended mailbox>` with a forged From: and 41 recipients of another operator is refused, nothing delivered, nothing sent by the outbound gate', async () => {
  const first = `case-suspended-${Date.now()}@${B_DOMAIN}`;
  const rcpts = [first, ...Array.from({ length: 40 }, (_, i) => `r${i}@${B_DOMAIN}`)];
  sendmail(A.suspended, rcpts, { From: `Direction <direction@${A_DOMAIN}>`, To: `<${first}>`, Subject: 'forged and too many' });
  assert.equal(await milterReply(first), `5.7.1 Mailbox ${A.suspended} is suspended: it cannot send messages (RE_GBM_4420)`);
  // An allowed, active sender: the 41 recipients are refused as a whole, permanently.
  // (Test mailboxes all, as the auto-reply mailbox may write to test mailboxes only.)
  const first41 = `case-41-test-${Date.now()}@${B_DOMAIN}`;
  sendmail(A.autoreply, [first41, ...Array.from({ length: 40 }, (_, i) => `t${i}-test@${B_DOMAIN}`)], { From: `<${A.autoreply}>`, Subject: 'forty-one' });
  assert.equal(await milterReply(first41), '5.5.3 Too many recipients: at most 40 per message (EX_GBM_4420); send to the others in another message');
  // The forged From: alone.
  const forged = `case-forged-test-${Date.now()}@${B_DOMAIN}`;
  sendmail(A.autoreply, [forged], { From: `<${A.person}>`, Subject: 'forged' });
  assert.equal(await milterReply(forged), `5.7.1 The From: header names ${A.person}, not the mailbox you logged in as (${A.autoreply})`);
  await new Promise((r) => setTimeout(r, 1000));
  const sent = (await journalOf('A')).filter((e) => e.type === 'delivery' && /^(case-|r\d+@|t\d+-test)/.test(e.recipient));
  assert.deepEqual(sent, [], 'the outbound gate sent none of them');
});

test('EX_3.2_5060 EX_GBM_4010 (sendmail/pickup): a recipient outside the liste blanche, and a test mailbox writing to a real one, refuse the whole message', async () => {
  const gmail = `case-gmail-${Date.now()}@gmail.com`;
  sendmail(A.autoreply, [gmail], { From: `<${A.autoreply}>`, Subject: 'to gmail' });
  assert.equal(await milterReply(gmail), `5.7.1 Not sent to ${gmail}: domain gmail.com is not in the MSSante trust space (liste blanche)`);
  sendmail(A.autoreply, [B.person], { From: `<${A.autoreply}>`, Subject: 'test to real' });
  assert.equal(await milterReply(B.person), `5.7.1 Not sent to ${B.person}: test mailbox ${A.autoreply} may only exchange with test mailboxes (EX_GBM_4010)`);
});

test("EX_GBM_4410 (sendmail/pickup): a message above submission.maxMessageBytes (10 MiB) that Postfix's own limit lets through is refused by the milter at its end, naming the rule", async () => {
  const to = `case-size-${Date.now()}-test@${B_DOMAIN}`;
  // 10 MiB of body plus headers: above the milter's 10485760, below message_size_limit
  // (10551296) once in Postfix's queue file, whose records add a few bytes per line: long lines.
  const line = `${'x'.repeat(998)}\n`;
  sendmail(A.autoreply, [to], { From: `<${A.autoreply}>`, Subject: 'too big' }, line.repeat(Math.ceil(10_490_000 / line.length)));
  assert.match(await milterReply(to), /^5\.3\.4 Message size \d+ bytes exceeds the limit of 10485760 bytes \(EX_GBM_4410\)$/);
});

test("EX_GBM_4020 EX_PSU_5830 EX_GDT_5050 (sendmail/pickup): an allowed local sender's auto-reply (null sender) leaves through the outbound gate with a `submitted` journal event, a trace, and the gate's delivery event under the same queue id", async () => {
  const subject = `auto-reply ${Date.now()}`;
  sendmail('', [B.test], { From: `Reponse automatique <${A.autoreply}>`, To: `<${B.test}>`, Subject: subject, 'Auto-Submitted': 'auto-replied' });
  await world.node('B').postfix?.waitFor(() => deliveredMatching(world, 'B', new RegExp(`Subject: ${subject}`)).length === 1, 30_000, 'the auto-reply in B');
  const events = await eventually('A', (e) => e.type === 'delivery' && e.recipient === B.test && e.sender === '');
  const submitted = events.find((e) => e.type === 'submitted' && e.recipients.includes(B.test) && e.sender === '' && e.login === A.autoreply);
  assert.ok(submitted && submitted.type === 'submitted', JSON.stringify(events.slice(-5)));
  assert.equal(submitted.authType, 'local');
  assert.ok(events.some((e) => e.type === 'delivery' && e.mailId === submitted.mailId && e.recipient === B.test && e.outcome === 'delivered'));
  const traces = traceLines(tracesDir(a().config.traces, a().config.state.dir));
  assert.ok(
    traces.some((t) => t.action === 'message.submit' && t.message?.id === submitted.mailId && t.response?.ok === true && t.means?.authType === 'local'),
  );
  assert.ok(traces.some((t) => t.action === 'message.send' && t.message?.id === submitted.mailId));
});

/**
 * Connect to a unix socket as `uid` (with `groups`), send `lines` after the greeting; what came
 * back, or `ERROR <code>`. Asynchronously: the gates run in this process and must answer.
 */
async function asUser(uid: number, groups: string[], socket: string, lines: string[]): Promise<string> {
  const script = path.join(scratch, 'door.mjs');
  fs.writeFileSync(
    script,
    `import net from 'node:net';
const s = net.connect(${JSON.stringify(socket)});
let out = '';
let sent = false;
s.on('connect', () => setTimeout(() => { s.destroy(); process.stdout.write(out); process.exit(0); }, 4000));
// The commands after the greeting, as a client must (an early talker is refused).
s.on('data', (d) => { out += d; if (!sent) { sent = true; s.write(${JSON.stringify(lines.map((l) => `${l}\r\n`).join(''))}); } });
s.on('error', (e) => { process.stdout.write('ERROR ' + e.code); process.exit(0); });
`,
    { mode: 0o644 },
  );
  const { stdout } = await execFileAsync(
    'setpriv',
    [`--reuid=${uid}`, `--regid=${uid}`, ...(groups.length ? [`--groups=${groups.join(',')}`] : ['--clear-groups']), process.execPath, script],
    { encoding: 'utf8', timeout: 20_000 },
  );
  return stdout;
}

test("EX_3.2_5060 EX_3.2_5040 (outbound gate's door): another Unix user cannot open the outbound gate's LMTP socket; Postfix's group can, and even then an unknown sender is refused by the gate itself", async () => {
  const socket = a().config.gates.out.listen.endpoint;
  assert.equal(socket.kind, 'unix', 'no TCP port: the shipped default');
  if (socket.kind !== 'unix') return;
  const uid = strangerUid();
  const lmtp = ['LHLO door.test', `MAIL FROM:<nobody@${A_DOMAIN}>`, `RCPT TO:<${B.person}>`, 'QUIT'];
  assert.equal(await asUser(uid, [], socket.path, lmtp), 'ERROR EACCES');
  // The same user in Postfix's group reaches it: the socket's mode and group are the door's lock.
  const postfixGroup = await asUser(uid, ['postfix'], socket.path, lmtp);
  assert.match(postfixGroup, /^220 /);
  assert.match(postfixGroup, new RegExp(`553 5\\.7\\.1 Sender nobody@${A_DOMAIN.replace(/\./g, '\\.')} is not an MSSante mailbox of this operator`));
  assert.equal(fs.statSync(socket.path).mode & 0o777, 0o660);
});

test("EX_3.1_5020 EX_3.1_5030 (inbound gate's way into Postfix): the smtpd behind the inbound gate is a unix socket another Unix user cannot open (XCLIENT from the gate only); the old 127.0.0.1:10025 listener is gone", async () => {
  const socket = gateInSocketPath(a().postfix ? path.dirname(a().postfix?.dir ?? '') : '');
  assert.equal(a().config.gates.in.postfix.path, socket);
  const uid = strangerUid();
  const smtp = ['EHLO door.test', 'XCLIENT ADDR=192.0.2.7 NAME=[UNAVAILABLE]', `MAIL FROM:<nobody@gmail.com>`, `RCPT TO:<${A.suspended}>`, 'QUIT'];
  assert.equal(await asUser(uid, [], socket, smtp), 'ERROR EACCES');
  // postdrop (public/'s group: the sidecar's service user) reaches it, and Postfix offers XCLIENT there.
  const gate = await asUser(uid, ['postdrop'], socket, ['EHLO door.test', 'QUIT']);
  assert.match(gate, /250-XCLIENT /);
  const inet = spawnSync('postconf', ['-c', aPostfix().configDir, '-M'], { encoding: 'utf8' }).stdout;
  assert.doesNotMatch(inet, /^127\.0\.0\.1:10025\s/m);
});

test("EX_3.1_5020 RE_GBM_4420 (Dovecot's LMTP, behind the gates): another Unix user cannot open Dovecot's LMTP socket to deliver into our mailboxes; Postfix's group can", async () => {
  // Debian's Dovecot makes base_dir/lmtp mode 0666; dovecot/conf.d/90-mss-lps.conf closes it.
  const socket = debianDovecotLmtpSocket(path.join(path.dirname(aPostfix().dir), 'dovecot'));
  const uid = strangerUid();
  const lmtp = ['LHLO door.test', 'MAIL FROM:<nobody@gmail.com>', `RCPT TO:<${A.suspended}>`, 'QUIT'];
  assert.equal(await asUser(uid, [], socket, lmtp), 'ERROR EACCES');
  // Postfix's lmtp client (group postfix) delivers there: the mode and group are the lock.
  assert.match(await asUser(uid, ['postfix'], socket, ['LHLO door.test', 'QUIT']), /^220 [^\r\n]*Dovecot[^\r\n]*\r\n250-/);
  const stat = fs.statSync(socket);
  assert.equal(stat.mode & 0o777, 0o660);
  assert.equal(stat.gid, Number(spawnSync('getent', ['group', 'postfix'], { encoding: 'utf8' }).stdout.split(':')[2]));
});

test('EX_3.2_5060 (null sender, item 8): a DSN our Postfix returns to another operator (MAIL FROM:<>) leaves through the outbound gate and is delivered; a null-sender message for a domain outside the liste blanche is refused by the gate', async () => {
  const subject = `to a full mailbox ${Date.now()}`;
  // B's user writes to A's secretariat; A's site delivers nothing there: A's Postfix bounces to B.
  const c = await SmtpClient.connect(world.node('B').ports.inject);
  assert.equal((await c.command('EHLO lps.clinique-sandbox-b.test')).code, 250);
  assert.equal((await c.command(`MAIL FROM:<${B.person}>`)).code, 250);
  assert.equal((await c.command(`RCPT TO:<${A.org}>`)).code, 250);
  const [, queued] = await c.data(message({ from: B.person, to: [A.org], subject }));
  assert.equal(queued.code, 250, queued.text);
  await c.quit();
  await world
    .node('B')
    .postfix?.waitFor(
      () => deliveredMatching(world, 'B', /Subject: Undelivered Mail Returned to Sender/).some((f) => fs.readFileSync(f, 'utf8').includes(subject)),
      30_000,
      "A's DSN in B's mailbox",
    );
  const isDsn = (e: JournalEvent): boolean => e.type === 'delivery' && e.sender === '' && e.recipient === B.person && e.outcome === 'delivered';
  const dsn = (await eventually('A', isDsn)).filter(isDsn);
  assert.ok(dsn.length >= 1, 'the outbound gate delivered the DSN');
  // Straight to the gate (as Postfix, root): the null sender to gmail.com.
  const endpoint = a().config.gates.out.listen.endpoint;
  if (endpoint.kind !== 'unix') throw new Error('unix socket expected');
  const lmtp = await GateClient.connect({ path: endpoint.path, connectTimeoutMs: 5000, commandTimeoutMs: 20_000 });
  try {
    await lmtp.ehlo('mx.test', 'LHLO');
    assert.equal((await lmtp.command('MAIL FROM:<>')).code, 250);
    const rcpt = await lmtp.command('RCPT TO:<postmaster@gmail.com>');
    assert.equal(
      `${rcpt.code} ${rcpt.enhanced} ${rcpt.text}`,
      '550 5.7.1 Not sent to postmaster@gmail.com: domain gmail.com is not in the MSSante trust space (liste blanche)',
    );
  } finally {
    await lmtp.quit();
  }
});

test('EX_3.2_5040 (a site route around the gate, item 6): postfix-apply.sh runs the routing check, which names a listed domain a site transport map sends elsewhere; on the configuration as installed, every route goes to the gate', () => {
  // The sidecar's configuration with the shipped socket (this sandbox's gate listens elsewhere):
  // what the script sets default_transport to is then the gate, as on a real installation.
  const shippedConfig = path.join(scratch, 'config.yaml');
  const gateSocket = a().config.gates.out.listen.path ?? '';
  fs.writeFileSync(shippedConfig, fs.readFileSync(a().configFile, 'utf8').replace(gateSocket, '/run/mss-sidecar/gate-out.sock'));
  const env = { ...process.env, MSS_SIDECAR: path.join(REPO_ROOT, 'bin', 'mss-sidecar'), MSS_SIDECAR_CONFIG: shippedConfig };
  const clean = spawnSync(process.execPath, [CLI, '--config', a().configFile, 'postfix', 'check-routes'], { encoding: 'utf8', env: cliEnv() });
  assert.equal(clean.status, 0, clean.stdout + clean.stderr);
  assert.match(clean.stdout, /^ok: the \d+ listed MSSanté domains not ours go to the outbound gate \(unix:.*gate-out\.sock\)/m);
  // The same Postfix with a site's transport map for B's domain, as a mixed site might add it.
  const etc = path.join(scratch, 'etc');
  fs.cpSync(aPostfix().configDir, etc, { recursive: true });
  assert.equal(spawnSync('postconf', ['-c', etc, '-e', `transport_maps = inline:{ {${B_DOMAIN} = smtp:[192.0.2.25]} }`]).status, 0);
  const r = spawnSync('bash', [path.join(REPO_ROOT, 'scripts', 'postfix-apply.sh'), '-c', etc], { encoding: 'utf8', env });
  assert.equal(r.status, 0, r.stderr);
  assert.match(
    r.stdout,
    new RegExp(
      `^AROUND THE GATE  ${B_DOMAIN.replace(/\./g, '\\.')}: smtp:\\[192\\.0\\.2\\.25\\] \\(transport_maps\\) for every sender, not the outbound gate$`,
      'm',
    ),
  );
  assert.match(r.stderr, /warning: the routing check above found MSSanté mail that would not leave through the outbound gate/);
  const cli = spawnSync(process.execPath, [CLI, '--config', shippedConfig, 'postfix', 'check-routes', '--postfix-config', etc, '--json'], {
    encoding: 'utf8',
    env: cliEnv(),
  });
  assert.equal(cli.status, 1);
  assert.deepEqual(
    (JSON.parse(cli.stdout) as { problems: Array<{ domain: string }> }).problems.map((p) => p.domain),
    [B_DOMAIN],
  );
  // `status` reports it too, critical, from the Postfix of gates.out.postfixConfigDir.
  const statusConfig = path.join(scratch, 'status.yaml');
  fs.writeFileSync(statusConfig, fs.readFileSync(shippedConfig, 'utf8').replace(aPostfix().configDir, etc));
  const status = spawnSync(process.execPath, [CLI, '--config', statusConfig, 'status'], { encoding: 'utf8', env: cliEnv() });
  assert.match(
    status.stdout,
    new RegExp(
      `^CRIT\\s+postfix\\.routes\\s+1 route\\(s\\) to listed MSSanté domains bypass the outbound gate \\(unix:/run/mss-sidecar/gate-out\\.sock\\): ${B_DOMAIN.replace(/\./g, '\\.')}: smtp:\\[192\\.0\\.2\\.25\\] \\(transport_maps\\)`,
      'm',
    ),
    status.stdout + status.stderr,
  );
  const installed = spawnSync(process.execPath, [CLI, '--config', a().configFile, 'status'], { encoding: 'utf8', env: cliEnv() });
  assert.match(
    installed.stdout,
    /^OK\s+postfix\.routes\s+the \d+ listed MSSanté domains not ours go to the outbound gate/m,
    installed.stdout + installed.stderr,
  );
});
