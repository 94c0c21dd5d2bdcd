// AUTH-CLI pieces on their own: the client certificate check against a test IGC-Santé PKI
// (EX_LPS_1200 steps 1 and 4), the login parsers (step 3), the one-time tickets between the
// front and the checker, and the capability rewriting of the front.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { ClientCertVerifier } from '../../src/auth/authcli/client-cert.js';
import { imapArguments, plainLogin, plainResponse } from '../../src/auth/authcli/credentials.js';
import { rewriteImapCapabilities } from '../../src/auth/authcli/imap-session.js';
import { rewriteEhlo } from '../../src/auth/front/smtp-session.js';
import { LoginRouter } from '../../src/auth/login-router.js';
import { TicketChecker } from '../../src/auth/ticket-checker.js';
import { TicketBook, type TicketLogin } from '../../src/auth/tickets.js';
import { generateTestPki, type PkiManifest } from '../../sandbox/pki.js';
import { captureLogger } from '../helpers/log.js';
import { MemoryMailboxAccess } from '../helpers/mailbox-access.js';
import { tmpDir } from '../helpers/tmp.js';

const x509 = (file: string): X509Certificate => new X509Certificate(fs.readFileSync(file));

describe('EX_LPS_1200 steps 1 and 4: the client certificate', () => {
  let pki: PkiManifest;
  let verifier: ClientCertVerifier;
  before(async () => {
    pki = await generateTestPki(path.join(tmpDir(), 'pki'));
    verifier = await ClientCertVerifier.fromDirs(pki.trustDir, pki.crlDir, captureLogger().log);
  });

  test('EX_LPS_1200: an AUTH-CLI certificate of the store gives its structure IdNat (the OU) and subject', () => {
    const cli = pki.authCli[0] as PkiManifest['authCli'][number];
    assert.deepEqual(verifier.verify(x509(cli.cert)), { ok: true, structureId: cli.structureId, subject: cli.subject });
  });

  test('EX_LPS_1200 step 1: revoked, expired, foreign and missing certificates are refused, each for its reason', async () => {
    const reason = (c: X509Certificate | undefined) => {
      const r = verifier.verify(c);
      return r.ok ? 'accepted' : r.reason;
    };
    assert.equal(reason(x509(pki.revoked.cert)), 'revoked');
    assert.equal(reason(x509(pki.expired.cert)), 'expired');
    assert.equal(reason(undefined), 'no-certificate');
    // The store's own CA is not an end-entity certificate; a self-signed one is not from the store.
    assert.equal(reason(x509(pki.root.cert)), 'untrusted');
    const dir = tmpDir();
    const { execFileSync } = await import('node:child_process');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        path.join(dir, 'k'),
        '-out',
        path.join(dir, 'c'),
        '-days',
        '2',
        '-subj',
        '/CN=Authentification MSS/OU=1130099991/O=X/C=FR',
      ],
      { stdio: 'ignore' },
    );
    assert.equal(reason(x509(path.join(dir, 'c'))), 'untrusted');
  });

  test('EX_LPS_1200 step 1: without a current CRL of the issuer, revocation cannot be checked and the certificate is refused', async () => {
    const noCrl = await ClientCertVerifier.fromDirs(pki.trustDir, path.join(tmpDir(), 'no-crls'), captureLogger().log);
    const r = noCrl.verify(x509((pki.authCli[0] as PkiManifest['authCli'][number]).cert));
    assert.equal(r.ok ? 'accepted' : r.reason, 'revocation-unknown');
  });

  test('EX_LPS_1200: a server-only certificate cannot authenticate a client', () => {
    const r = verifier.verify(x509(pki.https.cert));
    assert.equal(r.ok ? 'accepted' : r.reason, 'not-client-auth');
  });
});

