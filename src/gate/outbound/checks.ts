// What the outbound gate decides before anything leaves. Its own rule (EX_3.2_5060): the
// sender's domain is in the liste blanche under this operator's own DN. Then, as a defence in
// depth for mail that reached Postfix by a door where the milter did not judge it, the
// submission rules themselves — the same functions the milter calls (src/submission/rules),
// so each rule has one implementation: the sender is one of our mailboxes and may send
// (RE_GBM_4420), at most 40 recipients (EX_GBM_4420), every recipient domain in the liste
// blanche (EX_3.2_5060), test mailboxes with test mailboxes (EX_GBM_4010). A refusal is a
// permanent LMTP answer for that recipient (or the whole message for the sender), so Postfix
// returns the message to its sender with the reason (EX_3.2_5060: "l'émetteur doit être
// notifié"). Nothing else restricts mail to listed MSSanté domains (EX_3.2_5010).
import type { Registry } from '../../registry/registry.js';
import { splitAddress } from '../../submission/address.js';
import { permanentForPostfix, type Refusal as RuleRefusal } from '../../submission/refusal.js';
import { ourMailbox } from '../../submission/rules/authentication.js';
import { senderStatus } from '../../submission/rules/mailbox-status.js';
import { recipientCount } from '../../submission/rules/recipient-limit.js';
import { testExchange } from '../../submission/rules/test-mailbox.js';
import { recipientDomain } from '../../submission/rules/trust-space.js';
import type { WhitelistIndex } from '../../whitelist/whitelist-index.js';
import type { OperatorIdentity } from '../deps.js';
import { refusal, type Refusal } from '../reply.js';

/**
 * A submission rule's refusal as the gate answers it, with the gate's stable reason code;
 * Postfix is the client here (permanentForPostfix).
 */
function asGateRefusal(r: RuleRefusal, reason: string): Refusal {
  const p = permanentForPostfix(r);
  return refusal(reason, p.code, p.enhanced, p.text);
}

export function checkOutboundSender(mailFrom: string, index: WhitelistIndex, operator: OperatorIdentity, registry: Registry): Refusal | undefined {
  // Null sender: notifications our Postfix returns to remote senders; recipients are checked.
  if (mailFrom === '') return undefined;
  const { domain } = splitAddress(mailFrom);
  if (!domain || !index.hasDomain(domain)) {
    return refusal(
      'GATE_OUT_SENDER_NOT_LISTED',
      550,
      '5.7.1',
      `Not sent: sender domain ${domain || '(none)'} is not in the liste blanche MSSanté (EX_3.2_5060)`,
    );
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
  // EX_LPS_0900, RE_GBM_4420: one of our mailboxes, allowed to send (suspended, deleted: not).
  const mine = ourMailbox(registry, mailFrom, 'sender');
  if ('refusal' in mine) return asGateRefusal(mine.refusal, 'GATE_OUT_SENDER_UNKNOWN');
  const status = senderStatus(mine.bal);
  return status ? asGateRefusal(status, 'GATE_OUT_SENDER_SUSPENDED') : undefined;
}

/** `accepted`: recipients of this message the gate already accepted. */
export function checkOutboundRecipient(
  rcpt: string,
  mailFrom: string,
  accepted: number,
  maxRecipients: number,
  index: WhitelistIndex,
  registry: Registry,
): Refusal | undefined {
  // EX_GBM_4420: more than 40 recipients never leave (the milter's limit, made permanent).
  const count = recipientCount(accepted, maxRecipients);
  if (count) return asGateRefusal(count, 'GATE_OUT_TOO_MANY_RECIPIENTS');
  const { local, domain } = splitAddress(rcpt);
  const ours = domain !== '' && registry.isOurDomain(domain);
  // EX_3.2_5060: the recipient domain is ours or listed, as the milter judges it.
  const listed = recipientDomain({ isOurDomain: (d) => registry.isOurDomain(d), list: () => index }, rcpt, domain);
  if (listed) return asGateRefusal(listed, 'GATE_OUT_RCPT_NOT_LISTED');
  const sender = mailFrom ? registry.get(mailFrom) : undefined;
  // EX_GBM_4010: a test mailbox of ours writes to test mailboxes only.
  const test = sender ? testExchange(sender, { address: rcpt, local, ours, bal: ours ? registry.get(rcpt) : undefined }) : undefined;
  return test ? asGateRefusal(test, 'GATE_OUT_TEST_ONLY') : undefined;
}
