// The bypass suite, logins (issue #12 items 4, 5, 7): every door by which an MSSanté mailbox
// could be opened without the sidecar's rules, tried on Dovecot as a Debian 12 server runs it
// once docs/install.md is followed — the packages' own configuration (PAM first in
// 10-auth.conf, dovecot-imapd's 993, dovecot-submissiond's 587) plus the shipped pieces, and
// a site password database that knows the MSSanté mailboxes with a password, as on a mail
// server that served them before. Each test names the door and fails if it were reopened.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import tls from 'node:tls';
import { after, before, test } from 'node:test';
import { LineConnection, xoauth2InitialResponse } from '../helpers/lps-clients.js';
import { freshLoopback, startLpsStack, type LpsStack } from '../helpers/lps-stack.js';
import { tmpDir } from '../helpers/tmp.js';

const HOLDER = '810000000001';
const PER = 'jean.dupond@ch-exemple.mssante.fr';
const ORG = 'secretariat@ch-exemple.mssante.fr';
const APP = 'dpi@ch-exemple.mssante.fr';
/** Not an MSSanté address: the site's own user, whose password stays valid. */
const INTRANET = 'intranet@ch-exemple.fr';
const SITE_PASSWORD = 'site-password-42';
const FAILED = 'NO [AUTHENTICATIONFAILED] Authentication failed';

const root = tmpDir('mss-perimeter-logins-');
let stack: LpsStack | undefined;
const st = (): LpsStack => stack as LpsStack;

before(async () => {
  stack = await startLpsStack(root, {
    debianDovecot: { sitePasswords: { [PER]: SITE_PASSWORD, [ORG]: SITE_PASSWORD, [APP]: SITE_PASSWORD, [INTRANET]: SITE_PASSWORD } },
  });
  st().access.add(PER, { type: 'PER', holder: HOLDER }).add(ORG, { type: 'ORG', responsible: HOLDER }).add(APP, { type: 'APP', structureId: '1130000001' });
});
after(async () => {
  await stack?.stop();
});

/** A session with the 143 front, after STARTTLS (the TLS socket for byte-level reading). */
async function frontTls(): Promise<{ c: LineConnection; secure: tls.TLSSocket }> {
  const c = await LineConnection.open(st().imapPort, { localAddress: freshLoopback() });
  await c.expect(/^\* OK/);
  c.send('A01 STARTTLS');
  await c.expect(/^A01 OK/);
  return { c, secure: await c.startTls({ rejectUnauthorized: false }) };
}

/** Through the 143 front: STARTTLS, then `command` as the LPS's first login attempt; the tagged answer. */
async function frontLogin(command: (tag: string) => string[]): Promise<string> {
  const { c } = await frontTls();
  try {
    const lines = command('a2');
    c.send(lines[0] as string);
    for (const more of lines.slice(1)) {
      await c.expect(/^\+/);
      c.send(more);
    }
    return (await c.expect(/^a2 /)).line;
  } finally {
    c.destroy();
  }
}

const plain = (user: string, password: string): string => Buffer.from(`\0${user}\0${password}`).toString('base64');
const LOGINS: Array<[string, (user: string) => (tag: string) => string[]]> = [
  ['LOGIN', (user) => (tag) => [`${tag} LOGIN "${user}" "${SITE_PASSWORD}"`]],
  ['AUTHENTICATE PLAIN (SASL-IR)', (user) => (tag) => [`${tag} AUTHENTICATE PLAIN ${plain(user, SITE_PASSWORD)}`]],
  ['AUTHENTICATE PLAIN (challenge)', (user) => (tag) => [`${tag} AUTHENTICATE PLAIN`, plain(user, SITE_PASSWORD)]],
];

