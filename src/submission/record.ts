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
import { submittedEvent } from '../journal/own-events.js';
import type { TraceLog } from '../traces/trace-log.js';
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

  /** Record an accepted message; throws when the journal or the trace cannot be written. */
  async accepted(f: SubmissionFacts & { mailId: string; size: number }, at: Date): Promise<void> {
    // Checked by its typed constructor (the schema's bounds, without zod: issue 20); an
    // over-long envelope or header value throws, and the caller temp-fails the message.
    const event = submittedEvent({
      at: at.toISOString(),
      mailId: f.mailId,
      sender: f.sender,
      recipients: [...f.recipients],
      size: f.size,
      ...(f.ins !== undefined ? { ins: f.ins } : {}),
      ...(f.codeCda !== undefined ? { codeCda: f.codeCda } : {}),
      ...(f.nil !== undefined ? { nil: f.nil } : {}),
      ...(f.identity?.identity ? { identity: f.identity.identity } : {}),
      ...(f.identity ? { login: f.identity.login } : {}),
      ...(f.identity?.authType ? { authType: f.identity.authType } : {}),
      ...(f.client ? { client: f.client } : {}),
    });
    await this.journal.record(event);
    this.trace(f, { ok: true, accepted: f.recipients.length });
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
    const id = f.identity;
    this.traces.write({
      action: 'message.submit',
      actor: { id: id?.identity ?? id?.login ?? 'unauthenticated', kind: id?.kind ?? 'user', source: id?.source ?? 'none' },
      ...(id ? { bal: id.login } : {}),
      means: {
        service: 'submission',
        ...(id?.authType ? { authType: id.authType } : {}),
        ...(f.nil !== undefined ? { nil: f.nil } : {}),
        ...(f.userAgent ? { client: f.userAgent } : {}),
      },
      ...(f.client ? { address: f.client } : {}),
      request: {
        sender: f.sender,
        ...(id ? { login: id.login } : {}),
        ...(f.ins !== undefined ? { ins: f.ins } : {}),
        ...(f.codeCda !== undefined ? { codeCda: f.codeCda } : {}),
        ...(f.nil !== undefined ? { nil: f.nil } : {}),
      },
      response: {
        ...response,
        ...(f.refusedRecipients.length ? { refusedRecipients: f.refusedRecipients } : {}),
        ...(f.wouldRefuse.length ? { wouldRefuse: f.wouldRefuse } : {}),
      },
      ...(f.mailId
        ? {
            message: {
              id: f.mailId,
              from: f.sender,
              to: [...f.recipients],
              ...(f.subject !== undefined ? { subject: f.subject } : {}),
              ...(f.size !== undefined ? { size: f.size } : {}),
            },
          }
        : {}),
    });
  }
}
