// The login the message is sent under. Submission is for authenticated MSSanté mailboxes
// only: the SASL username is the mailbox (XOAUTH2 `user=`, EX_LPS_0900 step 3; the PLAIN
// login of the AUTH-CLI entry point, EX_LPS_1200 step 3), and it must be one of this
// operator's mailboxes. The milter checks this itself, whatever the Postfix service's own
// restrictions say, so a service configured without SASL restrictions cannot relay.
import type { Bal, Registry } from '../../registry/registry.js';
import { refusal, shown, type Refusal } from '../refusal.js';

export type LoginCheck = { ok: true; login: string; bal: Bal } | { ok: false; refusal: Refusal; login?: string };

export function checkLogin(rawLogin: string | undefined, registry: Registry): LoginCheck {
  const login = rawLogin?.trim().toLowerCase() ?? '';
  if (login === '') {
    return { ok: false, refusal: refusal('authentication', 'EX_LPS_0900', 530, '5.7.0', 'Authentication required: log in with the MSSante mailbox you send from') };
  }
  const bal = registry.get(login);
  if (!bal) {
    return { ok: false, login, refusal: refusal('authentication', 'EX_LPS_0900', 553, '5.7.1', `Login ${shown(login)} is not an MSSante mailbox of this operator: it cannot send here`) };
  }
  return { ok: true, login, bal };
}
