// Suspended and deleted mailboxes (§5.1.4, §5.5.1: a suspended BAL "ne peut plus émettre ni
// recevoir de messages"; RE_GBM_4420 suggests the RFC 3463 x.2.1 status for mail to one).
// The login was checked when the session began; a suspension since then still stops the
// next message.
import type { Bal } from '../../registry/registry.js';
import { refusal, shown, type Refusal } from '../refusal.js';

/** RE_GBM_4420: a suspended or deleted mailbox cannot send. */
export function senderStatus(bal: Bal): Refusal | undefined {
  if (bal.status === 'suspended')
    return refusal('mailbox-status', 550, '5.7.1', `Mailbox ${shown(bal.address)} is suspended: it cannot send messages (RE_GBM_4420)`, 'RE_GBM_4420');
  if (bal.status === 'deleted')
    return refusal('mailbox-status', 550, '5.7.1', `Mailbox ${shown(bal.address)} has been deleted: it cannot send messages`, 'RE_GBM_4420');
  return undefined;
}

/** RE_GBM_4420: one of our mailboxes that is suspended (x.2.1) or deleted (x.1.1) receives nothing. */
export function recipientStatus(bal: Bal | undefined): Refusal | undefined {
  if (bal?.status === 'suspended')
    return refusal('mailbox-status', 550, '5.2.1', `Mailbox ${shown(bal.address)} is suspended and does not accept messages (RE_GBM_4420)`, 'RE_GBM_4420');
  if (bal?.status === 'deleted') return refusal('mailbox-status', 550, '5.1.1', `Mailbox ${shown(bal.address)} has been deleted`, 'RE_GBM_4420');
  return undefined;
}
