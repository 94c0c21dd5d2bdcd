// The LPS submission piece leans on parameters of two main.cf pieces (its own and the
// milter's): a renamed parameter would leave `-o smtpd_milters=$undefined` — no milter, no
// error — so every reference must resolve.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { MSS_ECDH_CURVES, MSS_TLS12_CIPHERS } from '../../src/pki/tls-profile.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { SUBMISSION_SERVICE } from '../helpers/lps-stack.js';
import { mainPieces, serviceOptions } from '../helpers/postfix-pieces.js';

test('EX_LPS_0400 EX_LPS_0200: every $parameter of the LPS submission service is defined by a main.cf.d piece, and it keeps TLS, SASL and the milter', () => {
  const main = mainPieces();
  const options = serviceOptions(SUBMISSION_SERVICE);
  const referenced = options.flatMap((o) => [...o.matchAll(/\$([a-z0-9_]+)/g)].map((m) => m[1] as string));
  assert.ok(referenced.length > 10);
  for (const name of referenced) assert.ok(name in main, `$${name} is used by ${SUBMISSION_SERVICE} but defined by no postfix/main.cf.d piece`);
  for (const expected of [
    '-o smtpd_tls_security_level=encrypt',
    '-o smtpd_sasl_type=dovecot',
    '-o smtpd_upstream_proxy_protocol=haproxy',
    '-o smtpd_milters=$mss_submission_milter',
  ]) {
    assert.ok(options.includes(expected), expected);
  }
  assert.equal(main.mss_submission_tls_ciphers, MSS_TLS12_CIPHERS.join(':'));
});

test('EX_LPS_0200 EX_LPS_0100: the shipped Dovecot configuration uses the TLS profile of src/pki/tls-profile.ts', () => {
  const conf = fs.readFileSync(path.join(REPO_ROOT, 'dovecot', 'conf.d', '90-mss-lps.conf'), 'utf8');
  const setting = (name: string): string | undefined => new RegExp(`^${name} = (.*)$`, 'm').exec(conf)?.[1];
  assert.equal(setting('ssl_cipher_list'), MSS_TLS12_CIPHERS.join(':'));
  assert.equal(setting('ssl_curve_list'), MSS_ECDH_CURVES);
  assert.equal(setting('ssl_min_protocol'), 'TLSv1.2');
  const passdb = fs.readFileSync(path.join(REPO_ROOT, 'dovecot', 'conf.d', '05-mss-lps-passdb.conf'), 'utf8');
  assert.match(passdb, /args = file=\/opt\/mss-sidecar\/dovecot\/mss-lps-auth\.lua blocking=yes/);
  assert.ok(fs.existsSync(path.join(REPO_ROOT, 'dovecot', 'mss-lps-auth.lua')));
});
