// TM5.4P: application mailboxes over IMAP and SMTP with an IGC-Santé ORG AUTH-CLI client
// certificate (EX_LPS_1100, EX_LPS_1200), through mss-sidecar's AUTH-CLI fronts to the real
// Dovecot and Postfix, with a test PKI shaped like IGC-Santé (chain, expiry, CRL).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { generateTestPki, type PkiManifest } from '../../sandbox/pki.js';
import { imapAuthCliLogin, LineConnection, smtpAuthCliLogin, type AuthCliLoginOptions } from '../helpers/lps-clients.js';
import { freshLoopback, startLpsStack, type LpsStack } from '../helpers/lps-stack.js';
import { tmpDir } from '../helpers/tmp.js';

const root = tmpDir('mss-authcli-');
let stack: LpsStack | undefined;
let pki: PkiManifest;
let ports: { imapPort: number; submissionPort: number };
const st = (): LpsStack => stack as LpsStack;

const APP_A = 'dpi@ch-sandbox-a.mssante.fr';
const APP_B = 'labo@clinique-sandbox-b.mssante.fr';
const APP_REVOKED = 'revoque@ch-sandbox-a.mssante.fr';
const APP_EXPIRED = 'expire@ch-sandbox-a.mssante.fr';
const PER = 'jean.dupond@ch-sandbox-a.mssante.fr';

const certOf = (c: { cert: string; key: string }): Pick<AuthCliLoginOptions, 'cert' | 'key'> => ({
  cert: fs.readFileSync(c.cert, 'utf8'),
  key: fs.readFileSync(c.key, 'utf8'),
});
const structureA = () => certOf(pki.authCli[0] as PkiManifest['authCli'][number]);
const structureB = () => certOf(pki.authCli[1] as PkiManifest['authCli'][number]);

before(async () => {
  [pki, stack] = await Promise.all([generateTestPki(path.join(root, 'pki')), startLpsStack(root)]);
  const a = pki.authCli[0]?.structureId ?? '';
  const b = pki.authCli[1]?.structureId ?? '';
  st()
    .access.add(APP_A, { type: 'APP', structureId: a })
    .add(APP_B, { type: 'APP', structureId: b })
    // The OUs of the sandbox PKI's revoked and expired certificates.
    .add(APP_REVOKED, { type: 'APP', structureId: '1330000000' })
    .add(APP_EXPIRED, { type: 'APP', structureId: '1690000000' })
    .add(PER, { type: 'PER', holder: '810000000001' });
  ports = await st().authCliFronts(pki, { idleSeconds: 900, maxSeconds: 14_400 });
});
after(async () => {
  await stack?.stop();
});

const imap = (user: string, opts: AuthCliLoginOptions) => imapAuthCliLogin(ports.imapPort, user, { localAddress: freshLoopback(), ...opts });
const smtp = (user: string, opts: AuthCliLoginOptions) => smtpAuthCliLogin(ports.submissionPort, user, { localAddress: freshLoopback(), ...opts });

describe('EX_LPS_1100 EX_LPS_1200: a structure opens its APP mailbox with its AUTH-CLI certificate', () => {
  test('EX_LPS_1100 EX_LPS_1200: IMAP with the right structure certificate logs in (AUTHENTICATE PLAIN), then works as a normal session, and the login is recorded as AUTH-CLI (EX_GDT_5060)', async () => {
    const before = st().access.logins.length;
    const r = await imap(APP_A, { ...structureA(), keepOpen: true });
    assert.equal(r.verdict, 'OK', r.line);
    assert.match(r.line, /^a3 OK \[CAPABILITY .*\] Logged in/);
    try {
      r.connection.send('s1 SELECT INBOX');
      assert.match((await r.connection.expect(/^s1 /)).line, /^s1 OK \[READ-WRITE\]/);
    } finally {
      r.connection.destroy();
    }
    const login = st().access.logins[before];
    assert.equal(login?.mailbox, APP_A);
    assert.equal(login?.authType, 'AUTH-CLI');
    assert.equal(login?.author, pki.authCli[0]?.structureId);
    assert.equal(login?.role, 'structure');
    assert.equal(login?.service, 'imap');
    assert.match(login?.certificate ?? '', /^CN=Authentification MSS,OU=1130099991,O=CENTRE HOSPITALIER SANDBOX A,/);
  });

  test('EX_LPS_1200: the IMAP LOGIN command works too, the login being the mailbox', async () => {
    const r = await imap(APP_A, { ...structureA(), loginCommand: true });
    assert.equal(r.verdict, 'OK', r.line);
  });

  test('EX_LPS_1100 EX_LPS_1200: SMTP with the right structure certificate logs in (AUTH PLAIN and AUTH LOGIN) and submits through the milter', async () => {
    const r = await smtp(APP_A, { ...structureA(), keepOpen: true });
    assert.equal(r.line, '235 2.7.0 Authentication successful');
    const c = r.connection;
    try {
      const seen = st().submissions.length;
      c.send(`MAIL FROM:<${APP_A}>`);
      assert.match((await c.expect(/^\d{3} /)).line, /^250 /);
      c.send('RCPT TO:<secretariat@ch-exemple.mssante.fr>');
      assert.match((await c.expect(/^\d{3} /)).line, /^250 /);
      c.send('DATA');
      assert.match((await c.expect(/^\d{3} /)).line, /^354 /);
      c.send(`From: <${APP_A}>\r\nSubject: AUTH-CLI\r\n\r\nbonjour\r\n.`);
      assert.match((await c.expect(/^\d{3} /)).line, /^250 /);
      assert.deepEqual(st().submissions.slice(seen), [{ authType: 'PLAIN', login: APP_A, sender: APP_A }]);
    } finally {
      c.destroy();
    }
    assert.equal((await smtp(APP_A, { ...structureA(), loginCommand: true })).verdict, 'OK');
  });

  test('EX_LPS_1200: capabilities offer PLAIN only after STARTTLS, and never XOAUTH2, on the AUTH-CLI entry points', async () => {
    const i = await imap(APP_A, structureA());
    assert.ok(!i.before.some((c) => c.startsWith('AUTH=')), i.before.join(' '));
    assert.ok(i.before.includes('STARTTLS'));
    assert.deepEqual(
      i.after.filter((c) => c.startsWith('AUTH=')),
      ['AUTH=PLAIN'],
    );
    const s = await smtp(APP_A, structureA());
    assert.ok(!s.before.some((k) => k.startsWith('AUTH')), s.before.join(' | '));
    assert.deepEqual(
      s.after.filter((k) => k.startsWith('AUTH')),
      ['AUTH PLAIN LOGIN'],
    );
  });
});

