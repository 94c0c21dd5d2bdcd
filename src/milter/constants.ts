// Wire constants of the Sendmail 8 milter protocol, version 6, as Postfix 3.x speaks it
// (Postfix MILTER_README, src/milter/milter8.c; Sendmail libmilter mfdef.h). Only values
// are here; what they mean for a session is in session.ts.

/** The protocol version we offer and require (Postfix: `milter_protocol = 6`). */
export const PROTOCOL_VERSION = 6;

/** Body chunks are at most this long (MILTER_CHUNK_SIZE): one packet carries one chunk. */
export const BODY_CHUNK_SIZE = 65_535;

/** Commands, MTA → milter (SMFIC_*). */
export const Cmd = {
  ABORT: 'A',
  BODY: 'B',
  CONNECT: 'C',
  MACRO: 'D',
  BODYEOB: 'E',
  HELO: 'H',
  QUIT_NC: 'K',
  HEADER: 'L',
  MAIL: 'M',
  EOH: 'N',
  OPTNEG: 'O',
  QUIT: 'Q',
  RCPT: 'R',
  DATA: 'T',
  UNKNOWN: 'U',
} as const;
export type CmdCode = (typeof Cmd)[keyof typeof Cmd];

/** Responses, milter → MTA (SMFIR_*). Only those we may send or must recognise. */
export const Resp = {
  ADDRCPT: '+',
  DELRCPT: '-',
  ACCEPT: 'a',
  REPLBODY: 'b',
  CONTINUE: 'c',
  DISCARD: 'd',
  CHGFROM: 'e',
  CONN_FAIL: 'f',
  ADDHEADER: 'h',
  INSHEADER: 'i',
  SETSYMLIST: 'l',
  CHGHEADER: 'm',
  PROGRESS: 'p',
  QUARANTINE: 'q',
  REJECT: 'r',
  SKIP: 's',
  TEMPFAIL: 't',
  REPLYCODE: 'y',
  OPTNEG: 'O',
} as const;
export type RespCode = (typeof Resp)[keyof typeof Resp];

/** Actions the milter may request at end of message (SMFIF_*), offered by the MTA in OPTNEG. */
export const Action = {
  ADDHDRS: 0x001,
  CHGBODY: 0x002,
  ADDRCPT: 0x004,
  DELRCPT: 0x008,
  CHGHDRS: 0x010,
  QUARANTINE: 0x020,
  CHGFROM: 0x040,
  ADDRCPT_PAR: 0x080,
  /** The milter may send its own macro name lists after OPTNEG. */
  SETSYMLIST: 0x100,
} as const;

/** Protocol steps (SMFIP_*): events the MTA may leave out, replies the milter may leave out. */
export const Proto = {
  NOCONNECT: 0x000001,
  NOHELO: 0x000002,
  NOMAIL: 0x000004,
  NORCPT: 0x000008,
  NOBODY: 0x000010,
  NOHDRS: 0x000020,
  NOEOH: 0x000040,
  NR_HDR: 0x000080,
  NOUNKNOWN: 0x000100,
  NODATA: 0x000200,
  SKIP: 0x000400,
  RCPT_REJ: 0x000800,
  NR_CONN: 0x001000,
  NR_HELO: 0x002000,
  NR_MAIL: 0x004000,
  NR_RCPT: 0x008000,
  NR_DATA: 0x010000,
  NR_UNKN: 0x020000,
  NR_EOH: 0x040000,
  NR_BODY: 0x080000,
  HDR_LEADSPC: 0x100000,
} as const;

/** Macro stages (SMFIM_*), the index of each macro list sent after OPTNEG. */
export const MacroStage = {
  CONNECT: 0,
  HELO: 1,
  ENVFROM: 2,
  ENVRCPT: 3,
  DATA: 4,
  EOM: 5,
  EOH: 6,
} as const;
export type MacroStageId = (typeof MacroStage)[keyof typeof MacroStage];

/** Address families in SMFIC_CONNECT (SMFIA_*). */
export const Family = {
  UNKNOWN: 'U',
  UNIX: 'L',
  INET: '4',
  INET6: '6',
} as const;
export type FamilyCode = (typeof Family)[keyof typeof Family];

const commandNames = new Map<string, string>(Object.entries(Cmd).map(([k, v]) => [v, k]));
/** `SMFIC_RCPT` for 'R': names for logs. */
export function commandName(code: string): string {
  const name = commandNames.get(code);
  return name ? `SMFIC_${name}` : `unknown command 0x${code.charCodeAt(0).toString(16).padStart(2, '0')}`;
}
