// One endpoint, two kinds of login: a ticket of one of our fronts (the AUTH-CLI fronts over
// PLAIN, EX_LPS_1200; the PSC submission front over XOAUTH2, EX_LPS_0900) goes to the
// ticket checker, whatever the mechanism (it checks that the mechanism fits the ticket);
// other PSC tokens (XOAUTH2, OAUTHBEARER) go to the XOAUTH2 checker. Anything else is refused.
import type { LoginAttempt } from './checker.js';
import { fail, type CheckOutcome } from './outcome.js';
import { TICKET_PREFIX } from './tickets.js';

export interface LoginCheck {
  check(attempt: LoginAttempt): Promise<CheckOutcome>;
}

const PSC = new Set(['XOAUTH2', 'OAUTHBEARER']);
const TICKET = new Set([...PSC, 'PLAIN', 'LOGIN']);

export class LoginRouter implements LoginCheck {
  constructor(
    private readonly psc: LoginCheck,
    private readonly tickets: LoginCheck | undefined,
  ) {}

  check(attempt: LoginAttempt): Promise<CheckOutcome> {
    const mech = attempt.mechanism.toUpperCase();
    if (this.tickets && TICKET.has(mech) && attempt.token.startsWith(TICKET_PREFIX)) return this.tickets.check(attempt);
    if (PSC.has(mech)) return this.psc.check(attempt);
    return Promise.resolve(fail('mechanism'));
  }
}
