// Sender rights: a login may send as the mailbox it logged into and nothing else. The
// habilitation checked at login — this person may use this mailbox (EX_LPS_0900 step 8), this
// structure's certificate may use this application mailbox (EX_LPS_1200 step 5) — only
// means something if the message then goes out under that mailbox: in the envelope (MAIL
// FROM) and in the From: header the recipient reads. A delegate sends as the mailbox too.
import { headerMailboxes } from '../address.js';
import { refusal, shown, type Refusal } from '../refusal.js';

/**
 * MAIL FROM must be the login (case-insensitive). The null sender names no mailbox
 * (auto-replies, RFC 3834) and is allowed; the From: header check still applies to it.
 */
export function envelopeSender(login: string, sender: string): Refusal | undefined {
  if (sender === '' || sender.toLowerCase() === login) return undefined;
  return refusal(
    'sender-rights',
    553,
    '5.7.1',
    `Sender address ${shown(sender)} is not the mailbox you logged in as (${shown(login)}): send as ${shown(login)} only`,
    'EX_LPS_0900',
  );
}

/**
 * Every mailbox of every From: header must be the login. A message without From: is left to
 * the MTA; a From: whose address cannot be read is refused (it cannot be checked), and so is
 * a header section too large for the milter to keep whole (a From: could hide past the end).
 */
export function fromHeader(login: string, values: readonly string[], truncated = false): Refusal | undefined {
  if (truncated)
    return refusal('sender-rights', 550, '5.7.1', 'Too many headers for the From: header to be checked: the message cannot be sent', 'EX_LPS_0900');
  for (const value of values) {
    const boxes = headerMailboxes(value);
    if (boxes.length === 0)
      return refusal('sender-rights', 550, '5.7.1', `The From: header has no address that can be checked: it must name ${shown(login)}`, 'EX_LPS_0900');
    const other = boxes.find((b) => b !== login);
    if (other !== undefined)
      return refusal(
        'sender-rights',
        550,
        '5.7.1',
        `The From: header names ${shown(other)}, not the mailbox you logged in as (${shown(login)})`,
        'EX_LPS_0900',
      );
  }
  return undefined;
}
