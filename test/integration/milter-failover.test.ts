// The milter as `mss-sidecar serve` runs it — with the submission rules, the registry, the
// verified liste blanche, the journal and the traces of a real configuration — behind a
// real Postfix with the shipped milter_default_action = tempfail: while the milter process
// is stopped nothing is accepted (4xx, nothing queued); when it is back, mail flows again.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { whitelistPaths } from '../../src/whitelist/store.js';
import { CLI, cliEnv } from '../helpers/cli.js';
import { testPki } from '../helpers/pki.js';
import { freePorts } from '../helpers/ports.js';
import { spawnTracked, waitForOutput, type Spawned } from '../helpers/processes.js';
import { message, type RawReply } from '../helpers/smtp-client.js';
import { BAL, DOMAIN, startSubmissionMta, testMailboxes, type SubmissionMta } from '../helpers/submission-rig.js';
import { writeRegistry } from '../helpers/registry.js';
import { tmpDir } from '../helpers/tmp.js';
import { signedList } from '../helpers/whitelist.js';

const started: Array<{ stop(): Promise<void> }> = [];
after(async () => {
  for (const s of started.reverse()) await s.stop();
});

function serve(configFile: string): Spawned {
  const p = spawnTracked(process.execPath, [CLI, 'serve', '--config', configFile], { env: cliEnv({ MSS_LOG_LEVEL: 'info' }) });
  started.push(p);
  return p;
}

/** One transaction; returns every reply so the test can see where it was refused. */
async function send(mta: SubmissionMta, subject: string): Promise<RawReply[]> {
  let c;
  try {
    c = await mta.session(BAL.alice);
  } catch (err) {
    // With the milter unreachable Postfix temp-fails every command, STARTTLS included.
    const m = /^STARTTLS refused: (\d{3}) (.*)$/.exec((err as Error).message);
    if (!m) throw err;
    return [{ code: Number(m[1]), lines: [m[2] ?? ''], text: m[2] ?? '' }];
  }
  const replies: RawReply[] = [];
  for (const line of [`MAIL FROM:<${BAL.alice}>`, `RCPT TO:<${BAL.bob}>`, 'RCPT TO:<x@gmail.com>']) replies.push(await c.command(line));
  if (replies[0]?.code === 250 && replies[1]?.code === 250) {
    const [go, final] = await c.data(message({ from: BAL.alice, to: [BAL.bob], subject }));
    replies.push(go, ...(go.code === 354 ? [final] : []));
  }
  await c.quit();
  return replies;
}

test('milter stopped: Postfix temp-fails the submission (milter_default_action = tempfail); milter back: the rules apply again', async () => {
  const root = tmpDir();
  const pki = await testPki();
  const [milterPort, smtpPort] = await freePorts(2);
  const stateDir = path.join(root, 'state');
  const list = whitelistPaths(stateDir);
  fs.mkdirSync(list.dir, { recursive: true });
  fs.writeFileSync(list.file, signedList(pki));
  const config = path.join(root, 'config.yaml');
  fs.writeFileSync(
    config,
    [
      `operator: { name: CH Test, domains: [${DOMAIN}], structureId: "1130000001", certificate: ${pki.operators[0]?.cert}, key: ${pki.operators[0]?.key} }`,
      `trust: { dir: ${pki.trustDir}, crlDir: ${pki.crlDir} }`,
      `state: { dir: ${stateDir} }`,
      `registry: { file: ${writeRegistry(root, testMailboxes())} }`,
      `milter: { enabled: true, listen: "inet:127.0.0.1:${milterPort}", timeouts: { handlerMs: 2000 } }`,
      '',
    ].join('\n'),
  );
  const mta = await startSubmissionMta(root, milterPort, smtpPort);
  started.push(mta);

  let milter = serve(config);
  await waitForOutput(milter, (o) => o.includes('milter listening'));

  // Up: the rules apply (gmail.com refused with its reason) and the message is recorded.
  const up = await send(mta, 'while up');
  assert.equal(up[2]?.code, 550, JSON.stringify(up));
  assert.match(up[2]?.text ?? '', /domain gmail\.com is not in the MSSante trust space/);
  const final = up[up.length - 1];
  assert.equal(final?.code, 250, JSON.stringify(up));
  assert.ok(fs.readdirSync(path.join(stateDir, 'store', 'journal')).length > 0, 'journal written');

  // Down: SIGTERM, the process exits cleanly, Postfix cannot reach the milter.
  await milter.stop('SIGTERM');
  assert.equal(milter.child.exitCode, 0, milter.output());
  const queuedBefore = mta.postfix.queue().length + mta.postfix.delivered().length;
  const down = await send(mta, 'while down');
  const refusal = down.find((r) => r.code >= 400);
  assert.ok(refusal, `expected a refusal while the milter is down, got ${JSON.stringify(down)}`);
  assert.equal(Math.floor(refusal.code / 100), 4, `temporary, not permanent: ${refusal.code} ${refusal.text}`);
  assert.match(refusal.text, /^4\.\d\.\d /);
  assert.ok(!down.some((r) => /queued as/.test(r.text)));
  assert.equal(mta.postfix.queue().length + mta.postfix.delivered().length, queuedBefore, 'nothing accepted unchecked');
  assert.match(mta.postfix.maillog(), /connect to Milter service inet:127\.0\.0\.1:\d+: Connection refused/);

  // Back: accepted again, no Postfix restart needed.
  milter = serve(config);
  await waitForOutput(milter, (o) => o.includes('milter listening'));
  const back = await send(mta, 'after restart');
  assert.equal(back[back.length - 1]?.code, 250, JSON.stringify(back));
  await mta.postfix.waitFor((pf) => pf.delivered().length === queuedBefore + 1, 15_000, 'delivery after the milter came back');
});
