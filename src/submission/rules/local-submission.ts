// Local submission is submission (issue #12): mail that enters Postfix on this host without
// the API LPS — the sendmail command (pickup, through non_smtpd_milters), a site's own smtpd
// — passes the same rules as the LPS's. It has no SASL login, so its identity comes from
// configuration: only the addresses of `submission.localSenders` may send it, each judged as
// if logged in as itself (EX_LPS_0900: a message goes out under the mailbox it was sent
// from, which must be allowed to send). The sender is the envelope's, or for the null
// sender (auto-replies, RFC 3834) the one mailbox of the From: header. Anything else is
// refused, naming the rule. The LPS submission service is recognised by the {daemon_name}
// Postfix gives the milter there (postfix/master.cf.d/20-submission.cf): a login is required
// on it, whatever the sender.
import type { MacroView } from '../../milter/macros.js';
import { headerMailboxes } from '../address.js';
import { refusal, shown, type Refusal } from '../refusal.js';

/** `milter_macro_daemon_name` of the LPS submission service (postfix/master.cf.d/20-submission.cf). */
export const LPS_SUBMISSION_DAEMON = 'mss-lps-submission';

/** Local submission: not the LPS submission service, and no SASL login. */
export function isLocalSubmission(macros: MacroView): boolean {
  return macros.get('daemon_name') !== LPS_SUBMISSION_DAEMON && !macros.get('auth_authen');
}

function refused(who: string): Refusal {
  return refusal(
    'local-submission',
    553,
    '5.7.1',
    `Local submission refused: ${who} may not send from this host without logging in (not in submission.localSenders); MSSante mail is sent through the API LPS with a login`,
    'EX_LPS_0900',
  );
}

/** The envelope sender of a local submission: the login it is judged as, or the refusal. */
export function localSender(allowed: readonly string[], sender: string): { login: string } | { refusal: Refusal } {
  const s = sender.toLowerCase();
  return allowed.includes(s) ? { login: s } : { refusal: refused(shown(sender)) };
}

/** The null sender's identity: the one mailbox of the From: header, if it is a local sender. */
export function localFromHeader(allowed: readonly string[], values: readonly string[]): { login: string } | { refusal: Refusal } {
  const boxes = [...new Set(values.flatMap((v) => headerMailboxes(v)))];
  if (boxes.length === 1 && allowed.includes(boxes[0] as string)) return { login: boxes[0] as string };
  return {
    refusal: refused(
      boxes.length === 0
        ? 'a message with the null sender and no From: address'
        : `a message with the null sender from ${boxes.map((b) => shown(b)).join(', ')}`,
    ),
  };
}