describe('EX_LPS_1200 step 3: the mailbox is the login', () => {
  test('EX_LPS_1200: SASL PLAIN gives the authcid; an authzid for someone else is refused', () => {
    assert.equal(plainLogin(Buffer.from('\0dpi@ch.mssante.fr\0x').toString('base64')), 'dpi@ch.mssante.fr');
    assert.equal(plainLogin(Buffer.from('DPI@ch.mssante.fr\0dpi@ch.mssante.fr\0x').toString('base64')), 'dpi@ch.mssante.fr');
    assert.equal(plainLogin(Buffer.from('autre@ch.mssante.fr\0dpi@ch.mssante.fr\0x').toString('base64')), undefined);
    assert.equal(plainLogin('not base64!'), undefined);
    assert.equal(plainLogin(Buffer.from('no-nul').toString('base64')), undefined);
    assert.equal(Buffer.from(plainResponse('a@b.fr', 'mssac1.T'), 'base64').toString(), '\0a@b.fr\0mssac1.T');
  });

  test('EX_LPS_1200: IMAP LOGIN takes atoms and quoted strings, not literals', () => {
    assert.deepEqual(imapArguments('dpi@ch.mssante.fr secret'), ['dpi@ch.mssante.fr', 'secret']);
    assert.deepEqual(imapArguments('"dpi@ch.mssante.fr" "a \\"b\\" c"'), ['dpi@ch.mssante.fr', 'a "b" c']);
    assert.equal(imapArguments('{17}'), undefined);
    assert.equal(imapArguments('"unterminated'), undefined);
  });
});

