// The Référentiel's sending rules as a milter handler, each at the first SMTP step where it
// can be decided (so the client is told as early as possible, and one recipient can be
// refused while the others pass):
//   MAIL  authentication (or, for local submission, the configured local senders),
//         mailbox status (RE_GBM_4420), sender rights (MAIL FROM), sender
//         domain (EX_3.2_5060), declared SIZE= (EX_GBM_4410), rate limit (§5.4.3)
//   RCPT  recipient count (EX_GBM_4420), recipient domain (EX_3.2_5060), our recipient's
//         status (RE_GBM_4420), test mailboxes (EX_GBM_4010)
//   EOM   what the headers decide — sender rights (From: header); for local submission,
//         the null sender's identity (From:) and any recipient refusal, which refuses the
//         whole message there —, then the actual size (EX_GBM_4410); then the message is
//         recorded (journal + trace)
// The headers are judged at end of message, not at end of headers (issue 20): the client
// hears the verdict after its final dot either way (Postfix's cleanup reads the rest of the
// message and discards it), and without an `eoh` callback Postfix does not wait for a reply
// at end of headers — one round trip fewer per message (docs/submission.md, "Steps").
// Each rule lives in ./rules/ and is enforced from here only.
import type { Logger } from '../log.js';
import { decide, type Decision, type EomContext, type MilterHandler, type SessionContext } from '../milter/handler.js';
import type { Activity } from '../registry/activity.js';
import type { Registry } from '../registry/registry.js';
import { splitAddress } from './address.js';
import type { SubmissionConfig } from './config.js';
import { senderIdentity } from './identity.js';
import { verdict, type MessageRecorder, type SubmissionFacts } from './record.js';
import { permanentForPostfix, refusal, type Refusal } from './refusal.js';
import { checkLogin } from './rules/authentication.js';
import { isLocalSubmission, localFromHeader, localSender } from './rules/local-submission.js';
import { recipientStatus, senderStatus } from './rules/mailbox-status.js';
import { actualSize, declaredSize } from './rules/message-size.js';
import type { RateLimiter } from './rules/rate-limit.js';
import { recipientCount } from './rules/recipient-limit.js';
import { envelopeSender, fromHeader } from './rules/sender-rights.js';
import { testExchange } from './rules/test-mailbox.js';
import { recipientDomain, senderDomain, type TrustSpace } from './rules/trust-space.js';
import { currentFacts, startFacts, takeFacts, type MessageFacts } from './state.js';
import { judge } from './verdicts.js';

/** EX_GDT_5050, EX_PSU_5830: a message whose journal event or trace cannot be written is not accepted. */
const NOT_RECORDED = refusal('recording', 451, '4.3.0', 'The message could not be recorded (traces, statistics): not accepted, try again later', 'EX_GDT_5050');
/** The client gave up the transaction (RSET, QUIT) after some recipients were refused. */
const ABANDONED = 'transaction abandoned before the end of the message';

export interface SubmissionDeps {
  config: SubmissionConfig;
  registry: () => Registry;
  space: TrustSpace;
  recorder: MessageRecorder;
  rateLimiter: RateLimiter;
  /** Last exchange of APP mailboxes (RE_SSU_5800, Connexions statistics). */
  activity?: Activity;
  log: Logger;
  now?: () => Date;
}

/**
 * Header values as recorded: folding undone, bounded — X-MSS-* at 255 characters (the
 * Echanges columns), Subject and client names at a header line's 998.
 */
function headerValue(ctx: SessionContext, name: string, max = 998): string | undefined {
  const v = ctx.message.header(name);
  if (v === undefined) return undefined;
  // Most values are on one line: no regular expression for them (issue 20).
  const clean = (v.includes('\n') ? v.replace(/\r?\n[ \t]*/g, ' ') : v).trim();
  return clean.length > max ? clean.slice(0, max) : clean;
}

/** The facts recorded for a message; `recipients`: those accepted (default: the message's). */
function factsOf(ctx: SessionContext, facts: MessageFacts, recipients?: readonly string[]): SubmissionFacts {
  // Assigned one by one, absent fields left out (no object spreads: issue 20, once per message).
  const f: SubmissionFacts = {
    sender: facts.sender,
    recipients: recipients ?? ctx.message.recipients.map((r) => r.address),
    refusedRecipients: facts.refusedRecipients,
    wouldRefuse: facts.wouldRefuse,
  };
  const queueId = ctx.queueId;
  if (queueId) f.mailId = queueId;
  if (facts.identity) f.identity = facts.identity;
  const client = ctx.macros.get('client_addr') ?? ctx.client?.address;
  if (client) f.client = client;
  const subject = headerValue(ctx, 'Subject');
  if (subject !== undefined) f.subject = subject;
  const ins = headerValue(ctx, 'X-MSS-INS', 255);
  if (ins !== undefined) f.ins = ins;
  const codeCda = headerValue(ctx, 'X-MSS-CODECDA', 255);
  if (codeCda !== undefined) f.codeCda = codeCda;
  const nil = headerValue(ctx, 'X-MSS-NIL', 255);
  if (nil !== undefined) f.nil = nil;
  const userAgent = headerValue(ctx, 'User-Agent') ?? headerValue(ctx, 'X-Mailer');
  if (userAgent !== undefined) f.userAgent = userAgent;
  return f;
}

