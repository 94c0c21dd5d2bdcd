// The Postfix pieces of the submission service agree with the code: the TLS profile of
// src/pki/tls-profile.ts, and a message_size_limit above the milter's own limit; and the
// pieces as a whole describe one deployment, each setting once.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { postfixDisabledServices, postfixMainDefinitions, postfixServiceEntry } from '../../sandbox/mta/shipped-config.js';
import { MSS_TLS12_CIPHERS } from '../../src/pki/tls-profile.js';
import { submissionSection } from '../../src/submission/config.js';
import { gatesSection, TRANSIT_HEADROOM_BYTES } from '../../src/gate/config.js';
import { GATE_LISTENER_SERVICE, SUBMISSION_SERVICE } from '../../sandbox/mta/postfix-pieces.js';
import { mainPieces, serviceOptions } from '../helpers/postfix-pieces.js';

test('EX_LPS_0400 EX_LPS_0100 EX_LPS_0200: the submission service requires STARTTLS, TLS 1.2 or later, exactly the six suites', () => {
  const main = mainPieces();
  assert.equal(main.mss_submission_tls_ciphers, MSS_TLS12_CIPHERS.join(':'));
  assert.equal(main.mss_submission_tls_protocols, '>=TLSv1.2');
  assert.deepEqual(main.mss_submission_tls_curves?.split(' '), ['prime256v1', 'secp384r1', 'secp521r1']);
  const opts = serviceOptions(SUBMISSION_SERVICE);
  for (const o of [
    '-o smtpd_tls_security_level=encrypt',
    '-o smtpd_tls_protocols=$mss_submission_tls_protocols',
    '-o smtpd_tls_mandatory_protocols=$mss_submission_tls_protocols',
    '-o smtpd_tls_mandatory_ciphers=high',
    '-o tls_high_cipherlist=$mss_submission_tls_ciphers',
    '-o line_length_limit=$mss_submission_line_length_limit',
  ])
    assert.ok(opts.includes(o), o);
  assert.ok(Number(main.mss_submission_line_length_limit) >= 16384, 'room for an AUTH XOAUTH2 line with a PSC token');
});

test("EX_GBM_4410: Postfix's message_size_limit leaves the milter room to judge a message of its limit plus Postfix's own headers", () => {
  const limit = Number(mainPieces().message_size_limit);
  const milter = submissionSection.parse({}).maxMessageBytes;
  assert.equal(milter, 10 * 1024 * 1024);
  assert.ok(limit >= milter + 65536, `${limit} < ${milter} + 64 KiB`);
});

test("EX_GBM_4410: gates.in.maxMessageBytes leaves headroom above the milter limit for headers added in transit, and stays below message_size_limit minus the gate's Received line", () => {
  const limit = Number(mainPieces().message_size_limit);
  const milter = submissionSection.parse({}).maxMessageBytes;
  const gateIn = gatesSection.parse({}).in.maxMessageBytes;
  assert.equal(gateIn, 10_518_528);
  assert.ok(TRANSIT_HEADROOM_BYTES >= 16 * 1024, 'room for the Received, Message-ID and Date lines a sending Postfix and gate add');
  assert.ok(gateIn >= milter + TRANSIT_HEADROOM_BYTES, `${gateIn} < ${milter} + ${TRANSIT_HEADROOM_BYTES}`);
  // The gate's Received line (received-header.ts) is well under 4 KiB; Postfix adds its own.
  assert.ok(gateIn + 4096 < limit, `${gateIn} + the gate's Received line reaches message_size_limit ${limit}`);
});

test('every main.cf parameter is set by one piece, and the TLS profile and line length are defined once', () => {
  const defs = postfixMainDefinitions();
  const seen = new Map<string, string>();
  for (const d of defs) {
    assert.ok(!seen.has(d.name), `${d.name} is set by ${seen.get(d.name)} and again by ${d.file}`);
    seen.set(d.name, d.file);
  }
  for (const value of [MSS_TLS12_CIPHERS.join(':'), '>=TLSv1.2', '16384']) {
    assert.deepEqual(
      defs.filter((d) => d.value === value).length,
      1,
      `"${value}" is defined by ${defs
        .filter((d) => d.value === value)
        .map((d) => `${d.file}:${d.name}`)
        .join(', ')}`,
    );
  }
});

test('EX_3.1_5020 EX_LPS_1000: the pieces leave the public ports to the sidecar — Postfix on loopback only, its smtp and submission services off', () => {
  assert.equal(mainPieces().inet_interfaces, 'loopback-only');
  // The inbound gate's old loopback TCP door is closed on upgrade too (issue #12), and so is
  // the LPS submission service's old port above 1024 (a local user could take it while Postfix is stopped).
  assert.deepEqual(postfixDisabledServices().sort(), ['127.0.0.1:10025/inet', '127.0.0.1:10587/inet', 'smtp/inet', 'submission/inet']);
  assert.match(postfixServiceEntry(SUBMISSION_SERVICE) ?? '', /^127\.0\.0\.1:\d+\s+inet\s/, SUBMISSION_SERVICE);
  assert.ok(Number(/:(\d+)\//.exec(SUBMISSION_SERVICE)?.[1]) < 1024, `${SUBMISSION_SERVICE}: a port below 1024`);
  // The inbound gate's door is a unix socket in public/ (private column n), not a TCP port.
  assert.match(postfixServiceEntry(GATE_LISTENER_SERVICE) ?? '', /^mss-gate-in\s+unix\s+n\s/, GATE_LISTENER_SERVICE);
  assert.equal(postfixServiceEntry('submission/inet'), undefined, 'no public submission service is created');
  assert.equal(postfixServiceEntry('smtp/inet'), undefined);
});

test('the loopback listeners behind the submission front and the inbound gate look no client name up in DNS (the 5 s login stall of issue 20)', () => {
  // The peer's address comes from the front's PROXY header (the LPS's) or the gate's XCLIENT:
  // a reverse lookup before the greeting waits the resolver's 5 s whenever a packet is lost.
  for (const service of [SUBMISSION_SERVICE, GATE_LISTENER_SERVICE]) {
    assert.ok(serviceOptions(service).includes('-o smtpd_peername_lookup=no'), `${service} looks up its clients' names`);
  }
});
