import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfigText } from '../../src/config/load.js';
import { isMssError } from '../../src/errors.js';
import path from 'node:path';
import { DEFAULT_MILTER_LISTEN, POSTFIX_MILTER_ENDPOINT, parseListen } from '../../src/milter/config.js';
import { REQUESTED_MACROS } from '../../src/milter/negotiation.js';
import { mainPieces, serviceOptions } from '../helpers/postfix-pieces.js';

const BASE = `
operator: { name: CH, domains: [ch.mssante.fr], structureId: "1130000000", certificate: a.crt, key: a.key }
trust: { dir: trust }
`;

test("the milter section is off by default, with a unix socket in Postfix's queue directory and timeouts below Postfix's", () => {
  const cfg = parseConfigText(BASE, '/etc/mss-sidecar/config.yaml');
  assert.equal(cfg.milter.enabled, false);
  assert.deepEqual(cfg.milter.listen, { kind: 'unix', path: '/var/spool/postfix/mss-sidecar/milter.sock' });
  assert.equal(cfg.milter.socketGroup, 'postfix');
  assert.equal(cfg.milter.maxPacketBytes, 1024 * 1024);
  assert.equal(cfg.milter.socketMode, 0o660);
  assert.deepEqual(cfg.milter.timeouts, { idleMs: 900_000, packetMs: 30_000, handlerMs: 10_000 });
});

test('milter.listen takes Postfix notation and a wrong value names the key', () => {
  assert.deepEqual(parseListen('inet:127.0.0.1:8891'), { kind: 'inet', host: '127.0.0.1', port: 8891 });
  assert.deepEqual(parseListen('inet:[::1]:8891'), { kind: 'inet', host: '::1', port: 8891 });
  assert.deepEqual(parseListen('inet:localhost:1'), { kind: 'inet', host: 'localhost', port: 1 });
  assert.deepEqual(parseListen('unix:/run/mss/milter.sock'), { kind: 'unix', path: '/run/mss/milter.sock' });
  for (const bad of ['127.0.0.1:8891', 'inet:127.0.0.1', 'inet:127.0.0.1:0', 'inet:127.0.0.1:70000', 'unix:relative.sock', 'tcp:1.2.3.4:5'])
    assert.equal(parseListen(bad), undefined, bad);
  const cfg = parseConfigText(`${BASE}milter: { enabled: true, listen: "unix:/run/m.sock", socketMode: "0666" }\n`, 'c.yaml');
  assert.deepEqual(cfg.milter.listen, { kind: 'unix', path: '/run/m.sock' });
  assert.equal(cfg.milter.socketMode, 0o666);
  try {
    parseConfigText(`${BASE}milter:\n  listen: "127.0.0.1:10028"\n  maxPacketBytes: 1000\n`, 'c.yaml');
    assert.fail('should throw');
  } catch (err) {
    assert.ok(isMssError(err, 'CONFIG_INVALID'), String(err));
    assert.match(err.message, /c\.yaml:5: milter\.listen: found "127\.0\.0\.1:10028", expected unix:\/absolute\/path .* or inet:HOST:PORT/);
    assert.match(err.message, /milter\.maxPacketBytes/);
  }
});

test('the shipped Postfix pieces request exactly the macros the milter negotiates, and scope the milter to the submission service', () => {
  const main = mainPieces();
  const stages: Array<[keyof typeof REQUESTED_MACROS, string]> = [
    ['connect', 'connect'],
    ['helo', 'helo'],
    ['mail', 'mail'],
    ['rcpt', 'rcpt'],
    ['data', 'data'],
    ['eoh', 'end_of_header'],
    ['eom', 'end_of_data'],
  ];
  for (const [stage, name] of stages) {
    assert.deepEqual(main[`mss_submission_milter_${name}_macros`]?.split(/\s+/), [...REQUESTED_MACROS[stage]], stage);
  }
  // The same socket as milter.listen, named relative to queue_directory (Debian's chroot).
  assert.match(main.mss_submission_milter ?? '', /^\{ unix:mss-sidecar\/milter\.sock, .*\}$/);
  assert.equal(`unix:${path.posix.join('/var/spool/postfix', POSTFIX_MILTER_ENDPOINT.slice('unix:'.length))}`, DEFAULT_MILTER_LISTEN);
  for (const setting of ['protocol=6', 'default_action=tempfail', 'connect_timeout=', 'command_timeout=', 'content_timeout='])
    assert.ok(main.mss_submission_milter?.includes(setting), setting);
  // Nothing global: no smtpd_milters or milter_* parameter in main.cf.
  assert.deepEqual(
    Object.keys(main).filter((k) => k === 'smtpd_milters' || k.startsWith('milter_')),
    [],
  );
  const opts = serviceOptions();
  assert.ok(opts.includes('-o smtpd_milters=$mss_submission_milter'));
  assert.equal(opts.filter((o) => /^-o milter_\w+_macros=\$mss_submission_milter_\w+_macros$/.test(o)).length, 7);
  assert.deepEqual(serviceOptions('smtp/inet'), []);
});