describe('EX_LPS_1200: one-time tickets between the front and the checker', () => {
  const attempt = (token: string, user = 'dpi@ch.mssante.fr', mechanism = 'PLAIN') => ({
    user,
    token,
    service: 'imap',
    mechanism,
    remoteIp: '192.0.2.7',
    session: 's',
  });
  const structure = (id: string, certificate = 'x'): TicketLogin => ({ authType: 'AUTH-CLI', author: id, role: 'structure', certificate });

  test('EX_LPS_1200 EX_GDT_5060: a ticket opens its mailbox once, records an AUTH-CLI login, and is worthless afterwards or elsewhere', async () => {
    const access = new MemoryMailboxAccess();
    const tickets = new TicketBook();
    const checker = new TicketChecker(tickets, access, captureLogger().log);
    const t = tickets.issue({ mailbox: 'DPI@ch.mssante.fr', login: structure('1130099991', 'CN=Authentification MSS,OU=1130099991,O=X,C=FR') });
    assert.match(t, /^mssac1\.[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(await checker.check(attempt(t)), { verdict: 'OK', idNat: '1130099991', role: 'structure' });
    await new Promise((r) => setImmediate(r));
    assert.equal(access.logins[0]?.authType, 'AUTH-CLI');
    assert.equal(access.logins[0]?.author, '1130099991');
    assert.deepEqual(await checker.check(attempt(t)), { verdict: 'FAIL', reason: 'ticket' });
    const other = tickets.issue({ mailbox: 'dpi@ch.mssante.fr', login: structure('1') });
    assert.deepEqual(await checker.check(attempt(other, 'autre@ch.mssante.fr')), { verdict: 'FAIL', reason: 'ticket' });
    assert.deepEqual(await checker.check(attempt(other)), { verdict: 'FAIL', reason: 'ticket' }, 'spent by the wrong-mailbox try');
    assert.deepEqual(await checker.check(attempt('a-password')), { verdict: 'FAIL', reason: 'mechanism' });
  });

  test('EX_LPS_1200: tickets expire', async () => {
    let now = 0;
    const tickets = new TicketBook(30_000, () => now);
    const checker = new TicketChecker(tickets, new MemoryMailboxAccess(), captureLogger().log);
    const t = tickets.issue({ mailbox: 'dpi@ch.mssante.fr', login: structure('1') });
    now = 30_001;
    assert.deepEqual(await checker.check(attempt(t)), { verdict: 'FAIL', reason: 'ticket' });
    assert.equal(tickets.size, 0);
  });

  test('EX_LPS_0900 EX_LPS_1200: a PSC ticket of the submission front opens its mailbox once over XOAUTH2, records the PSC login it carries, and nothing over PLAIN', async () => {
    const access = new MemoryMailboxAccess();
    const tickets = new TicketBook();
    const checker = new TicketChecker(tickets, access, captureLogger().log);
    const login: TicketLogin = { authType: 'PSC-XOAUTH2', author: '810000000002', role: 'delegate', delegateOf: '810000000001' };
    const t = tickets.issue({ mailbox: 'jean.dupond@ch.mssante.fr', login });
    const psc = { ...attempt(t, 'jean.dupond@ch.mssante.fr', 'XOAUTH2'), service: 'smtp', session: undefined };
    assert.deepEqual(await checker.check(psc), { verdict: 'OK', idNat: '810000000002', role: 'delegate', delegateOf: '810000000001' });
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(
      access.logins.map((l) => [l.mailbox, l.authType, l.author, l.role, l.delegateOf, l.service, l.remoteIp]),
      [['jean.dupond@ch.mssante.fr', 'PSC-XOAUTH2', '810000000002', 'delegate', '810000000001', 'smtp', '192.0.2.7']],
    );
    assert.deepEqual(await checker.check(psc), { verdict: 'FAIL', reason: 'ticket' }, 'spent');
    const again = tickets.issue({ mailbox: 'jean.dupond@ch.mssante.fr', login });
    assert.deepEqual(
      await checker.check(attempt(again, 'jean.dupond@ch.mssante.fr', 'PLAIN')),
      { verdict: 'FAIL', reason: 'ticket' },
      'a PSC ticket over PLAIN',
    );
    const app = tickets.issue({ mailbox: 'dpi@ch.mssante.fr', login: structure('1') });
    assert.deepEqual(await checker.check(attempt(app, undefined, 'XOAUTH2')), { verdict: 'FAIL', reason: 'ticket' }, 'an AUTH-CLI ticket over XOAUTH2');
    assert.deepEqual(
      access.failures.map((f) => f.authType),
      ['PSC-XOAUTH2', 'PSC-XOAUTH2', 'AUTH-CLI'],
    );
  });

  test('EX_LPS_1200 EX_LPS_0900: the endpoint routes front tickets to the ticket checker, other XOAUTH2 tokens to the PSC checker, nothing else', async () => {
    const seen: string[] = [];
    const router = new LoginRouter(
      { check: async () => (seen.push('psc'), { verdict: 'FAIL', reason: 'token-signature' }) },
      { check: async () => (seen.push('ticket'), { verdict: 'FAIL', reason: 'ticket' }) },
    );
    for (const mech of ['XOAUTH2', 'oauthbearer', 'PLAIN', 'LOGIN', 'CRAM-MD5']) await router.check(attempt('eyJx', undefined, mech));
    assert.deepEqual(seen, ['psc', 'psc']);
    seen.length = 0;
    for (const mech of ['XOAUTH2', 'PLAIN', 'LOGIN', 'CRAM-MD5']) await router.check(attempt('mssac1.x', undefined, mech));
    assert.deepEqual(seen, ['ticket', 'ticket', 'ticket']);
    assert.deepEqual(await new LoginRouter({ check: async () => ({ verdict: 'FAIL', reason: 'no-user' }) }, undefined).check(attempt('mssac1.x')), {
      verdict: 'FAIL',
      reason: 'mechanism',
    });
  });
});

describe('EX_LPS_1200: what the AUTH-CLI front announces', () => {
  test('EX_LPS_1200: IMAP capabilities lose XOAUTH2 and LITERAL+, gain AUTH=PLAIN once TLS is up', () => {
    const greeting = '* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS LOGINDISABLED] Dovecot ready.';
    assert.equal(
      rewriteImapCapabilities(greeting, false),
      '* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE STARTTLS LOGINDISABLED] Dovecot ready.',
    );
    assert.equal(rewriteImapCapabilities('* CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN AUTH=XOAUTH2 LITERAL+', true), '* CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN');
  });

  test('EX_LPS_1200: the EHLO reply offers AUTH PLAIN LOGIN after TLS, no AUTH before, whatever Postfix offers', () => {
    const postfix = ['250-lps.ch.fr', '250-PIPELINING', '250-AUTH PLAIN XOAUTH2', '250 SMTPUTF8'];
    assert.deepEqual(rewriteEhlo(postfix, 'PLAIN LOGIN'), ['250-lps.ch.fr', '250-PIPELINING', '250-SMTPUTF8', '250 AUTH PLAIN LOGIN']);
    assert.deepEqual(rewriteEhlo(['250-lps.ch.fr', '250-STARTTLS', '250 AUTH XOAUTH2'], undefined), ['250-lps.ch.fr', '250 STARTTLS']);
  });
});