test('EX_LPS_0600 EX_LPS_0900 EX_LPS_1200: on 143, LOGIN and AUTHENTICATE PLAIN with the site password are refused for PER, ORG and APP mailboxes (NO [AUTHENTICATIONFAILED] Authentication failed), and each refusal is traced (EX_GDT_5040)', async () => {
  const before = st().access.failures.length;
  for (const mailbox of [PER, ORG, APP]) {
    for (const [how, login] of LOGINS) assert.equal(await frontLogin(login(mailbox)), `a2 ${FAILED}`, `${how} ${mailbox}`);
  }
  const traced = st().access.failures.slice(before);
  assert.equal(traced.length, 9);
  assert.ok(
    traced.every((f) => f.authType === 'PASSWORD' && f.reason === 'password-mechanism' && f.service === 'imap'),
    JSON.stringify(traced),
  );
  assert.deepEqual([...new Set(traced.map((f) => f.mailbox))].sort(), [APP, ORG, PER].sort());
  assert.equal(st().access.logins.length, 0, 'no login recorded');
});

test("EX_LPS_0600: a password still opens a mailbox that is not an MSSanté one (the site's passdb decides, after the Lua passdb said NEXT)", async () => {
  for (const [how, login] of LOGINS) assert.match(await frontLogin(login(INTRANET)), /^a2 OK /, how);
  // And a wrong password for it is the site passdb's refusal, not ours.
  assert.equal(await frontLogin((tag) => [`${tag} LOGIN "${INTRANET}" "wrong"`]), `a2 ${FAILED}`);
});

test("EX_LPS_0900: the Lua passdb is the first passdb, before Debian's PAM and the site's passwd-file (doveconf -n)", () => {
  const conf = spawnSync('doveconf', ['-c', st().dovecot.configFile, '-n'], { encoding: 'utf8' });
  assert.equal(conf.status, 0, conf.stderr);
  const drivers = [...conf.stdout.matchAll(/^passdb \{\n(?:.*\n)*?\s+driver = (\S+)/gm)].map((m) => m[1]);
  assert.deepEqual(drivers, ['lua', 'pam', 'passwd-file']);
});

/** True when nothing accepts connections on 127.0.0.1:`port`. */
function closed(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(true));
  });
}

test("EX_LPS_1000 EX_LPS_0400: Dovecot's imap (143), imaps (993) and submission (587) listeners of the Debian packages are turned off: doveconf says port 0 and nothing listens there", async () => {
  const port = (setting: string): string => spawnSync('doveconf', ['-c', st().dovecot.configFile, '-h', setting], { encoding: 'utf8' }).stdout.trim();
  assert.equal(port('service/imap-login/inet_listener/imap/port'), '0');
  assert.equal(port('service/imap-login/inet_listener/imaps/port'), '0');
  assert.equal(port('service/submission-login/inet_listener/submission/port'), '0');
  assert.match(
    spawnSync('doveconf', ['-c', st().dovecot.configFile, '-h', 'protocols'], { encoding: 'utf8' }).stdout,
    /submission/,
    'dovecot-submissiond is installed and enabled: its listener is what must be closed',
  );
  for (const p of [143, 993, 587]) assert.ok(await closed(p), `something listens on 127.0.0.1:${p}`);
});

