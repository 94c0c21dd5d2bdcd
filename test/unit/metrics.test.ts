// /metrics counts what the traces record (health/metrics.ts): refusals by the requirement
// the reply cites, temporary or permanent, and what monitor mode would have refused; the
// traces are written by the gates' and the submission's own recorders.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { traceDecision } from '../../src/gate/record.js';
import { refusal } from '../../src/gate/reply.js';
import { DaemonMetrics } from '../../src/health/metrics.js';
import { instruments } from '../../src/health/instruments.js';
import { silentLogger } from '../../src/log.js';
import { MessageRecorder } from '../../src/submission/record.js';
import { Journal } from '../../src/journal/journal.js';
import { EmbeddedStore } from '../../src/store/embedded.js';
import { TraceLog } from '../../src/traces/trace-log.js';
import { tmpDir } from '../helpers/tmp.js';

async function value(m: DaemonMetrics, series: string): Promise<number | undefined> {
  const line = (await m.registry.metrics()).split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

test('EX_SSI_5120: refusals are counted by the requirement their reply cites (gates and submission), 4xx as temporary, monitor mode apart; remote replies relayed are not ours', async () => {
  const dir = tmpDir();
  const traces = new TraceLog(path.join(dir, 'traces'));
  const m = new DaemonMetrics({ monitorMode: true });
  traces.observe((t) => m.onTrace(t));
  const ctx = { service: 'gate-in' as const, peer: 'CN=x', address: '192.0.2.1:25' };
  traceDecision(
    traces,
    silentLogger,
    ctx,
    { step: 'MAIL' },
    refusal('GATE_SENDER_DOMAIN_NOT_LISTED', 550, '5.7.1', 'Sender domain x.fr is not in the liste blanche MSSanté (EX_3.1_5030)'),
  );
  traceDecision(
    traces,
    silentLogger,
    ctx,
    { step: 'MAIL' },
    refusal('GATE_SENDER_DOMAIN_NOT_LISTED', 550, '5.7.1', 'Sender domain y.fr is not in the liste blanche MSSanté (EX_3.1_5030)'),
  );
  traceDecision(traces, silentLogger, ctx, { step: 'RCPT' }, refusal('GATE_NO_WHITELIST', 451, '4.7.0', 'no verified liste blanche'));
  traceDecision(
    traces,
    silentLogger,
    { ...ctx, service: 'gate-out' },
    { step: 'DATA', outcome: 'bounced' },
    { code: 550, enhanced: '5.1.1', text: 'unknown user' },
    { id: 'Q1', from: 'a@x', to: ['b@y'] },
  );
  traceDecision(traces, silentLogger, ctx, { step: 'DATA' }, { code: 250, enhanced: '2.0.0', text: 'Ok' }, { id: 'Q2', from: 'a@x', to: ['b@y'] });
  const recorder = new MessageRecorder(new Journal(new EmbeddedStore(path.join(dir, 'store'))), traces, silentLogger);
  const facts = { sender: 'a@ch.mssante.fr', recipients: ['b@autre.mssante.fr'], refusedRecipients: [], wouldRefuse: [] };
  recorder.refused(facts, refusal('recipient-limit', 452, '4.5.3', 'Too many recipients: 40 at most (EX_GBM_4420)', 'EX_GBM_4420'));
  // Monitor mode: the message goes through, with what the rules would have refused.
  await recorder.accepted(
    { ...facts, mailId: 'Q3', size: 10, wouldRefuse: [{ rule: 'trust-space', ref: 'EX_3.2_5060', reply: '550 5.7.1 not listed (EX_3.2_5060)' }] },
    new Date(),
  );
  traces.close();

  assert.equal(await value(m, 'mss_refusals_total{service="gate-in",requirement="EX_3.1_5030",kind="permanent"}'), 2);
  assert.equal(await value(m, 'mss_refusals_total{service="gate-in",requirement="none",kind="temporary"}'), 1);
  assert.equal(await value(m, 'mss_refusals_total{service="submission",requirement="EX_GBM_4420",kind="temporary"}'), 1);
  assert.equal(await value(m, 'mss_refusals_total{service="submission",requirement="EX_3.2_5060",kind="monitor"}'), 1);
  assert.equal(await value(m, 'mss_messages_total{service="gate-out",outcome="bounced"}'), 1, 'a remote bounce is an outcome');
  assert.equal(await value(m, 'mss_refusals_total{service="gate-out",requirement="none",kind="permanent"}'), undefined, '...not a refusal of ours');
  assert.equal(await value(m, 'mss_messages_total{service="gate-in",outcome="accepted"}'), 1);
  assert.equal(await value(m, 'mss_messages_total{service="submission",outcome="accepted"}'), 1);
  assert.equal(await value(m, 'mss_submission_monitor_mode'), 1);
});

test('EX_SSI_5120: PSC and gate timings and store errors reach the metrics of the process listening', async () => {
  const m = new DaemonMetrics({ monitorMode: false });
  const stop = instruments.listen(m);
  instruments.pscRequest('userinfo', 'ok', 0.12);
  instruments.pscRequest('userinfo', 'HTTP_TIMEOUT', 5);
  instruments.gateDuration('in', 0.3);
  instruments.storeError('redis');
  stop();
  instruments.storeError('redis'); // no longer listening
  assert.equal(await value(m, 'mss_psc_request_duration_seconds_count{endpoint="userinfo",outcome="ok"}'), 1);
  assert.equal(await value(m, 'mss_psc_request_duration_seconds_bucket{le="0.25",endpoint="userinfo",outcome="ok"}'), 1);
  assert.equal(await value(m, 'mss_psc_request_duration_seconds_count{endpoint="userinfo",outcome="HTTP_TIMEOUT"}'), 1);
  assert.equal(await value(m, 'mss_gate_duration_seconds_count{gate="in"}'), 1);
  assert.equal(await value(m, 'mss_store_errors_total{backend="redis"}'), 1);
});

test('EX_SSI_5120 EX_3.2_5060: recipients the submission rules refuse at RCPT count as refusals, whether the message then goes on or is given up (which is no refusal of its own); a folded refused login counts its repetitions', async () => {
  const dir = tmpDir();
  const traces = new TraceLog(path.join(dir, 'traces'));
  const m = new DaemonMetrics({ monitorMode: false });
  traces.observe((t) => m.onTrace(t));
  const recorder = new MessageRecorder(new Journal(new EmbeddedStore(path.join(dir, 'store'))), traces, silentLogger);
  const outside = {
    rule: 'trust-space',
    ref: 'EX_3.2_5060',
    reply: '550 5.7.1 <p@gmail.com>: gmail.com is not in the MSSante trust space (EX_3.2_5060)',
    recipient: 'p@gmail.com',
  };
  const facts = { sender: 'a@ch.mssante.fr', recipients: ['b@autre.mssante.fr'], refusedRecipients: [outside], wouldRefuse: [] };
  await recorder.accepted({ ...facts, mailId: 'Q1', size: 10 }, new Date());
  recorder.refused({ ...facts, recipients: [] }, 'transaction abandoned before the end of the message');
  const login = (response: { ok: boolean; code?: string; repeated?: number }) =>
    traces.write({
      action: 'login',
      actor: { id: 'x', kind: 'user' },
      bal: 'a@ch.mssante.fr',
      means: { service: 'imap', authType: 'PSC/XOAUTH2' },
      request: {},
      response,
    });
  login({ ok: false, code: 'token-invalid' });
  login({ ok: false, code: 'token-invalid', repeated: 4 }); // the end of the fold window: 4 more
  traces.close();
  assert.equal(await value(m, 'mss_refusals_total{service="submission",requirement="EX_3.2_5060",kind="permanent"}'), 2);
  assert.equal(await value(m, 'mss_refusals_total{service="submission",requirement="none",kind="permanent"}'), undefined, 'giving up is not a refusal');
  assert.equal(await value(m, 'mss_messages_total{service="submission",outcome="accepted"}'), 1);
  assert.equal(await value(m, 'mss_logins_total{method="PSC/XOAUTH2",result="fail"}'), 5);
});
