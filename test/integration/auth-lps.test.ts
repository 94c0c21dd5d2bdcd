// The API LPS end to end on loopback (TM5.2P/TM5.3P): an LPS logs in over IMAP (Dovecot
// 2.3) and SMTP submission (Postfix 3.7 through Dovecot SASL) with a PSC token, through the
// mss-sidecar front, with the shipped dovecot/ and postfix/ configuration.
import assert from 'node:assert/strict';
import tls from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { LineConnection, imapXoauth2Login, smtpXoauth2Login, type LoginResult } from '../helpers/lps-clients.js';
import { freshLoopback, startLpsStack, type LpsStack } from '../helpers/lps-stack.js';
import { hmacWithPublicKeyToken, tamperedToken, unsignedToken } from '../helpers/psc-tokens.js';
import { SandboxPsc } from '../../src/sandbox/psc/sandbox-psc.js';
import { tmpDir } from '../helpers/tmp.js';

const HOLDER = '810000000001';
const DELEGATE = '810000000002';
const STRANGER = '810000000003';
const BAL = 'jean.dupond@ch-exemple.mssante.fr';
const SUSPENDED = 'suspendu@ch-exemple.mssante.fr';

const root = tmpDir('mss-lps-');
let stack: LpsStack | undefined;
const st = (): LpsStack => stack as LpsStack;

before(async () => {
  stack = await startLpsStack(root, { jwksCooldownSeconds: 1 });
  st().access
    .add(BAL, { type: 'PER', holder: HOLDER, delegates: [{ idNat: DELEGATE, of: HOLDER }] })
    .add(SUSPENDED, { type: 'PER', holder: HOLDER, status: 'suspended' });
});
after(async () => {
  await stack?.stop();
});

const imap = (token: string, user = BAL): Promise<LoginResult> => imapXoauth2Login(st().imapPort, user, token, { localAddress: freshLoopback() });
const smtp = (token: string, user = BAL): Promise<LoginResult> => smtpXoauth2Login(st().submissionPort, user, token, { localAddress: freshLoopback() });

/** EX_LPS_0710: the exact refusals of IMAP (RFC 5530) and SMTP (RFC 4954). */
async function refusedBoth(token: string, user = BAL): Promise<void> {
  const i = await imap(token, user);
  assert.equal(i.verdict, 'FAIL', i.line);
  assert.match(i.line, /^a3 NO \[AUTHENTICATIONFAILED\] Authentication failed\.?$/);
  const s = await smtp(token, user);
  assert.equal(s.verdict, 'FAIL', s.line);
  assert.match(s.line, /^535 5\.7\.8 /);
}

async function acceptedBoth(token: string, user = BAL): Promise<void> {
  const i = await imap(token, user);
  assert.equal(i.verdict, 'OK', i.line);
  const s = await smtp(token, user);
  assert.equal(s.verdict, 'OK', s.line);
  assert.match(s.line, /^235 2\.7\.0 /);
}

describe('EX_LPS_0700 EX_LPS_0400 EX_LPS_0500: entry points and capabilities', () => {
  test('EX_LPS_0700 EX_LPS_0500: IMAP on the front announces SASL-IR and AUTH=XOAUTH2 after STARTTLS, and no login before it', async () => {
    const c = await LineConnection.open(st().imapPort);
    try {
      await c.expect(/^\* OK/);
      c.send('a0 CAPABILITY');
      const plain = await c.expect(/^a0 OK/);
      assert.match(plain.skipped.join('\n'), /STARTTLS/);
      assert.match(plain.skipped.join('\n'), /LOGINDISABLED/);
      assert.doesNotMatch(plain.skipped.join('\n'), /AUTH=XOAUTH2/);
    } finally {
      c.destroy();
    }
    const r = await imap(await st().psc.mint({ idNat: HOLDER }));
    assert.ok(r.capabilities.includes('SASL-IR'), r.capabilities.join(' '));
    assert.ok(r.capabilities.includes('AUTH=XOAUTH2'), r.capabilities.join(' '));
  });

  test('EX_LPS_0700 EX_LPS_0400: SMTP submission on the front announces AUTH XOAUTH2 only after STARTTLS', async () => {
    const c = await LineConnection.open(st().submissionPort);
    try {
      await c.expect(/^220 /);
      c.send('EHLO lps.test');
      const ehlo = await c.expect(/^250 /);
      const keywords = [...ehlo.skipped, ehlo.line].join('\n');
      assert.match(keywords, /STARTTLS/);
      assert.doesNotMatch(keywords, /AUTH/);
      c.send('AUTH XOAUTH2 dGVzdA==');
      assert.match((await c.expect(/^\d{3} /)).line, /^5\d\d /);
    } finally {
      c.destroy();
    }
    const r = await smtp(await st().psc.mint({ idNat: HOLDER }));
    assert.ok(r.capabilities.some((k) => /^AUTH( .*)? XOAUTH2( |$)/.test(k) || k === 'AUTH XOAUTH2'), r.capabilities.join(' | '));
  });
});