test('EX_LPS_0710 (§6.8.4.1): a refused AUTHENTICATE XOAUTH2 with an initial response is answered, byte for byte, `<tag> NO [AUTHENTICATIONFAILED] Authentication failed` and nothing else: no `+ eyJ…` challenge', async () => {
  const token = await st().psc.mint({ idNat: '810000000999' });
  const { c, secure } = await frontTls();
  try {
    // From here the raw bytes: everything the front sends after the command.
    const received: Buffer[] = [];
    secure.removeAllListeners('data');
    secure.on('data', (chunk: Buffer | string) => received.push(Buffer.from(chunk)));
    secure.write(`A01 AUTHENTICATE XOAUTH2 ${xoauth2InitialResponse(PER, token)}\r\n`);
    const deadline = Date.now() + 10_000;
    while (!Buffer.concat(received).includes('\r\n') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(Buffer.concat(received).toString('latin1'), `A01 ${FAILED}\r\n`);
  } finally {
    c.destroy();
  }
});

test("EX_LPS_1000 EX_LPS_0710: a valid PSC token sent straight to Dovecot's loopback listener, behind the front's back, is refused: only the front's one-time tickets open a session there", async () => {
  const token = await st().psc.mint({ idNat: HOLDER });
  const before = st().access.failures.length;
  const c = await LineConnection.open(st().dovecotLpsImapPort);
  try {
    // Any local process can write a PROXY header on loopback (haproxy_trusted_networks).
    c.send('PROXY TCP4 192.0.2.99 127.0.0.1 40000 143');
    await c.expect(/^\* OK/);
    c.send('d1 STARTTLS');
    await c.expect(/^d1 OK/);
    await c.startTls({ rejectUnauthorized: false });
    c.send(`d2 AUTHENTICATE XOAUTH2 ${xoauth2InitialResponse(PER, token)}`);
    let reply = (await c.expect(/^(d2 |\+ )/)).line;
    if (reply.startsWith('+ ')) {
      c.send('');
      reply = (await c.expect(/^d2 /)).line;
    }
    assert.match(reply, /^d2 NO \[AUTHENTICATIONFAILED\]/);
  } finally {
    c.destroy();
  }
  assert.deepEqual(
    st()
      .access.failures.slice(before)
      .map((f) => [f.mailbox, f.reason, f.remoteIp]),
    [[PER, 'front-only', '192.0.2.99']],
  );
  // The same token through the front logs in: the refusal was the door's, not the token's.
  const { c: c2 } = await frontTls();
  try {
    c2.send(`a2 AUTHENTICATE XOAUTH2 ${xoauth2InitialResponse(PER, token)}`);
    assert.match((await c2.expect(/^a2 /)).line, /^a2 OK /);
  } finally {
    c2.destroy();
  }
});

test("EX_LPS_1000 EX_LPS_0600 EX_LPS_0900: behind the submission front's back, on Postfix's loopback submission service (687 as shipped), a valid PSC token and the site password are both refused for an MSSanté mailbox", async () => {
  const token = await st().psc.mint({ idNat: HOLDER });
  const before = st().access.failures.length;
  const loginsBefore = st().access.logins.length;
  const c = await LineConnection.open(st().postfixSubmissionPort);
  try {
    // Any local process can write a PROXY header on loopback (smtpd_upstream_proxy_protocol).
    c.send('PROXY TCP4 192.0.2.98 127.0.0.1 40000 587');
    await c.expect(/^220 /);
    c.send('EHLO door.test');
    await c.expect(/^250 /);
    c.send('STARTTLS');
    await c.expect(/^220 /);
    await c.startTls({ rejectUnauthorized: false });
    c.send('EHLO door.test');
    await c.expect(/^250 /);
    c.send(`AUTH XOAUTH2 ${xoauth2InitialResponse(PER, token)}`);
    let reply = (await c.expect(/^\d{3} /, 20_000)).line;
    if (reply.startsWith('334 ')) {
      c.send('');
      reply = (await c.expect(/^\d{3} /, 20_000)).line;
    }
    assert.match(reply, /^535 /);
    c.send(`AUTH PLAIN ${plain(PER, SITE_PASSWORD)}`);
    assert.match((await c.expect(/^\d{3} /, 20_000)).line, /^535 /);
  } finally {
    c.destroy();
  }
  assert.deepEqual(
    st()
      .access.failures.slice(before)
      .map((f) => [f.mailbox, f.reason, f.remoteIp]),
    [
      [PER, 'front-only', '192.0.2.98'],
      [PER, 'password-mechanism', '192.0.2.98'],
    ],
  );
  assert.equal(st().access.logins.length, loginsBefore, 'no login recorded');
});
