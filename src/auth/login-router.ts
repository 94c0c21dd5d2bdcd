// One endpoint, two kinds of login: PSC tokens (XOAUTH2, OAUTHBEARER) go to the XOAUTH2
// checker (EX_LPS_0900), PLAIN/LOGIN with an AUTH-CLI front ticket to the ticket checker
// (EX_LPS_1200). Anything else is refused.
import type { LoginAttempt } from './checker.js';
import { fail, type CheckOutcome } from './outcome.js';

export interface LoginCheck {
  check(attempt: LoginAttempt): Promise<CheckOutcome>;
}

const PSC = new Set(['XOAUTH2', 'OAUTHBEARER']);
const PASSWORD = new Set(['PLAIN', 'LOGIN']);

export class LoginRouter implements LoginCheck {
  constructor(
    private readonly psc: LoginCheck,
    private readonly authCli: LoginCheck | undefined,
  ) {}

  check(attempt: LoginAttempt): Promise<CheckOutcome> {
    const mech = attempt.mechanism.toUpperCase();
    if (PSC.has(mech)) return this.psc.check(attempt);
    if (PASSWORD.has(mech) && this.authCli) return this.authCli.check(attempt);
    return Promise.resolve(fail('mechanism'));
  }
}
