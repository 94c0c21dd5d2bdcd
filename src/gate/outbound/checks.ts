// What the outbound gate decides before anything leaves (EX_3.2_5060): sender and
// recipient domains in the liste blanche, the sender under this operator's own DN, and
// test BALs writing to test BALs only (EX_GBM_4010). A refusal here is a permanent LMTP
// answer for that recipient (or the whole message for the sender), so Postfix returns the
// message to its sender with the reason (EX_3.2_5060: "l'émetteur doit être notifié").
// Nothing else restricts mail to listed MSSanté domains (EX_3.2_5010).
import type { Registry } from '../../registry/registry.js';
import type { WhitelistIndex } from '../../whitelist/whitelist-index.js';
import { splitAddress } from '../address.js';
import type { OperatorIdentity } from '../deps.js';
import { looksLikeTestMailbox } from '../inbound/checks.js';
import { refusal, type Refusal } from '../reply.js';

export function checkOutboundSender(mailFrom: string, index: WhitelistIndex, operator: OperatorIdentity): Refusal | undefined {
  // Null sender: notifications our Postfix returns to remote senders; recipients are checked.
  if (mailFrom === '') return undefined;
  const { domain } = splitAddress(mailFrom);
  if (!domain || !index.hasDomain(domain)) {
    return refusal('GATE_OUT_SENDER_NOT_LISTED', 550, '5.7.1', `Not sent: sender domain ${domain || '(none)'} is not in the liste blanche MSSanté (EX_3.2_5060)`);
  }
  // Receiving connectors check MAIL FROM against our DN (§6.7.1.1 step 6): say it here, at once.
  if (!index.allows(operator.cert.subject, domain)) {
    return refusal(
      'GATE_OUT_SENDER_NOT_OURS',
      550,
      '5.7.1',
      `Not sent: the liste blanche MSSanté does not list sender domain ${domain} under this operator's certificate DN ${operator.dn}; receiving operators would refuse it (EX_3.2_5060)`,
    );
  }
  return undefined;
}

export function checkOutboundRecipient(rcpt: string, mailFrom: string, index: WhitelistIndex, registry: Registry): Refusal | undefined {
  const { domain } = splitAddress(rcpt);
  if (!domain || !index.hasDomain(domain)) {
    return refusal(
      'GATE_OUT_RCPT_NOT_LISTED',
      550,
      '5.7.1',
      `Not sent to <${rcpt}>: ${domain || 'its domain'} is not an MSSanté domain (not in the liste blanche MSSanté); MSSanté mailboxes exchange only with MSSanté domains (EX_3.2_5060)`,
    );
  }
  const sender = mailFrom ? registry.get(mailFrom) : undefined;
  if (sender?.test && !looksLikeTestMailbox(rcpt)) {
    return refusal('GATE_OUT_TEST_ONLY', 550, '5.7.1', `Not sent to <${rcpt}>: <${mailFrom}> is a test mailbox and exchanges only with test mailboxes (EX_GBM_4010)`);
  }
  return undefined;
}
