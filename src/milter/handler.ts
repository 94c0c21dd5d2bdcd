// The interface the submission rules implement. One handler serves every connection; each
// callback gets the session's context (connection facts, macros, envelope, headers) and
// returns a Decision, or nothing for "continue". Callbacks may be async: the session waits
// for one before reading the next event of that connection, so replies never cross.
//
// Semantics follow Postfix's milter client (milter8.c):
//   - at connect/helo, reject/tempfail/reply refuse the whole SMTP connection and accept
//     stops filtering it; discard is not allowed there;
//   - at mail/data/header/eoh/eom they act on the current message;
//   - at rcpt, reject/tempfail/reply refuse THAT recipient only and the message goes on
//     with the others; accept there means "accept the whole message unchecked", so a rule
//     that only approves one recipient returns continue.
import type { Logger } from '../log.js';
import type { AddressFamily } from './commands.js';
import type { MacroView } from './macros.js';
import { formatReply, type SmtpReply } from './reply.js';
import { encodeReplyCode } from './responses.js';

export type Awaitable<T> = T | Promise<T>;

/**
 * The SMFIR_REPLYCODE packet of a reply decide.reply made, encoded from the text it checked
 * (issue 20: the session formatted and encoded each refusal a second time). The text
 * checked is the text sent, whatever happens to the decision's object afterwards.
 */
export const REPLY_PACKET: unique symbol = Symbol('milter reply packet');

export type Decision =
  | { action: 'continue' }
  | { action: 'accept' }
  | { action: 'reject' }
  | { action: 'tempfail' }
  | { action: 'discard' }
  | { action: 'reply'; reply: SmtpReply; readonly [REPLY_PACKET]?: Buffer };

const CONTINUE: Decision = Object.freeze({ action: 'continue' });
const ACCEPT: Decision = Object.freeze({ action: 'accept' });
const REJECT: Decision = Object.freeze({ action: 'reject' });
const TEMPFAIL: Decision = Object.freeze({ action: 'tempfail' });
const DISCARD: Decision = Object.freeze({ action: 'discard' });

/** Decision builders. `reply` validates at once (throws MILTER_REPLY_INVALID). */
export const decide = {
  continue: (): Decision => CONTINUE,
  accept: (): Decision => ACCEPT,
  /** Postfix answers `550 5.7.1 Command rejected`; prefer `reply` with a text that says why. */
  reject: (): Decision => REJECT,
  /** Postfix answers `451 4.7.1 Service unavailable - try again later`. */
  tempfail: (): Decision => TEMPFAIL,
  discard: (): Decision => DISCARD,
  reply(code: number, status: string, text: string | readonly string[]): Decision {
    const reply: SmtpReply = { code, status, text };
    return { action: 'reply', reply, [REPLY_PACKET]: encodeReplyCode(formatReply(reply)) };
  },
};

export interface ConnectInfo {
  /** Client host name as Postfix knows it (`[addr]` when it has none). */
  hostname: string;
  family: AddressFamily;
  port?: number;
  address?: string;
}

export interface EnvelopeAddress {
  /** The address without angle brackets; empty for the null sender. */
  address: string;
  /** ESMTP parameters, names upper-cased: `{ SIZE: '1234', SMTPUTF8: true }`. */
  params: Readonly<Record<string, string | true>>;
}

export interface HeaderField {
  name: string;
  /** Value without the leading space after the colon; folded lines joined by "\n". */
  value: string;
}

export interface MessageView {
  readonly sender: EnvelopeAddress | undefined;
  /** Recipients the handler did not refuse, in order. */
  readonly recipients: readonly EnvelopeAddress[];
  /** Headers in order, bounded (see headersTruncated); Postfix hides its own first Received:. */
  readonly headers: readonly HeaderField[];
  /** True when the message had more headers (count or bytes) than the session keeps. */
  readonly headersTruncated: boolean;
  /** Bytes of header section as received (`Name: value\r\n` each, UTF-8, all headers counted). */
  readonly headerBytes: number;
  /** Bytes of body as received (CRLF line ends); the body itself is not kept. */
  readonly bodyBytes: number;
  /** Bytes of the whole message as received: headers, the empty line, body (Postfix's own Received: excluded). */
  readonly size: number;
  /** First header of that name, case-insensitive. */
  header(name: string): string | undefined;
  /** Every header of that name, case-insensitive. */
  headerAll(name: string): string[];
}

export interface SessionContext {
  /** Short id of this milter connection, in every log line about it. */
  readonly id: string;
  /** The MTA end of the milter socket (`127.0.0.1:41234`, or the unix socket). */
  readonly peer: string;
  readonly client: ConnectInfo | undefined;
  /** HELO/EHLO name, latest. */
  readonly helo: string | undefined;
  readonly macros: MacroView;
  /** Postfix queue id (macro `i`) once known. */
  readonly queueId: string | undefined;
  readonly message: MessageView;
  readonly log: Logger;
  /** Per-connection storage for the rules (cleared when the connection ends). */
  readonly state: Map<string, unknown>;
}

/** At end of message, a handler may also edit headers (applied when it lets the message through). */
export interface EomContext extends SessionContext {
  /** Append a header (SMFIR_ADDHEADER). Throws MILTER_HEADER_INVALID or MILTER_ACTION_UNAVAILABLE. */
  addHeader(name: string, value: string): void;
  /** Insert a header at `index`, 0 = before the first header (SMFIR_INSHEADER). */
  insertHeader(index: number, name: string, value: string): void;
}

export interface MilterHandler {
  /** Whether the handler edits headers at end of message (negotiates SMFIF_ADDHDRS). Default true. */
  readonly addsHeaders?: boolean;
  connect?(ctx: SessionContext): Awaitable<Decision | void>;
  helo?(ctx: SessionContext, name: string): Awaitable<Decision | void>;
  mail?(ctx: SessionContext, sender: EnvelopeAddress): Awaitable<Decision | void>;
  rcpt?(ctx: SessionContext, recipient: EnvelopeAddress): Awaitable<Decision | void>;
  data?(ctx: SessionContext): Awaitable<Decision | void>;
  header?(ctx: SessionContext, field: HeaderField): Awaitable<Decision | void>;
  eoh?(ctx: SessionContext): Awaitable<Decision | void>;
  eom?(ctx: EomContext): Awaitable<Decision | void>;
  /** The current message was abandoned (RSET, client gone, refused elsewhere). */
  abort?(ctx: SessionContext): Awaitable<void>;
  /** The milter connection ended. */
  close?(ctx: SessionContext): Awaitable<void>;
}
