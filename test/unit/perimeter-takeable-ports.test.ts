// `config check` and `status` say when an internal listener is back on a TCP port any local
// user may bind while its owner is stopped (docs/install.md, "The perimeter"), naming the key.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parseConfigText } from '../../src/config/load.js';
import { takeableListeners, takeablePortsCheck, unprivilegedPortStart } from '../../src/perimeter/takeable-ports.js';
import { runCli } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';

const BASE = `operator: { name: A, domains: [a.mssante.fr], structureId: "1130000001", certificate: /nonexistent/a.crt, key: /nonexistent/a.key }
trust: { dir: /nonexistent/trust }
`;
const ON = `milter: { enabled: true }
traces: { dovecotEvents: { enabled: true } }
gates: { in: { enabled: true }, out: { enabled: true } }
`;
/** The doors as they were shipped before they were closed. */
const OLD = `milter: { enabled: true, listen: "inet:127.0.0.1:10028" }
traces: { dovecotEvents: { enabled: true, listen: { port: 8426 } } }
gates: { in: { enabled: true, postfix: { port: 10025 } }, out: { enabled: true, listen: { port: 10026 } } }
auth:
  psc: { audience: x }
  checker: { listen: { port: 8425 } }
  front: { imap: { backend: { port: 10143 } }, submission: { backend: { port: 10587 } } }
`;

test('EX_LPS_0900 EX_GBM_4420 EX_LPS_1000: the shipped defaults leave no internal listener a local user could bind; the old ports are each reported by key', () => {
  const shipped = parseConfigText(`${BASE}${ON}auth: { psc: { audience: x } }\n`, 'c.yaml');
  assert.deepEqual(takeableListeners(shipped, 1024), []);
  assert.equal(takeablePortsCheck(shipped, 1024).severity, 'ok');

  const old = parseConfigText(`${BASE}${OLD}`, 'c.yaml');
  assert.deepEqual(
    takeableListeners(old, 1024).map((l) => `${l.key}=${l.port}`),
    [
      'auth.checker.listen=8425',
      'milter.listen=10028',
      'traces.dovecotEvents.listen=8426',
      'gates.out.listen=10026',
      'gates.in.postfix=10025',
      'auth.front.imap.backend=10143',
      'auth.front.submission.backend=10587',
    ],
  );
  const check = takeablePortsCheck(old, 1024);
  assert.equal(check.severity, 'warning');
  assert.equal(check.value, 7);
  assert.match(check.detail, /auth\.checker\.listen is 127\.0\.0\.1:8425: Dovecot's Lua passdb would take another process's "ok"/);

  // A host where unprivileged processes may bind every port (a container's
  // net.ipv4.ip_unprivileged_port_start = 0): the shipped ports below 1024 are doors too.
  assert.deepEqual(
    takeableListeners(shipped, 0).map((l) => `${l.key}=${l.port}`),
    ['auth.checker.listen=425', 'traces.dovecotEvents.listen=426', 'auth.front.imap.backend=243', 'auth.front.submission.backend=687'],
  );
  const dir = tmpDir('mss-ports-start-');
  fs.writeFileSync(path.join(dir, 'start'), '0\n');
  assert.equal(unprivilegedPortStart(path.join(dir, 'start')), 0);
  assert.equal(unprivilegedPortStart(path.join(dir, 'absent')), 1024);
});

test('EX_LPS_0900: `config check` prints a WARN line naming each key on a port a local user could bind, and none for the shipped defaults', () => {
  const dir = tmpDir('mss-ports-check-');
  const run = (text: string): string => {
    const file = path.join(dir, 'config.yaml');
    fs.writeFileSync(file, text);
    return runCli(['--config', file, 'config', 'check', '--user', 'root']).stdout;
  };
  const old = run(`${BASE}${OLD}`);
  assert.match(old, /^WARN {2}auth\.checker\.listen +127\.0\.0\.1:8425 can be bound by any local user/m);
  assert.match(old, /^WARN {2}milter\.listen +127\.0\.0\.1:10028 /m);
  assert.match(old, /^WARN {2}auth\.front\.submission\.backend +127\.0\.0\.1:10587 /m);
  // Only the port warnings are meant here (EX_PBA_5011 has its own: finess-juridique-warning.test.ts).
  assert.doesNotMatch(run(`${BASE}${ON}auth: { psc: { audience: x } }\n`), /^WARN .*can be bound by any local user/m);
});
