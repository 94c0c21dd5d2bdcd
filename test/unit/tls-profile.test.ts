import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { after, before, test } from 'node:test';
import { MSS_TLS12_CIPHERS, mssTlsOptions } from '../../src/pki/tls-profile.js';
import { tmpDir } from '../helpers/tmp.js';

// A throwaway self-signed RSA certificate: this test is about the TLS profile only.
let server: tls.Server;
let port = 0;

before(async () => {
  const dir = tmpDir();
  const key = path.join(dir, 'k.pem');
  const crt = path.join(dir, 'c.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', crt, '-days', '1', '-subj', '/CN=localhost'], {
    stdio: 'ignore',
  });
  server = tls.createServer({ ...mssTlsOptions(), key: fs.readFileSync(key), cert: fs.readFileSync(crt) }, (s) => s.end('hello'));
  server.on('tlsClientError', () => {});
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
});
after(() => new Promise<void>((r) => server.close(() => r())));

interface Handshake {
  protocol: string | null;
  cipher: string;
  ephemeral: { type?: string; name?: string; size?: number };
}

function handshake(opts: tls.ConnectionOptions): Promise<Handshake> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...opts }, () => {
      const result = { protocol: socket.getProtocol(), cipher: socket.getCipher().name, ephemeral: socket.getEphemeralKeyInfo() as Handshake['ephemeral'] };
      socket.end();
      resolve(result);
    });
    socket.on('error', reject);
  });
}

test('EX_OPE_5010 EX_LPS_0200: each of the six TLS 1.2 suites is negotiated', async () => {
  for (const cipher of MSS_TLS12_CIPHERS) {
    const h = await handshake({ ciphers: cipher, maxVersion: 'TLSv1.2' });
    assert.equal(h.protocol, 'TLSv1.2');
    assert.equal(h.cipher, cipher);
  }
});

test('EX_OPE_5010 EX_LPS_0200: a client offering only other TLS 1.2 suites gets no connection', async () => {
  for (const cipher of ['AES256-GCM-SHA384', 'ECDHE-RSA-AES256-SHA', 'ECDHE-RSA-CHACHA20-POLY1305', 'DHE-RSA-AES256-SHA256']) {
    await assert.rejects(handshake({ ciphers: cipher, maxVersion: 'TLSv1.2' }), `suite ${cipher} must be refused`);
  }
});

test('EX_OPE_5010 EX_LPS_0100: TLS 1.1 and 1.0 are refused', async () => {
  for (const version of ['TLSv1.1', 'TLSv1'] as const) {
    await assert.rejects(handshake({ minVersion: version, maxVersion: version, ciphers: 'DEFAULT@SECLEVEL=0' }), `${version} must be refused`);
  }
});

test('EX_OPE_5010: DH groups are at least 2048 bits and ECDH curves at least 256 bits', async () => {
  const dhe = await handshake({ ciphers: 'DHE-RSA-AES256-GCM-SHA384', maxVersion: 'TLSv1.2' });
  assert.equal(dhe.ephemeral.type, 'DH');
  assert.ok((dhe.ephemeral.size ?? 0) >= 2048, `DH group of ${dhe.ephemeral.size} bits`);
  const ecdhe = await handshake({ ciphers: 'ECDHE-RSA-AES128-GCM-SHA256', maxVersion: 'TLSv1.2' });
  assert.equal(ecdhe.ephemeral.type, 'ECDH');
  assert.ok((ecdhe.ephemeral.size ?? 0) >= 256, `curve ${ecdhe.ephemeral.name} of ${ecdhe.ephemeral.size} bits`);
  // A client that only knows X25519 (255 bits) cannot agree on a curve.
  await assert.rejects(handshake({ ciphers: 'ECDHE-RSA-AES128-GCM-SHA256', maxVersion: 'TLSv1.2', ecdhCurve: 'X25519' }));
});

test('RE_OPE_5015: TLS 1.3 is accepted', async () => {
  const h = await handshake({});
  assert.equal(h.protocol, 'TLSv1.3');
});
