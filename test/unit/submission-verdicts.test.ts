// judge(): the one place where a rule's refusal becomes the reply (enforce) or a warning
// (monitor), and the log line that says so.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import type { SessionContext } from '../../src/milter/handler.js';
import { refusal } from '../../src/submission/refusal.js';
import { judge } from '../../src/submission/verdicts.js';
import { captureLogger } from '../helpers/log.js';

const ctx = { queueId: 'Q1' } as SessionContext;
const refused = refusal(
  'trust-space',
  550,
  '5.7.1',
  'Not sent to x@gmail.com: domain gmail.com is not in the MSSante trust space (liste blanche)',
  'EX_3.2_5060',
);
const facts = () => ({ sender: 'a@ch.mssante.fr', login: 'a@ch.mssante.fr', refusedRecipients: [], wouldRefuse: [], traced: false });

test('EX_3.2_5060: an enforced refusal is logged at info with the rule, its reference, the queue id, the login, the sender and the recipient', () => {
  const { log, lines } = captureLogger('info');
  const judged = judge('enforce', log, ctx, facts(), 'recipient x@gmail.com', [undefined, refused], 'x@gmail.com');
  assert.equal(judged.enforced, refused);
  assert.equal(lines.length, 1);
  const line = JSON.parse(lines[0] ?? '{}') as Record<string, unknown>;
  assert.deepEqual(
    {
      level: line.level,
      rule: line.rule,
      ref: line.ref,
      queueId: line.queueId,
      login: line.login,
      sender: line.sender,
      recipient: line.recipient,
      msg: line.msg,
    },
    {
      level: 30,
      rule: 'trust-space',
      ref: 'EX_3.2_5060',
      queueId: 'Q1',
      login: 'a@ch.mssante.fr',
      sender: 'a@ch.mssante.fr',
      recipient: 'x@gmail.com',
      msg: 'refused recipient x@gmail.com: 550 5.7.1 Not sent to x@gmail.com: domain gmail.com is not in the MSSante trust space (liste blanche)',
    },
  );
});

test('issue 20: a logger at warn is not asked to write the info line of an enforced refusal (its fields and text are not built); monitor mode still warns', () => {
  const log = pino({ level: 'warn' }, { write: () => undefined });
  const calls = { info: 0, warn: 0 };
  const info = log.info.bind(log);
  const warn = log.warn.bind(log);
  log.info = ((...a: Parameters<typeof info>) => (calls.info++, info(...a))) as typeof log.info;
  log.warn = ((...a: Parameters<typeof warn>) => (calls.warn++, warn(...a))) as typeof log.warn;
  assert.equal(judge('enforce', log, ctx, facts(), 'recipient x@gmail.com', [refused], 'x@gmail.com').enforced, refused);
  assert.equal(calls.info, 0);
  const f = facts();
  assert.equal(judge('monitor', log, ctx, f, 'recipient x@gmail.com', [refused], 'x@gmail.com').enforced, undefined);
  assert.equal(calls.warn, 1);
  assert.equal(f.wouldRefuse.length, 1);
});
