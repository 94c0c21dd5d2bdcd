// The login the message is sent under. Submission is for authenticated MSSanté mailboxes
// only: the SASL username is the mailbox (XOAUTH2 `user=`, EX_LPS_0900 step 3; the PLAIN
// login of the AUTH-CLI entry point, EX_LPS_1200 step 3), and it must be one of this
// operator's mailboxes. The milter checks this itself, whatever the Postfix service's own
// restrictions say, so a service configured without SASL restrictions cannot relay. The
// outbound gate applies the same "one of our mailboxes" rule to the envelope sender (a
// message that reached it by another door than the milter's).
import type { Bal, Registry } from '../../registry/registry.js';
import { refusal, shown, type Refusal } from '../refusal.js';

export type LoginCheck = { ok: true; login: string; bal: Bal } | { ok: false; refusal: Refusal; login?: string };

/** EX_LPS_0900: `address` (a login, or a sender) must be a mailbox of this operator's registry. */
export function ourMailbox(registry: Registry, address: string, as: 'login' | 'sender'): { bal: Bal } | { refusal: Refusal } {
  const bal = registry.get(address);
  if (bal) return { bal };
  const text =
    as === 'login'
      ? `Login ${shown(address)} is not an MSSante mailbox of this operator: it cannot send here`
      : `Sender ${shown(address)} is not an MSSante mailbox of this operator: it cannot send through this operator`;
  return { refusal: refusal('authentication', 553, '5.7.1', text, 'EX_LPS_0900') };
}

export function checkLogin(rawLogin: string | undefined, registry: Registry): LoginCheck {
  const login = rawLogin?.trim().toLowerCase() ?? '';
  if (login === '') {
    return {
      ok: false,
      refusal: refusal('authentication', 530, '5.7.0', 'Authentication required: log in with the MSSante mailbox you send from', 'EX_LPS_0900'),
    };
  }
  const mine = ourMailbox(registry, login, 'login');
  return 'bal' in mine ? { ok: true, login, bal: mine.bal } : { ok: false, login, refusal: mine.refusal };
}
