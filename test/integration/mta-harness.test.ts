// The real-peer harness every integration test builds on: private Postfix and Dovecot
// instances on loopback, started and stopped by PID.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { DovecotInstance } from '../../sandbox/mta/dovecot-instance.js';
import { PostfixInstance } from '../../sandbox/mta/postfix-instance.js';
import { freePorts } from '../helpers/ports.js';
import { spawnTracked, waitForOutput } from '../helpers/processes.js';
import { isProcessAlive, waitForExit } from '../../src/util/process-group.js';
import { SmtpClient, message } from '../helpers/smtp-client.js';
import { tmpDir } from '../helpers/tmp.js';

const started: Array<{ stop(): Promise<void> }> = [];
after(async () => {
  for (const s of started.reverse()) await s.stop();
});

test('two Postfix instances relay a message from one to the other on loopback', async () => {
  const root = tmpDir();
  const [portA, portB] = await freePorts(2);
  const b = new PostfixInstance({
    dir: path.join(root, 'b'),
    myhostname: 'mx.b.test',
    services: [`127.0.0.1:${portB} inet n - n - - smtpd`],
    virtualDomains: ['b.mssante.fr'],
  });
  const a = new PostfixInstance({
    dir: path.join(root, 'a'),
    myhostname: 'mx.a.test',
    services: [`127.0.0.1:${portA} inet n - n - - smtpd`],
    main: { relayhost: `[127.0.0.1]:${portB}`, smtp_tls_security_level: 'none' },
  });
  started.push(b, a);
  await Promise.all([a.start(), b.start()]);

  // Refused here once in a full run under load (ECONNREFUSED right after both started; not
  // reproduced in 12 runs): say what A was doing then, so that the next one explains itself.
  const client = await SmtpClient.connect(portA).catch((err: Error) => {
    const pid = a.masterPid();
    const alive = pid !== undefined && isProcessAlive(pid);
    throw new Error(`${err.message}: A's master ${pid ?? '(no pid file)'} ${alive ? 'alive' : 'gone'}; A's maillog:\n${a.maillog().slice(-3000)}`);
  });
  assert.equal(client.greeting.code, 220);
  assert.equal((await client.command('EHLO client.test')).code, 250);
  assert.equal((await client.command('MAIL FROM:<alice@a.mssante.fr>')).code, 250);
  assert.equal((await client.command('RCPT TO:<bob@b.mssante.fr>')).code, 250);
  const [, final] = await client.data(message({ from: 'alice@a.mssante.fr', to: ['bob@b.mssante.fr'], subject: 'relay' }));
  assert.equal(final.code, 250);
  assert.match(final.text, /queued as [0-9A-F]+/);
  await client.quit();

  await b.waitFor((pf) => pf.delivered().length === 1, 15_000, 'delivery on B');
  const delivered = fs.readFileSync(b.delivered()[0] ?? '', 'utf8');
  assert.match(delivered, /Subject: relay/);
  assert.deepEqual(a.queue(), []);

  await a.stop();
  assert.equal(a.running, false);
});

test('Dovecot delivers over LMTP and serves the message over IMAP after STARTTLS', async () => {
  const root = tmpDir();
  const [imapPort, lmtpPort] = await freePorts(2);
  const key = path.join(root, 'k.pem');
  const crt = path.join(root, 'c.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', crt, '-days', '1', '-subj', '/CN=localhost'], {
    stdio: 'ignore',
  });
  const dovecot = new DovecotInstance({ dir: path.join(root, 'dovecot'), imapPort, lmtpPort, tlsCert: crt, tlsKey: key });
  started.push(dovecot);
  await dovecot.start();

  const lmtp = await SmtpClient.connect(lmtpPort);
  assert.equal((await lmtp.command('LHLO test')).code, 250);
  assert.equal((await lmtp.command('MAIL FROM:<alice@a.mssante.fr>')).code, 250);
  assert.equal((await lmtp.command('RCPT TO:<bob@b.mssante.fr>')).code, 250);
  const [, final] = await lmtp.data(message({ from: 'alice@a.mssante.fr', to: ['bob@b.mssante.fr'], subject: 'lmtp' }));
  assert.equal(final.code, 250);
  await lmtp.quit();
  assert.equal(dovecot.delivered('bob@b.mssante.fr').length, 1);
  assert.ok(fs.existsSync(dovecot.authSocket));
  await dovecot.stop();
});

test('a Postfix left running by a killed owner is stopped when the next instance starts', async () => {
  const root = tmpDir();
  const [port] = await freePorts(1);
  const script = path.join(root, 'owner.mjs');
  const module = new URL('../../sandbox/mta/postfix-instance.js', import.meta.url).href;
  fs.writeFileSync(
    script,
    `import { PostfixInstance } from '${module}';
const pf = new PostfixInstance({ dir: ${JSON.stringify(path.join(root, 'orphan'))}, myhostname: 'mx.orphan.test', services: ['127.0.0.1:${port} inet n - n - - smtpd'] });
await pf.start();
process.stdout.write(String(pf.masterPid()) + '\\n');
setInterval(() => {}, 1000);
`,
  );
  const owner = spawnTracked(process.execPath, [script]);
  await waitForOutput(owner, (out) => /^\d+\n/m.test(out), 20_000);
  const masterPid = Number(owner.output().trim());
  owner.child.kill('SIGKILL'); // no exit handler runs: Postfix's master (setsid) survives
  await waitForExit(owner.child, 5000);
  assert.doesNotThrow(() => process.kill(masterPid, 0), 'the orphan master is still running');

  const next = new PostfixInstance({ dir: path.join(root, 'next'), myhostname: 'mx.next.test' });
  started.push(next);
  await next.start();
  await new Promise((r) => setTimeout(r, 200));
  assert.throws(() => process.kill(masterPid, 0), 'the orphan master was stopped');
});

// The relay test above was refused once under load (A's listener gone right after start), and
// gates-e2e once mid-file: a Postfix master vanishing. The harness could kill another test's
// processes: it signalled the PID in master.pid whether or not that process was still its master,
// and PIDs come round again within minutes here (pid_max 32768, ~90 new processes a second with
// several suites running). A master is signalled only when /proc says it is this instance's.
test("stopping or killing an instance never signals the process that now holds its old master's PID", async () => {
  const root = tmpDir();
  const pf = new PostfixInstance({ dir: path.join(root, 'stale'), myhostname: 'mx.stale.test' });
  pf.writeConfig();
  // Another process has the number master.pid names (the master exited long ago).
  const bystander = spawnTracked('sleep', ['60']);
  fs.mkdirSync(path.join(pf.dir, 'queue', 'pid'), { recursive: true });
  fs.writeFileSync(path.join(pf.dir, 'queue', 'pid', 'master.pid'), `${bystander.child.pid}\n`);
  pf.kill();
  await new Promise((r) => setTimeout(r, 200));
  assert.ok(isProcessAlive(bystander.child.pid ?? 0), 'the process holding the old PID was killed');
  await bystander.stop();
});