describe('EX_LPS_0100 EX_LPS_0200: TLS on 143 and 587', () => {
  const handshake = async (which: 'imap' | 'smtp', options: tls.ConnectionOptions): Promise<string> => {
    const c = await LineConnection.open(which === 'imap' ? st().imapPort : st().submissionPort);
    try {
      if (which === 'imap') {
        await c.expect(/^\* OK/);
        c.send('t STARTTLS');
        await c.expect(/^t OK/);
      } else {
        await c.expect(/^220 /);
        c.send('EHLO lps.test');
        await c.expect(/^250 /);
        c.send('STARTTLS');
        await c.expect(/^220 /);
      }
      const s = await c.startTls(options);
      return `${s.getProtocol()} ${s.getCipher().name}`;
    } finally {
      c.destroy();
    }
  };

  for (const which of ['imap', 'smtp'] as const) {
    test(`EX_LPS_0100 EX_LPS_0200: ${which} accepts TLS 1.2 with the ECDHE and DHE suites of the Référentiel, and TLS 1.3`, async () => {
      for (const cipher of ['ECDHE-RSA-AES256-GCM-SHA384', 'ECDHE-RSA-AES128-SHA256', 'DHE-RSA-AES128-GCM-SHA256']) {
        assert.equal(await handshake(which, { ciphers: cipher, maxVersion: 'TLSv1.2' }), `TLSv1.2 ${cipher}`);
      }
      assert.match(await handshake(which, {}), /^TLSv1\.3 /);
    });

    test(`EX_LPS_0200 EX_LPS_0100: ${which} refuses suites outside the list (no forward secrecy, SHA-1) and TLS 1.1`, async () => {
      for (const cipher of ['AES128-GCM-SHA256', 'ECDHE-RSA-AES128-SHA', 'ECDHE-RSA-CHACHA20-POLY1305']) {
        await assert.rejects(handshake(which, { ciphers: cipher, maxVersion: 'TLSv1.2' }), Error, cipher);
      }
      await assert.rejects(handshake(which, { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' }));
    });
  }
});

describe('EX_LPS_0900 EX_LPS_0600: PSC token logins over IMAP and SMTP', () => {
  test('EX_LPS_0900 EX_LPS_0600: the holder logs in over IMAP and SMTP with a valid token, and each login is recorded with the LPS address (EX_GDT_5060)', async () => {
    const token = await st().psc.mint({ idNat: HOLDER });
    const before = st().access.logins.length;
    const ip = freshLoopback();
    const i = await imapXoauth2Login(st().imapPort, BAL, token, { localAddress: ip });
    assert.equal(i.verdict, 'OK', i.line);
    const s = await smtpXoauth2Login(st().submissionPort, BAL, token, { localAddress: ip });
    assert.match(s.line, /^235 2\.7\.0 /);
    const logins = st().access.logins.slice(before);
    assert.deepEqual(logins.map((l) => [l.mailbox, l.author, l.authType, l.service, l.remoteIp]), [
      [BAL, HOLDER, 'PSC-XOAUTH2', 'imap', ip],
      [BAL, HOLDER, 'PSC-XOAUTH2', 'smtp', ip],
    ]);
    // Dovecot's session ID joins the record with Dovecot's log (Postfix does not pass one to SASL).
    assert.match(logins[0]?.session ?? '', /^[A-Za-z0-9+/]{8,}$/);
  });

  test('EX_LPS_0400 EX_LPS_0600: after AUTH XOAUTH2 the LPS sends a message, and the submission milter sees the XOAUTH2 login', async () => {
    const r = await smtpXoauth2Login(st().submissionPort, BAL, await st().psc.mint({ idNat: HOLDER }), { localAddress: freshLoopback(), keepOpen: true });
    assert.equal(r.verdict, 'OK', r.line);
    const c = r.connection;
    try {
      const before = st().submissions.length;
      c.send(`MAIL FROM:<${BAL}>`);
      assert.match((await c.expect(/^\d{3} /)).line, /^250 /);
      c.send('RCPT TO:<secretariat@ch-exemple.mssante.fr>');
      assert.match((await c.expect(/^\d{3} /)).line, /^250 /);
      c.send('DATA');
      assert.match((await c.expect(/^\d{3} /)).line, /^354 /);
      c.send(`From: <${BAL}>\r\nTo: <secretariat@ch-exemple.mssante.fr>\r\nSubject: test LPS\r\n\r\nbonjour\r\n.`);
      assert.match((await c.expect(/^\d{3} /)).line, /^250 /);
      assert.deepEqual(st().submissions.slice(before), [{ authType: 'XOAUTH2', login: BAL, sender: BAL }]);
    } finally {
      c.destroy();
    }
  });

  test('EX_GBM_5414: a delegate logs in to the delegated mailbox over IMAP and SMTP', async () => {
    await acceptedBoth(await st().psc.mint({ idNat: DELEGATE }));
  });

  test('EX_LPS_0710 EX_LPS_0900: an IdNat not allowed on the mailbox gets NO [AUTHENTICATIONFAILED] and 535 5.7.8', async () => {
    await refusedBoth(await st().psc.mint({ idNat: STRANGER }));
  });

  test('EX_LPS_0710: a suspended mailbox is refused', async () => {
    await refusedBoth(await st().psc.mint({ idNat: HOLDER }), SUSPENDED);
  });

  test('EX_LPS_0900 step 6: an expired token is refused', async () => {
    const now = Math.floor(Date.now() / 1000);
    await refusedBoth(await st().psc.mint({ idNat: HOLDER, claims: { iat: now - 900, exp: now - 300 } }));
  });

  test('EX_LPS_0900 step 5: a token from another issuer is refused', async () => {
    const other = new SandboxPsc({ tls: st().cert, realm: 'elsewhere' });
    await other.start();
    try {
      await refusedBoth(await other.mint({ idNat: HOLDER }));
      await refusedBoth(await st().psc.mint({ idNat: HOLDER, claims: { iss: 'https://auth.bas.esw.esante.gouv.fr/auth/realms/esante-wallet' } }));
    } finally {
      await other.stop();
    }
  });

  test('EX_LPS_0900 step 5: a bad signature, alg none and HS256 signed with the public key are refused', async () => {
    const valid = await st().psc.mint({ idNat: HOLDER });
    await refusedBoth(tamperedToken(valid));
    await refusedBoth(unsignedToken(valid));
    await refusedBoth(await hmacWithPublicKeyToken(st().psc, valid));
  });

  test('EX_LPS_0900 step 5: after a PSC key rotation, an unknown kid costs one JWKS refresh, then the login succeeds', async () => {
    await acceptedBoth(await st().psc.mint({ idNat: HOLDER }));
    await new Promise((r) => setTimeout(r, 1100));
    const fetchesBefore = st().checker.verifier.jwksFetches;
    await st().psc.rotate();
    await acceptedBoth(await st().psc.mint({ idNat: HOLDER }));
    assert.equal(st().checker.verifier.jwksFetches, fetchesBefore + 1);
  });

  test('EX_LPS_0900 EX_LPS_0700: a token longer than 4 KB logs in over IMAP (SASL-IR) and SMTP', async () => {
    const token = await st().psc.mint({ idNat: HOLDER, claims: { pad: 'x'.repeat(3000) } });
    assert.ok(token.length > 4800, String(token.length));
    await acceptedBoth(token);
  });

  test('EX_LPS_0700: beyond Dovecot 2.3 imap-login\'s fixed 8 KB SASL buffer (tokens over about 6 KB) IMAP closes the connection, SMTP still works', async () => {
    const token = await st().psc.mint({ idNat: HOLDER, claims: { pad: 'x'.repeat(5500) } });
    assert.ok(token.length > 8000, String(token.length));
    await assert.rejects(imap(token), /connection closed/);
    assert.equal((await smtp(token)).verdict, 'OK');
  });

  test('EX_LPS_0900 step 7: UserInfo down is a temporary failure (IMAP NO [UNAVAILABLE]; Postfix 3.7 answers 535 5.7.8), never a success', async () => {
    const token = await st().psc.mint({ idNat: HOLDER });
    st().psc.setUserInfo('down');
    try {
      const i = await imap(token);
      assert.equal(i.verdict, 'TEMPFAIL', i.line);
      assert.match(i.line, /^a3 NO \[UNAVAILABLE\]/);
      const s = await smtp(token);
      assert.match(s.line, /^535 5\.7\.8 /);
    } finally {
      st().psc.setUserInfo('up');
    }
    await acceptedBoth(token);
  });

  test('EX_LPS_0900: the checker unreachable is a temporary failure, never a success', async () => {
    const token = await st().psc.mint({ idNat: HOLDER });
    await st().endpoint.stop();
    try {
      const i = await imap(token);
      assert.equal(i.verdict, 'TEMPFAIL', i.line);
      const s = await smtp(token);
      assert.notEqual(s.verdict, 'OK', s.line);
    } finally {
      await st().endpoint.start();
    }
  });
});
