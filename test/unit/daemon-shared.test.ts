// One `serve` process shares one store, trace writer, registry, trust store and CRL holder
// between its services, and closes each once when it stops.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parseConfigText } from '../../src/config/load.js';
import { SharedResources } from '../../src/daemon/shared.js';
import { silentLogger } from '../../src/log.js';
import { generateTestPki } from '../../sandbox/pki.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';

test('shared daemon resources are opened once, handed to every caller, and closed once', async () => {
  const dir = tmpDir();
  const pki = await generateTestPki(path.join(dir, 'pki'), { operators: [], authCli: [] });
  fs.copyFileSync(path.join(REPO_ROOT, 'examples', 'registry.yaml'), path.join(dir, 'registry.yaml'));
  const config = parseConfigText(
    `operator: { name: CH Exemple, domains: [ch-exemple.mssante.fr], structureId: "1130000001", certificate: c.pem, key: k.pem }
trust: { dir: ${pki.trustDir}, crlDir: ${pki.crlDir} }
state: { dir: state }
registry: { file: registry.yaml }
`,
    path.join(dir, 'config.yaml'),
  );
  const shared = new SharedResources(config, silentLogger);
  assert.equal(shared.store(), shared.store());
  assert.equal(shared.traces(), shared.traces());
  assert.equal(shared.trust(), shared.trust());
  const [r1, r2] = await Promise.all([shared.registry(), shared.registry()]);
  assert.equal(r1, r2, 'concurrent callers get the same registry holder');
  assert.equal(await shared.revocation(), await shared.revocation());
  assert.equal(await shared.activity(), await shared.activity());
  // EX_SSU_5800: the first service recording logins marks the day recording began.
  assert.match((await shared.store().get('activity:logins-recorded-since')) ?? '', /^\d{4}-\d{2}-\d{2}$/);
  assert.ok(r1.current().get('jean.dupont@ch-exemple.mssante.fr'));
  // SIGHUP: what is in use afterwards, for the log line (the liste blanche was never opened).
  const summary = await shared.reload();
  assert.deepEqual(Object.keys(summary).sort(), ['crl', 'registry']);
  assert.match(summary.registry ?? '', new RegExp(`^unchanged: ${r1.current().size} mailboxes$`));
  assert.match(summary.crl ?? '', /^reloaded: 2 CRLs, 0 deltas$/);

  let closes = 0;
  const original = r1.close.bind(r1);
  r1.close = () => {
    closes++;
    return original();
  };
  await shared.close();
  await shared.close();
  assert.equal(closes, 1, 'each resource is closed once');
});
