// DESIGN principle 1 under a crash: operator B's gates run as `mss-sidecar serve` in their
// own process; killed with SIGKILL in the middle of a message, they leave nothing in
// Postfix (an unfinished DATA is discarded), the sender sees the connection drop and
// retries, and the message arrives exactly once.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { connectTls, send } from '../helpers/gate-client.js';
import { gateWorld, deliveredMatching, type TestWorld } from '../helpers/gates.js';
import { CLI, cliEnv } from '../helpers/cli.js';
import { spawnTracked, waitForOutput, type Spawned } from '../helpers/processes.js';
import { message } from '../helpers/smtp-client.js';
import type { PostfixInstance } from '../../sandbox/mta/postfix-instance.js';

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
  return spawnTracked(process.execPath, [CLI, '--config', world.node('B').configFile, 'serve'], { env: cliEnv() });
}

/** Started, and every service announced ready (not only the gate's listener: the rest of start-up would compete with the test). */
async function ready(): Promise<Spawned> {
  const gate = serve();
  await waitForOutput(gate, (out) => /"msg":"ready"/.test(out), 60_000);
  return gate;
}

/** Bytes of the messages Postfix is receiving (queue files of transactions not finished). */
function receiving(pf: PostfixInstance): number {
  const dir = path.join(pf.dir, 'queue', 'incoming');
  let bytes = 0;
  for (const f of fs.existsSync(dir) ? fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }) : []) {
    try {
      const st = fs.statSync(path.join(dir, f));
      if (st.isFile()) bytes += st.size;
    } catch {
      /* removed meanwhile */
    }
  }
  return bytes;
}

test('DESIGN principle 1: the inbound gate killed with SIGKILL during DATA → nothing queued, the sender retries, the message arrives exactly once', async () => {
  const A = world.pki.operators.find((o) => o.id === 'A');
  assert.ok(A);
  const pf = world.node('B').postfix;
  assert.ok(pf);
  const host = world.node('B').config.gates.in.listen.host;
  let gate = await ready();

  const body = message({ from: ALICE, to: [BRUNO], subject: 'killed during data', body: 'x'.repeat(100_000) });
  const { c, afterTls } = await connectTls(host, world.port, { cert: A.cert, key: A.key });
  assert.equal(afterTls.code, 250, afterTls.text);
  const opened = (pf.maillog().match(/: client=/g) ?? []).length;
  assert.equal((await c.command(`MAIL FROM:<${ALICE}>`)).code, 250);
  assert.equal((await c.command(`RCPT TO:<${BRUNO}>`)).code, 250);
  assert.equal((await c.command('DATA')).code, 354);
  c.write(body.slice(0, 60_000).replace(/\r?\n/g, '\r\n'));
  // Killed once the gate has opened its transaction with Postfix (not after a fixed time,
  // which a loaded machine overruns): it sends MAIL, RCPT and DATA in one write, so once
  // Postfix logs the MAIL it holds the DATA too, and reads it before it sees the gate go.
  await pf.waitFor(() => (pf.maillog().match(/: client=/g) ?? []).length > opened, 30_000, 'the gate to open its transaction with Postfix');
  gate.child.kill('SIGKILL');
  const after = await c.read();
  assert.equal(after.code, 0, 'the connection drops: no reply, certainly no 250');
  await pf.waitFor(() => /lost connection after DATA/.test(pf.maillog()) && receiving(pf) === 0, 30_000, 'Postfix to discard the unfinished message');
  assert.equal(deliveredMatching(world, 'B', /Subject: killed during data/).length, 0);
  assert.equal(pf.queue().length, 0, 'Postfix discarded the unfinished message');

  // The sender's retry, once the gate is back.
  gate = await ready();
  const retry = await connectTls(host, world.port, { cert: A.cert, key: A.key });
  assert.equal(retry.afterTls.code, 250, retry.afterTls.text);
  const r = await send(retry.c, ALICE, [BRUNO], body);
  await retry.c.quit();
  assert.equal(r.data?.code, 250, JSON.stringify(r));
  await pf.waitFor(() => deliveredMatching(world, 'B', /Subject: killed during data/).length >= 1 && pf.queue().length === 0, 30_000, 'delivery');
  assert.equal(deliveredMatching(world, 'B', /Subject: killed during data/).length, 1);
  await gate.stop();
});
