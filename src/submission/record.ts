// The facts of each submission, written where the rest of mss-sidecar reads them:
//   - the message journal of the state store: one `submitted` event per accepted message,
//     which the monthly Echanges statistics read (EX_PSU_5830: MAIL_ID = the Postfix queue
//     id, sender, recipients, date, size, X-MSS-INS / X-MSS-CODECDA / X-MSS-NIL);
//   - the functional traces: one `message.submit` trace per message, accepted or refused,
//     with identifier, sender, recipients, Subject and size (EX_GDT_5050), the author as far
//     as known, the means and the client address (EX_GDT_5040) — never the content.
// An accepted message must not go unrecorded: `accepted` throws when either write fails and
// the caller temp-fails the message (see docs/submission.md). Refusals are traced on a
// best-effort basis: a trace store failure must not turn a refusal into something else.
import type { Logger } from '../log.js';
import type { Journal } from '../journal/journal.js';
import { submittedEvent, type SubmittedFields } from '../journal/own-events.js';
import type { TraceInput, TraceMeans, TraceMessage } from '../traces/record.js';
import type { TraceLog } from '../traces/trace-log.js';
import { isoUtc } from '../util/day-files.js';
import type { SenderIdentity } from './identity.js';
import { replyLine, type Refusal } from './refusal.js';

/** A recipient refused at RCPT, or a rule that would have refused (monitor mode). */
export interface Verdict {
  rule: string;
  ref: string;
  reply: string;
  recipient?: string;
}

export interface SubmissionFacts {
  /** Postfix queue id, when Postfix had assigned one. */
  mailId?: string;
  sender: string;
  /** Recipients accepted (all of them, for an accepted message). */
  recipients: readonly string[];
  identity?: SenderIdentity;
  client?: string;
  subject?: string;
  size?: number;
  /** X-MSS-INS, X-MSS-CODECDA, X-MSS-NIL: undefined when the header is absent. */
  ins?: string;
  codeCda?: string;
  nil?: string;
  /** Mail client as announced (User-Agent / X-Mailer). */
  userAgent?: string;
  refusedRecipients: readonly Verdict[];
  /** Monitor mode: what the rules would have refused. */
  wouldRefuse: readonly Verdict[];
}

export function verdict(r: Refusal, recipient?: string): Verdict {
  return { rule: r.reason, ref: r.ref, reply: replyLine(r), ...(recipient !== undefined ? { recipient } : {}) };
}

export class MessageRecorder {
  constructor(
    private readonly journal: Journal,
    private readonly traces: TraceLog,
    private readonly log: Logger,
  ) {}

  /** Record an accepted message; rejects when the journal or the trace cannot be written. */
  async accepted(f: SubmissionFacts & { mailId: string; size: number }, at: Date): Promise<void> {
    await this.acceptedNow(f, at);
  }

  /**
   * accepted(), done before it returns when the journal's store appends synchronously (the
   * embedded store): undefined once the journal event and then the trace are written, and
   * a throw when either cannot be; otherwise a promise of the same (Redis). Issue 20: the
   * milter's end of message then decides without a promise per message.
   */
  acceptedNow(f: SubmissionFacts & { mailId: string; size: number }, at: Date): Promise<void> | undefined {
    // Checked by its typed constructor (the schema's bounds, without zod: issue 20); an
    // over-long envelope or header value throws, and the caller temp-fails the message.
    // Its fields assigned one by one (no object spreads: issue 20, once per message).
    // isoUtc: toISOString's text, the date and time formatted once per second (issue 20:
    // ~5.5k instructions less per message, counted by callgrind; docs/performance.md).
    const fields: SubmittedFields = { at: isoUtc(at.getTime()), mailId: f.mailId, sender: f.sender, recipients: f.recipients as string[], size: f.size };
    if (f.ins !== undefined) fields.ins = f.ins;
    if (f.codeCda !== undefined) fields.codeCda = f.codeCda;
    if (f.nil !== undefined) fields.nil = f.nil;
    const id = f.identity;
    if (id?.identity) fields.identity = id.identity;
    if (id) fields.login = id.login;
    if (id?.authType) fields.authType = id.authType;
    if (f.client) fields.client = f.client;
    // EX_PSU_5830 then EX_GDT_5050: the journal event first, the trace once it is written.
    const written = this.journal.recordNow(submittedEvent(fields));
    if (typeof written !== 'string') return written.then(() => this.trace(f, { ok: true, accepted: f.recipients.length }));
    this.trace(f, { ok: true, accepted: f.recipients.length });
    return undefined;
  }

  /** Trace a message refused (a rule's refusal, or why it did not go through); never throws. */
  refused(f: SubmissionFacts, why: Refusal | string): void {
    try {
      this.trace(f, { ok: false, ...(typeof why === 'string' ? { message: why } : { code: why.ref, message: replyLine(why), rule: why.reason }) });
    } catch (err) {
      this.log.error({ err, mailId: f.mailId, sender: f.sender }, 'trace of a refused submission not written');
    }
  }

  private trace(f: SubmissionFacts, response: { ok: boolean; code?: string; message?: string } & Record<string, unknown>): void {
    // Built field by field in the order the traces have always shown (no object spreads:
    // issue 20, once per message); absent values are left out.
    const id = f.identity;
    const input: TraceInput = {
      action: 'message.submit',
      actor: { id: id?.identity ?? id?.login ?? 'unauthenticated', kind: id?.kind ?? 'user', source: id?.source ?? 'none' },
      response,
    };
    if (id) input.bal = id.login;
    const means: TraceMeans = { service: 'submission' };
    if (id?.authType) means.authType = id.authType;
    if (f.nil !== undefined) means.nil = f.nil;
    if (f.userAgent) means.client = f.userAgent;
    input.means = means;
    if (f.client) input.address = f.client;
    const request: Record<string, unknown> = { sender: f.sender };
    if (id) request.login = id.login;
    if (f.ins !== undefined) request.ins = f.ins;
    if (f.codeCda !== undefined) request.codeCda = f.codeCda;
    if (f.nil !== undefined) request.nil = f.nil;
    input.request = request;
    if (f.refusedRecipients.length) response.refusedRecipients = f.refusedRecipients;
    if (f.wouldRefuse.length) response.wouldRefuse = f.wouldRefuse;
    if (f.mailId) {
      // `to` is the facts' own array, not a copy: the trace log serialises it before `write`
      // returns and keeps nothing (sanitized: issue 20), and the facts do not change meanwhile.
      const message: TraceMessage = { id: f.mailId, from: f.sender, to: f.recipients as string[] };
      if (f.subject !== undefined) message.subject = f.subject;
      if (f.size !== undefined) message.size = f.size;
      input.message = message;
    }
    this.traces.write(input);
  }
}
