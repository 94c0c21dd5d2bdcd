// EX_OPE_5050 by default: operator B's `serve`, configured without crl.requireCurrent and
// with an empty trust.crlDir (no `crl sync` has run), refuses a listed peer with a valid
// certificate, since the revocation status of its issuer cannot be checked; and says so
// loudly in its log, at start-up and for the peer.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, test } from 'node:test';
import { connectTls } from '../helpers/gate-client.js';
import { gateWorld, type TestWorld } from '../helpers/gates.js';
import { CLI, cliEnv } from '../helpers/cli.js';
import { spawnTracked, waitForOutput, type Spawned } from '../helpers/processes.js';
import { tmpDir } from '../helpers/tmp.js';

let world: TestWorld;
let gate: Spawned | undefined;
const emptyCrlDir = tmpDir('mss-empty-crl-');

before(async () => {
  world = await gateWorld({
    mta: 'none',
    operators: ['B'],
    daemons: false,
    configure: (_op, c) => {
      c.trust = { ...c.trust, crlDir: emptyCrlDir } as typeof c.trust;
    },
  });
});
after(async () => {
  await gate?.stop();
  await world?.stop();
});

test('EX_OPE_5050: by default (crl.requireCurrent unset) a valid listed peer whose issuer has no current CRL (empty crlDir) is refused with 421 4.7.0, logged as an error', async () => {
  const node = world.node('B');
  assert.equal(node.config.trust.crlDir, emptyCrlDir);
  assert.deepEqual(fs.readdirSync(emptyCrlDir), []);
  assert.doesNotMatch(fs.readFileSync(node.configFile, 'utf8'), /requireCurrent/, 'the default is what is tested');
  assert.equal(node.config.crl.requireCurrent, true);
  gate = spawnTracked(process.execPath, [CLI, '--config', node.configFile, 'serve'], { env: cliEnv() });
  await waitForOutput(gate, (out) => out.includes('gate-in listening'), 20_000);
  // Loud at start-up: an error per CA of the store without a current CRL.
  assert.match(gate.output(), /"level":(50|"error").*"code":"CRL_MISSING".*REFUSED until `mss-sidecar crl sync`/);

  const A = world.pki.operators.find((o) => o.id === 'A');
  assert.ok(A);
  const { c, afterTls } = await connectTls(node.config.gates.in.listen.host, world.port, { cert: A.cert, key: A.key });
  assert.equal(afterTls.code, 421, afterTls.text);
  assert.match(
    afterTls.text,
    /^4\.7\.0 Revocation status of CN=mss\.ch-sandbox-a\.fr,.* cannot be checked on this side right now \(no current CRL of its issuer\); try again later \(EX_OPE_5050\)/,
  );
  await c.quit().catch(() => undefined);
  // Loud for the peer: an error naming it and the way out.
  await waitForOutput(gate, (out) => /"code":"CRL_MISSING".*"peer":"CN=mss\.ch-sandbox-a\.fr/.test(out), 5_000);
  const line =
    gate
      .output()
      .split('\n')
      .find((l) => /"code":"CRL_MISSING".*"peer":"CN=mss\.ch-sandbox-a\.fr/.test(l)) ?? '';
  assert.match(line, /"level":(50|"error")/);
  assert.match(line, /refused: .*\(crl\.requireCurrent\); run `mss-sidecar crl sync`/);
});
