// The submission steps of `make sandbox` on a machine without Postfix: they drive the rules
// through the milter protocol with the in-process MTA client, pass, and say which path ran.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { submissionChecks } from '../../sandbox/checks/submission-checks.js';
import { whitelistChecks } from '../../sandbox/checks/whitelist-checks.js';
import { runSelfCheck } from '../../sandbox/selfcheck.js';

test('EX_GBM_4420 EX_GBM_4410 EX_3.2_5060 RE_GBM_4420 EX_GBM_4010: without Postfix, the sandbox shows a submission refused for each rule through the milter protocol', async () => {
  process.env.MSS_SANDBOX_MTA = 'none';
  const lines: string[] = [];
  try {
    const report = await runSelfCheck({ steps: [whitelistChecks[0], ...submissionChecks].filter((s) => s !== undefined), out: (l) => lines.push(l) });
    assert.equal(report.failed, 0, lines.join('\n'));
  } finally {
    delete process.env.MSS_SANDBOX_MTA;
  }
  const text = lines.join('\n');
  assert.equal((text.match(/via the milter protocol \(in-process MTA client/g) ?? []).length, 11, text);
  for (const expected of [
    /452 4\.5\.3 Too many recipients/,
    /552 5\.3\.4 Message size/,
    /550 5\.7\.1 Not sent to patient@gmail\.com/,
    /553 5\.7\.1 Sender address/,
    /550 5\.7\.1 The From: header names/,
    /is suspended: it cannot send/,
    /may only exchange with test mailboxes/,
    /450 4\.7\.1 Sending limit reached/,
  ]) {
    assert.match(text, expected);
  }
});
