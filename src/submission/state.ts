// What the rules learn about the message in progress, kept in the milter connection's state
// from MAIL to the end of the message (or its abandonment): the login and its mailbox, the
// recipients refused, and in monitor mode what would have been refused.
import type { SessionContext } from '../milter/handler.js';
import type { Bal } from '../registry/registry.js';
import type { SenderIdentity } from './identity.js';
import type { Verdict } from './record.js';
import type { Refusal } from './refusal.js';

export interface MessageFacts {
  sender: string;
  login?: string;
  bal?: Bal;
  identity?: SenderIdentity;
  refusedRecipients: Verdict[];
  wouldRefuse: Verdict[];
  /** Already traced (accepted, or refused as a whole). */
  traced: boolean;
  /**
   * Local submission (no LPS login: sendmail/pickup, a site's smtpd). Postfix cannot refuse
   * one recipient of non-SMTP mail, so a recipient's refusal waits in `deferred` and refuses
   * the whole message at the end of its headers.
   */
  local?: boolean;
  /** Local submission with the null sender: who sends is read from the From: header. */
  identityFromHeader?: boolean;
  deferred?: Refusal;
}

const KEY = 'submission';

export function startFacts(ctx: SessionContext, sender: string): MessageFacts {
  const facts: MessageFacts = { sender, refusedRecipients: [], wouldRefuse: [], traced: false };
  ctx.state.set(KEY, facts);
  return facts;
}

export function currentFacts(ctx: SessionContext): MessageFacts | undefined {
  return ctx.state.get(KEY) as MessageFacts | undefined;
}

/** The facts of the message that ended (or was abandoned), removed from the connection. */
export function takeFacts(ctx: SessionContext): MessageFacts | undefined {
  const facts = currentFacts(ctx);
  ctx.state.delete(KEY);
  return facts;
}
