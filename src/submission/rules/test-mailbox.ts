// EX_GBM_4010: a test mailbox exchanges only with test mailboxes — ours (the registry's
// `test: true`) and other operators' (recognisable only by "test" in the local part,
// EX_GBM_4000). Both directions are enforced where we can know: a test mailbox sending to a
// non-test one, and one of our non-test mailboxes sending to one of our test mailboxes. A
// remote address whose name says "test" is not assumed to be a test mailbox when a real
// mailbox writes to it (a person may be called Testard).
import { localPartSaysTest } from '../../registry/names.js';
import type { Bal } from '../../registry/registry.js';
import { refusal, shown, type Refusal } from '../refusal.js';

export interface RecipientFacts {
  address: string;
  local: string;
  /** The recipient is in one of our domains. */
  ours: boolean;
  /** Our registry's entry for it, if any. */
  bal: Bal | undefined;
}

export function testExchange(sender: Bal, rcpt: RecipientFacts): Refusal | undefined {
  const rcptIsTest = rcpt.ours ? rcpt.bal?.test === true : localPartSaysTest(rcpt.local);
  if (sender.test && !rcptIsTest) {
    return refusal(
      'test-mailbox',
      550,
      '5.7.1',
      `Not sent to ${shown(rcpt.address)}: test mailbox ${shown(sender.address)} may only exchange with test mailboxes (EX_GBM_4010)`,
      'EX_GBM_4010',
    );
  }
  if (!sender.test && rcpt.ours && rcptIsTest) {
    return refusal(
      'test-mailbox',
      550,
      '5.7.1',
      `Not sent to ${shown(rcpt.address)}: it is a test mailbox, which only exchanges with test mailboxes (EX_GBM_4010)`,
      'EX_GBM_4010',
    );
  }
  return undefined;
}
