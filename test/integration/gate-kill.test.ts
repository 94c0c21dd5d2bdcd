// DESIGN principle 1 under a crash: operator B's gates run as `mss-sidecar serve` in their
// own process; killed with SIGKILL in the middle of a message, they leave nothing in
// Postfix (an unfinished DATA is discarded), the sender sees the connection drop and
// retries, and the message arrives exactly once.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { connectTls, send } from '../helpers/gate-client.js';
import { gateWorld, deliveredMatching, type TestWorld } from '../helpers/gates.js';
import { CLI } from '../helpers/cli.js';
import { spawnTracked, waitForOutput, type Spawned } from '../helpers/processes.js';
import { message } from '../helpers/smtp-client.js';

let world: TestWorld;
const ALICE = 'alice.martin@ch-sandbox-a.mssante.fr';
const BRUNO = 'bruno.petit@clinique-sandbox-b.mssante.fr';

before(async () => {
  world = await gateWorld({ mta: 'real', operators: ['B'], daemons: false });
});
after(async () => {
  await world?.stop();
});

function serve(): Spawned {
  return spawnTracked(process.execPath, [CLI, '--config', world.node('B').configFile, 'serve'], { env: { ...process.env, MSS_LOG_JSON: '1' } });
}

test('DESIGN principle 1: the inbound gate killed with SIGKILL during DATA → nothing queued, the sender retries, the message arrives exactly once', async () => {
  const A = world.pki.operators.find((o) => o.id === 'A');
  assert.ok(A);
  const host = world.node('B').config.gates.in.listen.host;
  let gate = serve();
  await waitForOutput(gate, (out) => out.includes('gate-in listening'), 20_000);

  const body = message({ from: ALICE, to: [BRUNO], subject: 'killed during data', body: 'x'.repeat(100_000) });
  const { c } = await connectTls(host, world.port, { cert: A.cert, key: A.key });
  assert.equal((await c.command(`MAIL FROM:<${ALICE}>`)).code, 250);
  assert.equal((await c.command(`RCPT TO:<${BRUNO}>`)).code, 250);
  assert.equal((await c.command('DATA')).code, 354);
  c.write(body.slice(0, 60_000).replace(/\r?\n/g, '\r\n'));
  await new Promise((r) => setTimeout(r, 300));
  gate.child.kill('SIGKILL');
  const after = await c.read();
  assert.equal(after.code, 0, 'the connection drops: no reply, certainly no 250');
  const pf = world.node('B').postfix;
  assert.ok(pf);
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(deliveredMatching(world, 'B', /Subject: killed during data/).length, 0);
  assert.equal(pf.queue().length, 0, 'Postfix discarded the unfinished message');
  assert.match(pf.maillog(), /lost connection after DATA/);

  // The sender's retry, once the gate is back.
  gate = serve();
  await waitForOutput(gate, (out) => out.includes('gate-in listening'), 20_000);
  const retry = await connectTls(host, world.port, { cert: A.cert, key: A.key });
  const r = await send(retry.c, ALICE, [BRUNO], body);
  await retry.c.quit();
  assert.equal(r.data?.code, 250, r.data?.text);
  await pf.waitFor(() => deliveredMatching(world, 'B', /Subject: killed during data/).length >= 1, 15_000, 'delivery');
  await new Promise((res) => setTimeout(res, 500));
  assert.equal(deliveredMatching(world, 'B', /Subject: killed during data/).length, 1);
  await gate.stop();
});
