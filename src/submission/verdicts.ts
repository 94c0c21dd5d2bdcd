// Enforce or monitor: one place decides what a rule's refusal does. In enforce mode it
// becomes the SMTP reply and an info log line; in monitor mode a warning "would refuse …"
// and nothing for the client — every rule goes through here, so monitor mode covers all.
import { decide, type Decision, type SessionContext } from '../milter/handler.js';
import type { Logger } from '../log.js';
import { replyLine, type Refusal } from './refusal.js';
import { verdict } from './record.js';
import type { MessageFacts } from './state.js';

export type Mode = 'enforce' | 'monitor';

export interface Judged {
  decision: Decision | undefined;
  /** The refusal enforced, if any. */
  enforced: Refusal | undefined;
}

const PASS: Judged = { decision: undefined, enforced: undefined };

/**
 * `refusals`: each rule's answer for this step, in order; the first one is enforced. In
 * monitor mode every one is logged and remembered for the trace.
 */
export function judge(
  mode: Mode,
  log: Logger,
  ctx: SessionContext,
  facts: MessageFacts | undefined,
  what: string,
  refusals: ReadonlyArray<Refusal | undefined>,
  recipient?: string,
): Judged {
  let first: Refusal | undefined;
  for (const r of refusals) {
    if (!r) continue;
    if (mode === 'monitor') {
      log.warn({ ...logFields(ctx, facts, r, recipient), mode }, `would refuse ${what}: ${replyLine(r)}`);
      facts?.wouldRefuse.push(verdict(r, recipient));
      continue;
    }
    first = r;
    // The info line's fields and text are built only when it is written (issue 20: a site
    // logging at warn, as the bench's milter does, builds none for its refused recipients).
    if (log.isLevelEnabled('info')) log.info(logFields(ctx, facts, r, recipient), `refused ${what}: ${replyLine(r)}`);
    break;
  }
  if (!first) return PASS;
  return { decision: decide.reply(first.code, first.enhanced, first.text), enforced: first };
}

/** What a refusal's log line carries. */
function logFields(ctx: SessionContext, facts: MessageFacts | undefined, r: Refusal, recipient: string | undefined): Record<string, unknown> {
  return {
    rule: r.reason,
    ref: r.ref,
    queueId: ctx.queueId,
    login: facts?.login,
    sender: facts?.sender,
    ...(recipient !== undefined ? { recipient } : {}),
  };
}