describe('EX_LPS_1200: what is refused', () => {
  test("EX_LPS_1200 EX_LPS_0710: another structure's certificate is refused with NO [AUTHENTICATIONFAILED] and 535 5.7.8 Authentication credentials invalid", async () => {
    const i = await imap(APP_A, structureB());
    assert.equal(i.line, 'a3 NO [AUTHENTICATIONFAILED] Authentication failed');
    const s = await smtp(APP_A, structureB());
    assert.equal(s.line, '535 5.7.8 Authentication credentials invalid');
    assert.equal((await imap(APP_B, structureB())).verdict, 'OK');
  });

  test('EX_LPS_1200 step 1: a revoked certificate is refused right after STARTTLS', async () => {
    const i = await imap(APP_REVOKED, certOf(pki.revoked));
    assert.equal(i.verdict, 'CLOSED');
    assert.match(i.line, /\* BYE \[AUTHENTICATIONFAILED\] Client certificate refused/);
    const s = await smtp(APP_REVOKED, certOf(pki.revoked));
    assert.equal(s.verdict, 'CLOSED');
    assert.match(s.line, /421 4\.7\.0 Client certificate refused/);
  });

  test('EX_LPS_1200 step 1: an expired certificate, no certificate, and a certificate outside the IGC-Santé store are refused', async () => {
    assert.equal((await imap(APP_EXPIRED, certOf(pki.expired))).verdict, 'CLOSED');
    assert.equal((await smtp(APP_EXPIRED, certOf(pki.expired))).verdict, 'CLOSED');
    assert.equal((await imap(APP_A, {})).verdict, 'CLOSED');
    assert.equal((await smtp(APP_A, {})).verdict, 'CLOSED');
    const foreign = certOf({ cert: st().cert.certFile, key: st().cert.keyFile });
    assert.equal((await imap(APP_A, foreign)).verdict, 'CLOSED');
  });

  test('EX_LPS_1200 step 5: a PER mailbox and an unknown mailbox cannot be opened with an AUTH-CLI certificate', async () => {
    assert.equal((await imap(PER, structureA())).line, 'a3 NO [AUTHENTICATIONFAILED] Authentication failed');
    assert.equal((await smtp('inconnu@ch-sandbox-a.mssante.fr', structureA())).line, '535 5.7.8 Authentication credentials invalid');
  });

  test('EX_LPS_1200: AUTHENTICATE before STARTTLS is refused, and PLAIN with a password or a forged ticket on the PSC entry point gets nowhere', async () => {
    const c = await LineConnection.open(ports.imapPort, { localAddress: freshLoopback() });
    try {
      await c.expect(/^\* OK/);
      c.send(`p1 AUTHENTICATE PLAIN ${Buffer.from(`\0${APP_A}\0x`).toString('base64')}`);
      assert.match((await c.expect(/^p1 /)).line, /^p1 NO \[PRIVACYREQUIRED\]/);
    } finally {
      c.destroy();
    }
    // Straight to Dovecot's LPS listener through the PSC front: PLAIN is for the AUTH-CLI front's tickets only.
    for (const password of ['secret', 'mssac1.forged-ticket']) {
      const d = await LineConnection.open(st().imapPort, { localAddress: freshLoopback() });
      try {
        await d.expect(/^\* OK/);
        d.send('t STARTTLS');
        await d.expect(/^t OK/);
        await d.startTls();
        d.send(`p2 AUTHENTICATE PLAIN ${Buffer.from(`\0${APP_A}\0${password}`).toString('base64')}`);
        assert.match((await d.expect(/^p2 /)).line, /^p2 NO /, password);
      } finally {
        d.destroy();
      }
    }
  });

  test('EX_LPS_1000: the AUTH-CLI entry points close a silent session at the idle limit', async () => {
    const short = await st().authCliFronts(pki, { idleSeconds: 2, maxSeconds: 30 });
    const r = await imapAuthCliLogin(short.imapPort, APP_A, { ...structureA(), keepOpen: true, localAddress: freshLoopback() });
    assert.equal(r.verdict, 'OK', r.line);
    const quietSince = r.connection.lastSentAt;
    assert.ok(await r.connection.waitClosed(6000), 'still open');
    const quiet = (r.connection.closedAt ?? 0) - quietSince;
    assert.ok(quiet >= 1950 && quiet < 4500, `closed after ${quiet} ms`);
  });
});
