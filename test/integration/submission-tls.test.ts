// The shipped submission service's TLS (postfix/*/20-submission*.cf) on a real Postfix:
// STARTTLS before anything (EX_LPS_0400), TLS 1.2 with exactly the six suites and TLS 1.3
// (EX_LPS_0100, EX_LPS_0200); everything else gets no connection. The service sits behind the
// API LPS front, so each connection starts with the front's PROXY header.
import assert from 'node:assert/strict';
import type tls from 'node:tls';
import { after, before, test } from 'node:test';
import { SmtpClient } from '../helpers/smtp-client.js';
import { startRig, type Rig } from '../helpers/submission-rig.js';

let rig: Rig;

before(async () => {
  rig = await startRig();
});

after(async () => {
  await rig?.stop();
});

async function handshake(options: tls.ConnectionOptions): Promise<{ ok: true; cipher: string; version: string } | { ok: false; error: string }> {
  const c = await SmtpClient.connect(rig.smtpPort, '127.0.0.1', 10_000, { proxy: true });
  try {
    await c.command('EHLO lps.test');
    const { socket } = await c.startTls({ servername: 'localhost', ...options });
    return { ok: true, cipher: socket.getCipher().standardName, version: socket.getProtocol() ?? '' };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  } finally {
    await c.quit();
  }
}

test('EX_LPS_0400: before STARTTLS the submission service refuses mail and authentication', async () => {
  const c = await SmtpClient.connect(rig.smtpPort, '127.0.0.1', 10_000, { proxy: true });
  const ehlo = await c.command('EHLO lps.test');
  assert.ok(ehlo.lines.includes('STARTTLS'));
  assert.ok(!ehlo.lines.some((l) => l.startsWith('AUTH')), 'no AUTH offered before TLS');
  const mail = await c.command('MAIL FROM:<a@b.fr>');
  assert.equal(mail.code, 530);
  assert.match(mail.text, /^5\.7\.0 Must issue a STARTTLS command first/);
  await c.quit();
});

test('EX_LPS_0100 EX_LPS_0200: TLS 1.2 with each of the six suites (ECDHE and DHE, GCM and CBC) and TLS 1.3 are accepted', async () => {
  for (const [cipher, iana] of [
    ['ECDHE-RSA-AES256-GCM-SHA384', 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384'],
    ['ECDHE-RSA-AES128-GCM-SHA256', 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256'],
    ['ECDHE-RSA-AES256-SHA384', 'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384'],
    ['ECDHE-RSA-AES128-SHA256', 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256'],
    ['DHE-RSA-AES256-GCM-SHA384', 'TLS_DHE_RSA_WITH_AES_256_GCM_SHA384'],
    ['DHE-RSA-AES128-GCM-SHA256', 'TLS_DHE_RSA_WITH_AES_128_GCM_SHA256'],
  ] as const) {
    const r = await handshake({ ciphers: cipher, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' });
    assert.deepEqual(r, { ok: true, cipher: iana, version: 'TLSv1.2' }, cipher);
  }
  const t13 = await handshake({ minVersion: 'TLSv1.3' });
  assert.ok(t13.ok && t13.version === 'TLSv1.3', JSON.stringify(t13));
});

test('EX_LPS_0100 EX_LPS_0200: TLS 1.1, suites without forward secrecy, SHA-1 and CHACHA20 suites in TLS 1.2 get no connection', async () => {
  for (const options of [
    { maxVersion: 'TLSv1.1', minVersion: 'TLSv1', ciphers: 'DEFAULT:@SECLEVEL=0' },
    { ciphers: 'AES256-GCM-SHA384', maxVersion: 'TLSv1.2' },
    { ciphers: 'ECDHE-RSA-AES256-SHA', maxVersion: 'TLSv1.2' },
    { ciphers: 'ECDHE-RSA-CHACHA20-POLY1305', maxVersion: 'TLSv1.2' },
  ] as tls.ConnectionOptions[]) {
    const r = await handshake(options);
    assert.equal(r.ok, false, `${JSON.stringify(options)} was accepted: ${JSON.stringify(r)}`);
  }
});