export function submissionHandler(deps: SubmissionDeps): MilterHandler {
  const { config, space, recorder, rateLimiter, log } = deps;
  const mode = config.mode;
  const now = deps.now ?? (() => new Date());

  /** A transaction abandoned after recipients were refused: trace the refusals now. */
  const flush = (ctx: SessionContext): void => {
    const facts = takeFacts(ctx);
    if (facts && !facts.traced && (facts.refusedRecipients.length > 0 || facts.wouldRefuse.length > 0)) {
      recorder.refused(factsOf(ctx, facts, []), ABANDONED);
    }
  };

  /** A whole-message refusal: traced at once. */
  const refusedMessage = (ctx: SessionContext, facts: MessageFacts, r: Refusal): void => {
    facts.traced = true;
    recorder.refused(factsOf(ctx, facts), r);
  };

  /**
   * What the headers decide, in order: a recipient refusal deferred from RCPT (local
   * submission), the null sender's identity from its From: (local submission), and the
   * sender rights over every From: mailbox.
   */
  const headerRefusals = (ctx: SessionContext, facts: MessageFacts): Array<Refusal | undefined> => {
    const refusals: Array<Refusal | undefined> = [facts.deferred];
    if (facts.identityFromHeader) {
      const registry = deps.registry();
      // The null sender of a local submission: the From: mailbox, if it is a local sender.
      const who = localFromHeader(config.localSenders, ctx.message.headerAll('From'));
      const login = 'login' in who ? checkLogin(who.login, registry) : undefined;
      if ('refusal' in who) refusals.push(who.refusal);
      else if (login && !login.ok) refusals.push(login.refusal);
      else if (login?.ok) {
        const bal = login.bal;
        facts.login = login.login;
        facts.bal = bal;
        facts.identity = senderIdentity(registry, bal, login.login, 'local');
        refusals.push(senderStatus(bal));
        for (const r of ctx.message.recipients) {
          const { local, domain } = splitAddress(r.address);
          const ours = domain !== '' && space.isOurDomain(domain);
          refusals.push(testExchange(bal, { address: r.address, local, ours, bal: ours ? registry.get(r.address) : undefined }));
        }
      }
    }
    if (facts.login) refusals.push(fromHeader(facts.login, ctx.message.headerAll('From'), ctx.message.headersTruncated));
    return refusals;
  };

  /** EX_PSU_5830, EX_GDT_5050: the journal event or the trace was not written: temp-failed, and the refusal traced. */
  const notRecorded = (f: SubmissionFacts, facts: MessageFacts, err: unknown): Decision => {
    log.error({ err, queueId: f.mailId, sender: facts.sender, login: facts.login }, 'message temp-failed: its journal event or trace could not be written');
    recorder.refused(f, NOT_RECORDED);
    return decide.reply(NOT_RECORDED.code, NOT_RECORDED.enhanced, NOT_RECORDED.text);
  };

  /** The message is recorded: it goes on (continue), counted for the rate limit and the APP mailboxes' last exchange. */
  const recorded = (facts: MessageFacts, f: SubmissionFacts, at: Date): undefined => {
    facts.traced = true;
    void rateLimiter.count(facts.sender || facts.login || '', f.recipients.length);
    recordExchanges(deps, facts, f.recipients, at);
    return undefined;
  };

  return {
    // No header is added: see docs/submission.md ("Message events", no trace header).
    addsHeaders: false,

    mail(ctx, sender) {
      flush(ctx);
      const facts = startFacts(ctx, sender.address);
      const registry = deps.registry();
      const refusals: Array<Refusal | undefined> = [];
      const who = loginOf(ctx, sender.address, config.localSenders);
      facts.local = who.local;
      if ('refusal' in who) refusals.push(who.refusal);
      else if (who.login === undefined && who.local) facts.identityFromHeader = true;
      else {
        const login = checkLogin(who.login, registry);
        if (login.ok) {
          facts.login = login.login;
          facts.bal = login.bal;
          facts.identity = senderIdentity(registry, login.bal, login.login, who.authType);
          refusals.push(senderStatus(login.bal), envelopeSender(login.login, sender.address));
        } else {
          if (login.login) facts.login = login.login;
          refusals.push(login.refusal);
        }
      }
      refusals.push(senderDomain(space, sender.address, splitAddress(sender.address).domain), declaredSize(sender.params.SIZE, config.maxMessageBytes));
      const judged = judge(mode, log, ctx, facts, `message from ${sender.address || '<>'}`, refusals);
      if (judged.enforced) {
        refusedMessage(ctx, facts, judged.enforced);
        return judged.decision;
      }
      if (!rateLimiter.limited(sender.address || facts.login || '')) return undefined;
      return rateLimiter.check(sender.address || facts.login || '').then((r) => {
        const rate = judge(mode, log, ctx, facts, `message from ${sender.address || '<>'}`, [r]);
        if (rate.enforced) refusedMessage(ctx, facts, rate.enforced);
        return rate.decision;
      });
    },

    rcpt(ctx, rcpt) {
      const facts = currentFacts(ctx) ?? startFacts(ctx, ctx.message.sender?.address ?? '');
      const registry = deps.registry();
      const { local, domain } = splitAddress(rcpt.address);
      const ours = domain !== '' && space.isOurDomain(domain);
      const bal = ours ? registry.get(rcpt.address) : undefined;
      const judged = judge(
        mode,
        log,
        ctx,
        facts,
        `recipient ${rcpt.address}`,
        [
          recipientCount(ctx.message.recipients.length, config.maxRecipients),
          recipientDomain(space, rcpt.address, domain),
          recipientStatus(bal),
          facts.bal ? testExchange(facts.bal, { address: rcpt.address, local, ours, bal }) : undefined,
        ],
        rcpt.address,
      );
      if (judged.enforced) facts.refusedRecipients.push(verdict(judged.enforced, rcpt.address));
      if (judged.enforced && facts.local) {
        // Postfix cannot refuse one recipient of non-SMTP mail: the whole message, at its end.
        facts.deferred ??= permanentForPostfix(judged.enforced);
        return undefined;
      }
      return judged.decision;
    },

    eom(ctx: EomContext) {
      const facts = takeFacts(ctx) ?? { sender: ctx.message.sender?.address ?? '', refusedRecipients: [], wouldRefuse: [], traced: false };
      const size = ctx.message.size;
      // The headers' refusals first, then the size: the order in which they were enforced
      // when the headers were judged at their end (docs/submission.md, "Steps").
      const refusals = headerRefusals(ctx, facts);
      refusals.push(actualSize(size, config.maxMessageBytes));
      const judged = judge(mode, log, ctx, facts, `message from ${facts.sender || '<>'}`, refusals);
      if (judged.enforced) {
        refusedMessage(ctx, facts, judged.enforced);
        return judged.decision;
      }
      const mailId = ctx.queueId;
      const at = now();
      const f = factsOf(ctx, facts);
      f.size = size;
      let recording: Promise<void> | undefined;
      try {
        if (!mailId) throw new Error('Postfix sent no queue id (macro i) at end of message');
        // EX_PSU_5830, EX_GDT_5050: nothing is accepted unrecorded (the statistics and the
        // traces need every message): the decision is returned only once the journal event
        // and the trace are written. With the embedded store both are written before
        // acceptedNow returns, and the decision leaves in the turn that received the end of
        // message (issue 20: no promise, deadline or resumed pass per message); with Redis,
        // once the append resolves.
        recording = recorder.acceptedNow(f as SubmissionFacts & { mailId: string; size: number }, at);
      } catch (err) {
        return notRecorded(f, facts, err);
      }
      if (recording)
        return recording.then(
          () => recorded(facts, f, at),
          (err: unknown) => notRecorded(f, facts, err),
        );
      return recorded(facts, f, at);
    },

    abort(ctx) {
      flush(ctx);
    },

    close(ctx) {
      flush(ctx);
    },
  };
}

