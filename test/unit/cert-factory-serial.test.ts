// The sandbox's certificate factory writes serials OpenSSL reads: a minimal, positive DER
// INTEGER. A random serial that began with a 00 byte gave a certificate OpenSSL refused
// ("illegal padding"), about once in 512, and a whole test file's PKI with it (full suite of
// 2026-12-07: whitelist-holder.test.ts, "sandbox-intermediate-ca.crt: not a readable X.509
// certificate").
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { test } from 'node:test';
import { generateRsaKey, issueCertificate, minimalPositiveSerial, randomSerial } from '../../sandbox/cert-factory.js';

test('a serial is written as a minimal positive DER integer: leading 00 bytes dropped unless the sign needs one', () => {
  assert.equal(minimalPositiveSerial('0012ab'), '12ab');
  assert.equal(minimalPositiveSerial('00007f'), '7f');
  assert.equal(minimalPositiveSerial('0080'), '0080', 'a 00 byte the sign needs is kept');
  assert.equal(minimalPositiveSerial('80ff'), '0080ff', 'a high first byte gets one');
  assert.equal(minimalPositiveSerial('ABC'), '0abc', 'an odd length is padded to whole bytes');
  assert.throws(() => minimalPositiveSerial('0000'), /positive/);
  assert.throws(() => minimalPositiveSerial('12xz'), /not hexadecimal/);
});

test('certificates whose serial begins with a 00 byte, or a byte of 0x80 or more, are read by OpenSSL with the serial given', async () => {
  const keyPair = await generateRsaKey();
  const now = Date.now();
  for (const [given, read] of [
    ['0012ab34', '12AB34'],
    ['00ff01', 'FF01'],
    ['8001', '8001'],
  ]) {
    const cert = issueCertificate({
      subject: [['CN', `serial ${given}`]],
      keyPair,
      serial: given,
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + 60_000),
    });
    assert.equal(new X509Certificate(cert.certPem).serialNumber, read, `serial ${given}`);
  }
});

test('random serials are 16 bytes, minimal and positive: 5,000 draws (one in 256 began with a 00 byte before)', () => {
  for (let i = 0; i < 5000; i++) {
    const s = randomSerial();
    assert.match(s, /^[0-7][0-9a-f]{31}$/);
    assert.equal(minimalPositiveSerial(s), s, s);
  }
});
