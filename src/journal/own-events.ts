// Journal events mss-sidecar builds itself, checked by a typed constructor instead of the zod
// schema (issue 20: the milter spent ~4 % of its busy time validating, with zod, the
// `submitted` event it had just built from fields of known types). The constructor applies
// the schema's bounds with plain code — the values come from the SMTP envelope and headers a
// client chose: an over-long sender, recipient, queue id or X-MSS-* value is refused here,
// as the schema refuses it — and freezes the event, so that what Journal.record trusts is
// exactly what was checked. Everything else (another caller's objects, events read back from
// disk or a store, replays) is still validated by the schema (./events.ts).
// test/unit/journal-own-events.test.ts runs both on the same inputs, bounds included.
import { MssError } from '../errors.js';
import type { SubmittedEvent } from './events.js';

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;

/** Events built and checked by this module; Journal.record writes them without the schema. */
const checked = new WeakSet<object>();

export function isCheckedEvent(e: object): boolean {
  return checked.has(e);
}

function refuse(key: string, why: string): never {
  throw new MssError('JOURNAL_BAD_EVENT', `journal event is invalid: ${key}: ${why}`, { key });
}

function text(key: string, value: string, min: number, max: number): string {
  if (typeof value !== 'string') refuse(key, 'expected a string');
  if (value.length < min) refuse(key, `expected at least ${min} character${min > 1 ? 's' : ''}`);
  if (value.length > max) refuse(key, `expected at most ${max} characters`);
  return value;
}

/** The optional fields of a `submitted` event and their maximum lengths (./events.ts). */
const OPTIONAL_MAX = { ins: 255, codeCda: 255, nil: 255, identity: 256, delegateOf: 256, login: 256, authType: 64, client: 128 } as const;

export type SubmittedFields = Omit<SubmittedEvent, 'type'>;

/** A copy of the recipients, each checked; the key naming one is only made for a refusal (issue 20). */
function recipientsOf(recipients: readonly string[]): string[] {
  const out = new Array<string>(recipients.length);
  for (let i = 0; i < recipients.length; i++) {
    const r = recipients[i] as string;
    out[i] = typeof r === 'string' && r.length >= 1 && r.length <= 256 ? r : text(`recipients.${i}`, r, 1, 256);
  }
  return out;
}

/** A `submitted` event (the milter's, src/submission/record.ts), checked against the schema's bounds. */
export function submittedEvent(f: SubmittedFields): Readonly<SubmittedEvent> {
  if (typeof f.at !== 'string' || !ISO_UTC.test(f.at)) refuse('at', 'an ISO 8601 UTC time such as 2025-03-01T10:00:00.000Z');
  if (!Array.isArray(f.recipients) || f.recipients.length < 1) refuse('recipients', 'expected at least one recipient');
  if (!Number.isSafeInteger(f.size) || f.size < 0) refuse('size', 'expected a non-negative integer');
  const event: SubmittedEvent = {
    type: 'submitted',
    at: f.at,
    mailId: text('mailId', f.mailId, 1, 255),
    sender: text('sender', f.sender, 0, 256),
    recipients: Object.freeze(recipientsOf(f.recipients)) as string[],
    size: f.size,
  };
  // Field by field, in the schema's order (named loads and stores: a loop over the keys made
  // V8's keyed accesses megamorphic, issue 20: an event per message in the milter).
  if (f.ins !== undefined) event.ins = text('ins', f.ins, 0, OPTIONAL_MAX.ins);
  if (f.codeCda !== undefined) event.codeCda = text('codeCda', f.codeCda, 0, OPTIONAL_MAX.codeCda);
  if (f.nil !== undefined) event.nil = text('nil', f.nil, 0, OPTIONAL_MAX.nil);
  if (f.identity !== undefined) event.identity = text('identity', f.identity, 0, OPTIONAL_MAX.identity);
  if (f.delegateOf !== undefined) event.delegateOf = text('delegateOf', f.delegateOf, 0, OPTIONAL_MAX.delegateOf);
  if (f.login !== undefined) event.login = text('login', f.login, 0, OPTIONAL_MAX.login);
  if (f.authType !== undefined) event.authType = text('authType', f.authType, 0, OPTIONAL_MAX.authType);
  if (f.client !== undefined) event.client = text('client', f.client, 0, OPTIONAL_MAX.client);
  Object.freeze(event);
  checked.add(event);
  return event;
}