/**
 * Whose message this is. On the LPS submission service, the SASL login. Local submission
 * (no login: sendmail/pickup, a site's smtpd): an envelope sender of `submission.localSenders`
 * stands for the login; the null sender waits for the From: header (login undefined); any other
 * sender is refused.
 */
function loginOf(
  ctx: SessionContext,
  sender: string,
  localSenders: readonly string[],
): { local: boolean; login: string | undefined; authType: string | undefined } | { local: true; refusal: Refusal } {
  if (!isLocalSubmission(ctx.macros)) return { local: false, login: ctx.macros.get('auth_authen'), authType: ctx.macros.get('auth_type') || undefined };
  if (sender === '') return { local: true, login: undefined, authType: 'local' };
  const who = localSender(localSenders, sender);
  return 'refusal' in who ? { local: true, refusal: who.refusal } : { local: true, login: who.login, authType: 'local' };
}

/** RE_SSU_5800: an APP mailbox's last exchange (sent, or received here) for the Connexions file. */
function recordExchanges(deps: SubmissionDeps, facts: MessageFacts, recipients: readonly string[], at: Date): void {
  const activity = deps.activity;
  if (!activity) return;
  const registry = deps.registry();
  const apps = [facts.bal, ...recipients.map((r) => registry.get(r))].filter((b) => b?.type === 'APP');
  for (const bal of apps) void activity.recordExchangeOrReport(bal?.address ?? '', at, 'submission', deps.log);
}
