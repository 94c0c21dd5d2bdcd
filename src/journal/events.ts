// The message journal's events: what the submission milter, the outbound gate and the
// inbound gate record, and what the monthly statistics (Echanges, §6.9.3.1.1) read back.
// One `submitted` event per message accepted on the submission side; one `delivery`
// event per recipient and attempt on the outbound side (a message retried before success
// has several, the statistics count it once); one `received` event per inbound message.
// Metadata only: never the body, never the Subject (that belongs to the traces, §6.9.2).
import { z } from 'zod';

const isoUtc = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/, 'an ISO 8601 UTC time such as 2025-03-01T10:00:00.000Z');
const address = z.string().max(256); // '' is the null sender of server-generated messages
const headerValue = z.string().max(255).optional();

export const submittedEvent = z.strictObject({
  type: z.literal('submitted'),
  /** When Postfix accepted the message (end of DATA). */
  at: isoUtc,
  /** The Postfix queue id: MAIL_ID of the Echanges file. */
  mailId: z.string().min(1).max(255),
  /** Envelope sender (MAIL FROM). */
  sender: address,
  recipients: z.array(address.min(1)).min(1),
  /** Total size in bytes, attachments encoded (TAILLE). */
  size: z.number().int().nonnegative(),
  /** X-MSS-INS, X-MSS-CODECDA, X-MSS-NIL header values; absent when the header is. */
  ins: headerValue,
  codeCda: headerValue,
  nil: headerValue,
  /** Authenticated identity (IdNat, or the structure of an application certificate). */
  identity: z.string().max(256).optional(),
  /** The holder/responsible/co-holder a delegate acted for. */
  delegateOf: z.string().max(256).optional(),
  /** The SASL login (the mailbox logged into), whether or not `identity` is known. */
  login: z.string().max(256).optional(),
  /** SASL mechanism of that login (XOAUTH2, PLAIN). */
  authType: z.string().max(64).optional(),
  /** Client network address. */
  client: z.string().max(128).optional(),
});

export const deliveryEvent = z.strictObject({
  type: z.literal('delivery'),
  /** Attempt date. */
  at: isoUtc,
  mailId: z.string().min(1).max(255),
  sender: address,
  recipient: address.min(1),
  /** delivered: 2xx; bounced: 5xx (counts in Echanges); deferred: 4xx, will be retried. */
  outcome: z.enum(['delivered', 'bounced', 'deferred']),
  /** The remote server's reply, e.g. "550 5.1.1 unknown user". */
  reply: z.string().max(1000).optional(),
  /** The remote MX host. */
  remote: z.string().max(255).optional(),
});

export const receivedEvent = z.strictObject({
  type: z.literal('received'),
  at: isoUtc,
  mailId: z.string().min(1).max(255),
  sender: address,
  recipients: z.array(address.min(1)).min(1),
  size: z.number().int().nonnegative(),
  /** Certificate DN of the sending operator. */
  peer: z.string().max(1024).optional(),
  client: z.string().max(128).optional(),
});

export const journalEvent = z.discriminatedUnion('type', [submittedEvent, deliveryEvent, receivedEvent]);

export type SubmittedEvent = z.output<typeof submittedEvent>;
export type DeliveryEvent = z.output<typeof deliveryEvent>;
export type ReceivedEvent = z.output<typeof receivedEvent>;
export type JournalEvent = z.output<typeof journalEvent>;
export type JournalEventType = JournalEvent['type'];
