// Option negotiation (SMFIC_OPTNEG): the MTA offers a protocol version, the actions it lets a
// milter take and the protocol steps it can leave out; the milter answers with the subset it
// uses, then (version 6, SMFIF_SETSYMLIST) the macros it wants at each stage. We ask for
// only what the handler needs: no reply to events it has no callback for (fewer round
// trips), no SMTP commands Postfix does not know, and the header-adding action only.
import { MssError } from '../errors.js';
import { Action, Cmd, MacroStage, PROTOCOL_VERSION, Proto, Resp, type MacroStageId } from './constants.js';
import { cstr, encodePacket, uint32 } from './framing.js';

export type StageName = 'connect' | 'helo' | 'mail' | 'rcpt' | 'data' | 'eoh' | 'eom';

/** Macro names per stage, as Postfix spells them (`i`, `{auth_authen}`). */
export type MacroRequest = Readonly<Record<StageName, readonly string[]>>;

/**
 * What the session asks for. Connection facts come at connect and HELO (TLS is set up
 * before the EHLO that follows STARTTLS); the authenticated identity at MAIL; the queue id
 * `i` once Postfix has a queue file (MAIL with Postfix's defaults, and always from DATA on).
 * postfix/main.cf.d/20-submission-milter.cf lists the same names (checked by a test), for
 * an MTA that does not take the lists from the negotiation.
 */
export const REQUESTED_MACROS: MacroRequest = {
  connect: ['j', '{daemon_name}', '{client_addr}', '{client_name}', '{client_port}'],
  helo: ['{tls_version}', '{cipher}', '{cipher_bits}', '{cert_subject}', '{cert_issuer}'],
  mail: ['i', '{auth_type}', '{auth_authen}', '{auth_author}', '{mail_addr}'],
  rcpt: ['i', '{rcpt_addr}'],
  data: ['i'],
  eoh: ['i'],
  eom: ['i'],
};

const STAGE_IDS: Record<StageName, MacroStageId> = {
  connect: MacroStage.CONNECT,
  helo: MacroStage.HELO,
  mail: MacroStage.ENVFROM,
  rcpt: MacroStage.ENVRCPT,
  data: MacroStage.DATA,
  eoh: MacroStage.EOH,
  eom: MacroStage.EOM,
};

/** Which events the handler wants to answer itself; the others get no reply when the MTA allows it. */
export interface Wanted {
  connect: boolean;
  helo: boolean;
  mail: boolean;
  rcpt: boolean;
  data: boolean;
  header: boolean;
  eoh: boolean;
  /** The handler may add or insert headers at end of message. */
  addHeaders: boolean;
  macros: MacroRequest;
}

export interface Offer {
  version: number;
  actions: number;
  protocol: number;
}

export interface Agreement {
  version: number;
  actions: number;
  protocol: number;
  /** Macro lists were sent: the MTA sends exactly those names. */
  macroListsSent: boolean;
  /** Command codes after which the MTA waits for our reply. */
  replyExpected: ReadonlySet<string>;
}

/** Oldest version whose wire format we speak (Postfix milter_protocol = 2 … 6). */
const MIN_VERSION = 2;

const NO_REPLY_FOR: Array<[keyof Wanted, number, string]> = [
  ['connect', Proto.NR_CONN, Cmd.CONNECT],
  ['helo', Proto.NR_HELO, Cmd.HELO],
  ['mail', Proto.NR_MAIL, Cmd.MAIL],
  ['rcpt', Proto.NR_RCPT, Cmd.RCPT],
  ['data', Proto.NR_DATA, Cmd.DATA],
  ['header', Proto.NR_HDR, Cmd.HEADER],
  ['eoh', Proto.NR_EOH, Cmd.EOH],
];

/** Decide the agreement for an MTA offer; throws MILTER_NEGOTIATION if we cannot work with it. */
export function agree(offer: Offer, wanted: Wanted): Agreement {
  if (offer.version < MIN_VERSION) {
    throw new MssError(
      'MILTER_NEGOTIATION',
      `MTA offers milter protocol version ${offer.version}; at least ${MIN_VERSION} is needed (set milter_protocol = 6)`,
      { offered: offer.version },
    );
  }
  const version = Math.min(offer.version, PROTOCOL_VERSION);
  const sendLists = (offer.actions & Action.SETSYMLIST) !== 0;
  const actions = ((wanted.addHeaders ? Action.ADDHDRS : 0) | (sendLists ? Action.SETSYMLIST : 0)) & offer.actions;

  // Unknown SMTP commands are refused by Postfix itself; the body is only counted, never judged.
  let protocol = Proto.NOUNKNOWN | Proto.NR_UNKN | Proto.NR_BODY;
  const replyExpected = new Set<string>([Cmd.CONNECT, Cmd.HELO, Cmd.MAIL, Cmd.RCPT, Cmd.DATA, Cmd.HEADER, Cmd.EOH, Cmd.BODY, Cmd.BODYEOB, Cmd.UNKNOWN]);
  for (const [key, flag] of NO_REPLY_FOR) if (!wanted[key]) protocol |= flag;
  protocol &= offer.protocol;
  for (const [, flag, cmd] of NO_REPLY_FOR) if (protocol & flag) replyExpected.delete(cmd);
  if (protocol & Proto.NR_BODY) replyExpected.delete(Cmd.BODY);
  if (protocol & Proto.NR_UNKN) replyExpected.delete(Cmd.UNKNOWN);
  return { version, actions, protocol, macroListsSent: sendLists, replyExpected };
}

/** The SMFIC_OPTNEG reply packet: version, actions, protocol, then the macro lists. */
export function encodeAgreement(a: Agreement, macros: MacroRequest): Buffer {
  const lists = a.macroListsSent ? (Object.keys(STAGE_IDS) as StageName[]).flatMap((stage) => [uint32(STAGE_IDS[stage]), cstr(macros[stage].join(' '))]) : [];
  return encodePacket(Resp.OPTNEG, uint32(a.version), uint32(a.actions), uint32(a.protocol), ...lists);
}

/** Decode an OPTNEG reply as the MTA does (tests): the three words and the macro lists by stage. */
export function decodeAgreement(data: Buffer): Offer & { macros: Partial<Record<StageName, string[]>> } {
  if (data.length < 12) throw new MssError('MILTER_MALFORMED', 'OPTNEG reply shorter than 12 bytes');
  const macros: Partial<Record<StageName, string[]>> = {};
  const byId = new Map(Object.entries(STAGE_IDS).map(([k, v]) => [v as number, k as StageName]));
  let offset = 12;
  while (offset < data.length) {
    if (offset + 4 > data.length) throw new MssError('MILTER_MALFORMED', 'truncated macro stage');
    const stage = byId.get(data.readUInt32BE(offset));
    const end = data.indexOf(0, offset + 4);
    if (stage === undefined || end < 0) throw new MssError('MILTER_MALFORMED', 'bad macro list');
    const text = data.toString('utf8', offset + 4, end);
    macros[stage] = text === '' ? [] : text.split(' ');
    offset = end + 1;
  }
  return { version: data.readUInt32BE(0), actions: data.readUInt32BE(4), protocol: data.readUInt32BE(8), macros };
}
