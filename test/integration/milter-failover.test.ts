// The milter as `mss-sidecar serve` runs it, behind a real Postfix with the shipped
// milter_default_action = tempfail: while the milter process is stopped nothing is
// accepted (4xx, nothing queued); when it is back, mail flows again.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { PostfixInstance } from '../../src/mta/postfix-instance.js';
import { CLI } from '../helpers/cli.js';
import { freePorts } from '../helpers/ports.js';
import { mainPiecesForMilter, submissionListener } from '../helpers/postfix-pieces.js';
import { spawnTracked, waitForOutput, type Spawned } from '../helpers/processes.js';
import { SmtpClient, message, type Reply } from '../helpers/smtp-client.js';
import { tmpDir } from '../helpers/tmp.js';

const started: Array<{ stop(): Promise<void> }> = [];
after(async () => {
  for (const s of started.reverse()) await s.stop();
});

function serve(configFile: string): Spawned {
  const p = spawnTracked(process.execPath, [CLI, 'serve', '--config', configFile], { env: { ...process.env, MSS_LOG_JSON: '1', MSS_LOG_LEVEL: 'info' } });
  started.push(p);
  return p;
}

/** One transaction; returns every reply so the test can see where it was refused. */
async function send(port: number, subject: string): Promise<Reply[]> {
  const c = await SmtpClient.connect(port);
  const replies = [c.greeting];
  for (const line of ['EHLO lps.ch.test', 'MAIL FROM:<alice@ch.mssante.fr>', 'RCPT TO:<bob@ch.mssante.fr>']) {
    const r = await c.command(line);
    replies.push(r);
    if (r.code >= 400) break;
  }
  if (replies.every((r) => r.code < 400)) {
    const [go, final] = await c.data(message({ from: 'alice@ch.mssante.fr', to: ['bob@ch.mssante.fr'], subject }));
    replies.push(go, ...(go.code === 354 ? [final] : []));
  }
  await c.quit();
  return replies;
}

test('milter stopped: Postfix temp-fails the submission (milter_default_action = tempfail); milter back: accepted again', async () => {
  const root = tmpDir();
  const [milterPort, smtpPort] = await freePorts(2);
  const config = path.join(root, 'config.yaml');
  fs.writeFileSync(
    config,
    [
      'operator: { name: CH Test, domains: [ch.mssante.fr], structureId: "1130000000", certificate: op.crt, key: op.key }',
      'trust: { dir: trust }',
      `milter: { enabled: true, listen: "inet:127.0.0.1:${milterPort}", timeouts: { handlerMs: 2000 } }`,
      '',
    ].join('\n'),
  );
  const postfix = new PostfixInstance({
    dir: path.join(root, 'postfix'),
    myhostname: 'mx.ch.test',
    services: [submissionListener(smtpPort)],
    virtualDomains: ['ch.mssante.fr'],
    main: mainPiecesForMilter(`inet:127.0.0.1:${milterPort}`),
  });
  started.push(postfix);

  let milter = serve(config);
  await Promise.all([postfix.start(), waitForOutput(milter, (o) => o.includes('milter listening'))]);

  // Up: accepted, and the accept-all handler logged the message with its queue id.
  const up = await send(smtpPort, 'while up');
  const final = up[up.length - 1];
  assert.equal(final?.code, 250, JSON.stringify(up));
  const queueId = /queued as ([0-9A-Z]+)/.exec(final?.text ?? '')?.[1];
  await waitForOutput(milter, (o) => o.includes(`"queueId":"${queueId}"`) && o.includes('message accepted by the milter'));

  // Down: SIGTERM, the process exits cleanly, Postfix cannot reach the milter.
  await milter.stop('SIGTERM');
  assert.equal(milter.child.exitCode, 0, milter.output());
  const queuedBefore = postfix.queue().length + postfix.delivered().length;
  const down = await send(smtpPort, 'while down');
  const refusal = down.find((r) => r.code >= 400);
  assert.ok(refusal, `expected a refusal while the milter is down, got ${JSON.stringify(down)}`);
  assert.equal(Math.floor(refusal.code / 100), 4, `temporary, not permanent: ${refusal.code} ${refusal.text}`);
  assert.match(refusal.text, /^4\.\d\.\d /);
  assert.ok(!down.some((r) => /queued as/.test(r.text)));
  assert.equal(postfix.queue().length + postfix.delivered().length, queuedBefore, 'nothing accepted unchecked');
  assert.match(postfix.maillog(), /connect to Milter service inet:127\.0\.0\.1:\d+: Connection refused/);

  // Back: accepted again, no Postfix restart needed.
  milter = serve(config);
  await waitForOutput(milter, (o) => o.includes('milter listening'));
  const back = await send(smtpPort, 'after restart');
  assert.equal(back[back.length - 1]?.code, 250, JSON.stringify(back));
  await postfix.waitFor((pf) => pf.delivered().length === queuedBefore + 1, 15_000, 'delivery after the milter came back');
});
