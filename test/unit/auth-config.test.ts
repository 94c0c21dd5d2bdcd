import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PSC_ISSUER_PRODUCTION } from '../../src/auth/config.js';
import { parseConfigText } from '../../src/config/load.js';
import { isMssError } from '../../src/errors.js';

const BASE = `
operator:
  name: CH Exemple
  domains: [ch-exemple.mssante.fr]
  structureId: "1130000000"
  certificate: tls/operator.crt
  key: tls/operator.key
trust:
  dir: trust
`;

/** The least an auth section needs: the client ID of the operator's PSC raccordement (EX_LPS_0800). */
const AUTH = 'auth:\n  psc: {audience: ch-exemple-mss}\n';

test('EX_LPS_1000: an auth section with only its PSC client ID gets PSC production, 15 min / 4 h session limits and the 143/587 front', () => {
  const cfg = parseConfigText(`${BASE}${AUTH}`, '/etc/mss-sidecar/config.yaml');
  assert.ok(cfg.auth);
  assert.equal(cfg.auth.psc.issuer, PSC_ISSUER_PRODUCTION);
  assert.deepEqual(cfg.auth.sessions, { idleSeconds: 900, maxSeconds: 14_400 });
  assert.deepEqual(cfg.auth.front.imap, { listen: { host: '0.0.0.0', port: 143 }, backend: { host: '127.0.0.1', port: 243 } });
  assert.deepEqual(cfg.auth.front.submission, { listen: { host: '0.0.0.0', port: 587 }, backend: { host: '127.0.0.1', port: 687 } });
  // The submission front terminates TLS with the files Postfix's LPS service uses (mss_submission_tls_chain_files).
  assert.deepEqual([cfg.auth.front.certificate, cfg.auth.front.key], ['/etc/mss-sidecar/tls/lps.crt', '/etc/mss-sidecar/tls/lps.key']);
  assert.equal(
    parseConfigText(`${BASE}${AUTH}  front: {certificate: tls/lps.pem}\n`, '/etc/mss-sidecar/config.yaml').auth?.front.certificate,
    '/etc/mss-sidecar/tls/lps.pem',
  );
  // Limits before login and on refused logins (docs/auth.md).
  assert.deepEqual(cfg.auth.connections, { preLoginIdleSeconds: 30, maxPreLoginPerSource: 20, maxSessions: 2000, authenticatedReserve: 200 });
  assert.deepEqual(cfg.auth.failedLogins, { delayMs: 1000, maxDelayMs: 8000, maxPerSession: 3, maxPerSourcePerMinute: 60, traceWindowSeconds: 60 });
  assert.throws(
    () => parseConfigText(`${BASE}auth: {}\n`, 'c.yaml'),
    (err: unknown) =>
      isMssError(err, 'CONFIG_INVALID') && /auth\.psc\.audience: found nothing, expected the client ID of this operator's PSC raccordement/.test(err.message),
  );
  assert.deepEqual(cfg.auth.checker.listen, { host: '127.0.0.1', port: 425 });
  assert.ok(!cfg.auth.psc.algorithms.some((a) => a.startsWith('HS')));
  assert.equal(parseConfigText(BASE, 'c.yaml').auth, undefined);
});

test('EX_LPS_1000 EX_LPS_0900: limits above the Référentiel, HMAC or none algorithms and an unknown minAcr are configuration errors', () => {
  const bad = `${BASE}auth:\n  sessions: {idleSeconds: 1800, maxSeconds: 28800}\n  psc:\n    algorithms: [RS256, HS256, none]\n    minAcr: eidas9\n`;
  assert.throws(
    () => parseConfigText(bad, 'c.yaml'),
    (err: unknown) =>
      isMssError(err, 'CONFIG_INVALID') &&
      /auth\.sessions\.idleSeconds/.test(err.message) &&
      /auth\.sessions\.maxSeconds/.test(err.message) &&
      /auth\.psc\.algorithms\.1/.test(err.message) &&
      /auth\.psc\.algorithms\.2/.test(err.message),
  );
  assert.throws(
    () => parseConfigText(`${BASE}auth:\n  psc:\n    minAcr: eidas9\n`, 'c.yaml'),
    (err: unknown) => isMssError(err, 'CONFIG_INVALID') && /auth\.psc\.minAcr/.test(err.message),
  );
});

test('EX_LPS_1200: the AUTH-CLI entry points are off by default and need their own listen address and certificate', () => {
  assert.equal(parseConfigText(`${BASE}${AUTH}`, 'c.yaml').auth?.authCli, undefined);
  const on = parseConfigText(
    `${BASE}${AUTH}  front:\n    imap: {listen: {host: 192.0.2.10}}\n    submission: {listen: {host: 192.0.2.10}}\n  authCli:\n    enabled: true\n    imap: {listen: {host: 192.0.2.20}}\n    submission: {listen: {host: 192.0.2.20}}\n    certificate: tls/app.crt\n    key: tls/app.key\n`,
    '/etc/mss-sidecar/config.yaml',
  ).auth?.authCli;
  assert.deepEqual(on?.imap, { listen: { host: '192.0.2.20', port: 143 }, backend: { host: '127.0.0.1', port: 243 } });
  assert.deepEqual(on?.submission, { listen: { host: '192.0.2.20', port: 587 }, backend: { host: '127.0.0.1', port: 687 } });
  assert.equal(on?.certificate, '/etc/mss-sidecar/tls/app.crt');
  assert.throws(
    () => parseConfigText(`${BASE}auth:\n  authCli:\n    imap: {listen: {}}\n    submission: {listen: {host: x}}\n    certificate: a\n    key: b\n`, 'c.yaml'),
    (err: unknown) => isMssError(err, 'CONFIG_INVALID') && /auth\.authCli\.imap\.listen\.host/.test(err.message),
  );
});
