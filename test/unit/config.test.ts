import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parseConfigText, loadConfig } from '../../src/config/load.js';
import { isMssError } from '../../src/errors.js';
import { WHITELIST_URL_PRODUCTION } from '../../src/whitelist/config.js';
import { runCliInProcess } from '../helpers/cli-in-process.js';
import { tmpDir } from '../helpers/tmp.js';

const MINIMAL = `
operator:
  name: CH Exemple
  domains: [CH-Exemple.mssante.fr]
  structureId: "1130000000"
  certificate: tls/operator.crt
  key: tls/operator.key
trust:
  dir: trust
`;

test('a minimal configuration gets production defaults and paths relative to the file', async () => {
  const cfg = parseConfigText(MINIMAL, '/etc/mss-sidecar/config.yaml');
  assert.equal(cfg.whitelist.url, WHITELIST_URL_PRODUCTION);
  assert.equal(cfg.whitelist.maxAgeHours, 48);
  assert.deepEqual(cfg.whitelist.signer.subject, [{ OU: ['318751275100020'] }, { CN: ['alb.mssante.fr'], OU: ['347976684200724'] }]);
  assert.equal(cfg.operator.certificate, '/etc/mss-sidecar/tls/operator.crt');
  assert.equal(cfg.trust.dir, '/etc/mss-sidecar/trust');
  assert.deepEqual(cfg.operator.domains, ['ch-exemple.mssante.fr']);
  assert.equal(cfg.state.dir, '/var/lib/mss-sidecar');
  assert.equal(cfg.operator.timeZone, 'Europe/Paris');
});

test('an invalid file names every bad key with its line, the value found and what was expected', async () => {
  const text = MINIMAL.replace(
    'trust:\n  dir: trust',
    'trust:\n  dir: trust\nwhitelist:\n  maxAgeHours: "two days"\n  url: http://example.org/list.xml\n  colour: blue',
  );
  try {
    parseConfigText(text, 'config.yaml');
    assert.fail('should have thrown');
  } catch (err) {
    assert.ok(isMssError(err, 'CONFIG_INVALID'), String(err));
    const problems = err.details.problems as Array<{ key: string; line?: number; found: string; expected: string }>;
    const byKey = new Map(problems.map((p) => [p.key, p]));
    assert.deepEqual(byKey.get('whitelist.maxAgeHours'), { key: 'whitelist.maxAgeHours', line: 11, found: '"two days"', expected: 'a value of type number' });
    assert.equal(byKey.get('whitelist.url')?.expected, 'an https:// URL');
    assert.match(byKey.get('whitelist.colour')?.found ?? '', /unknown key "colour"/);
    assert.match(err.message, /config\.yaml:11: whitelist\.maxAgeHours: found "two days", expected a value of type number/);
  }
});

test('a missing required key and a bad domain are reported', async () => {
  const text = MINIMAL.replace('  structureId: "1130000000"\n', '').replace('[CH-Exemple.mssante.fr]', '["not a domain"]');
  assert.throws(
    () => parseConfigText(text, 'c.yaml'),
    (err: unknown) =>
      isMssError(err, 'CONFIG_INVALID') &&
      /operator\.structureId: found nothing \(the key is missing\)/.test(err.message) &&
      /operator\.domains\.0: found "not a domain", expected a domain name/.test(err.message),
  );
});

test('YAML syntax errors and duplicate keys stop with the line', async () => {
  assert.throws(
    () => parseConfigText('operator:\n  name: a\n  name: b\n', 'd.yaml'),
    (err: unknown) => isMssError(err, 'CONFIG_YAML_INVALID') && /d\.yaml:3/.test(err.message),
  );
});

test('a missing file is a coded error that points to the sandbox', async () => {
  assert.throws(
    () => loadConfig('/nonexistent/config.yaml'),
    (err: unknown) => isMssError(err, 'CONFIG_NOT_FOUND') && /make sandbox/.test(err.message),
  );
});

test('the CLI stops with exit status 2 and the reason on an invalid configuration', async () => {
  const dir = tmpDir();
  const file = path.join(dir, 'config.yaml');
  fs.writeFileSync(file, MINIMAL.replace('structureId: "1130000000"', 'structureId: "!!"'));
  const r = await runCliInProcess(['--config', file, 'config', 'check']);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /error CONFIG_INVALID: .*\n.*operator\.structureId: found "!!", expected a structure IdNat/);
  fs.writeFileSync(file, MINIMAL);
  // Valid as a file; its certificate, key and trust store do not exist (config-files.test).
  const json = await runCliInProcess(['--config', file, 'config', 'check', '--json']);
  assert.equal(json.status, 2, json.stderr);
  const out = JSON.parse(json.stdout);
  assert.equal(out.config.operator.domains[0], 'ch-exemple.mssante.fr');
  assert.equal(out.ok, false);
  assert.match(json.stderr, /error CONFIG_FILES: operator\.certificate: .*tls\/operator\.crt is not readable by \S+: ENOENT/);
});

test('two services on one address are refused at load, naming both keys (the AUTH-CLI fronts beside the PSC fronts on 0.0.0.0)', async () => {
  const withAuth = (authCliHost: string, frontHost = '0.0.0.0') => `${MINIMAL}auth:
  psc: { issuer: "https://auth.esw.esante.gouv.fr/auth/realms/esante-wallet", audience: ch-exemple-mss }
  front:
    imap: { listen: { host: ${frontHost} } }
    submission: { listen: { host: ${frontHost} } }
  authCli:
    enabled: true
    certificate: tls/authcli.crt
    key: tls/authcli.key
    imap: { listen: { host: ${authCliHost} } }
    submission: { listen: { host: ${authCliHost} } }
`;
  assert.throws(
    () => parseConfigText(withAuth('192.0.2.11'), 'config.yaml'),
    (err: unknown) =>
      isMssError(err, 'CONFIG_INVALID') &&
      /auth\.authCli\.imap\.listen: found "192\.0\.2\.11:143", expected 192\.0\.2\.11:143 is also where auth\.front\.imap\.listen listens \(0\.0\.0\.0:143\)/.test(
        err.message,
      ) &&
      /auth\.authCli\.submission\.listen: .* auth\.front\.submission\.listen listens \(0\.0\.0\.0:587\)/.test(err.message),
  );
  // Each on its own address: accepted.
  const cfg = parseConfigText(withAuth('192.0.2.11', '192.0.2.10'), 'config.yaml');
  assert.equal(cfg.auth?.authCli?.imap.listen.host, '192.0.2.11');
  // A disabled service takes no address: the inbound gate's default 0.0.0.0:25 clashes with nothing.
  assert.equal(
    parseConfigText(`${MINIMAL}gates: { in: { enabled: false }, out: { enabled: true, listen: { port: 25 } } }\n`, 'c.yaml').gates.out.listen.port,
    25,
  );
  assert.throws(
    () => parseConfigText(`${MINIMAL}gates: { in: { enabled: true }, out: { enabled: true, listen: { port: 25 } } }\n`, 'c.yaml'),
    /gates\.out\.listen: .*gates\.in\.listen listens \(0\.0\.0\.0:25\)/,
  );
});
