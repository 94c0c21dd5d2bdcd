// MTA → milter commands: the typed form of each packet, its parser (what the server needs)
// and its encoder (what a test or benchmark playing the MTA needs). A packet whose data does
// not have the shape its command requires is MILTER_MALFORMED: the stream is out of step
// and the caller closes the connection.
import { MssError } from '../errors.js';
import { Cmd, Family, commandName, type FamilyCode } from './constants.js';
import { cstr, encodePacket, uint32, type Packet } from './framing.js';

export type AddressFamily = 'unknown' | 'unix' | 'inet' | 'inet6';

export type MilterCommand =
  | { type: 'optneg'; version: number; actions: number; protocol: number }
  /** Macros for the command whose code is `for` (sent just before it). */
  | { type: 'macro'; for: string; macros: Array<[name: string, value: string]> }
  | { type: 'connect'; hostname: string; family: AddressFamily; port?: number; address?: string }
  | { type: 'helo'; name: string }
  /** `args[0]` is the address as the MTA gives it (`<a@b>`), the rest ESMTP parameters. */
  | { type: 'mail'; args: string[] }
  | { type: 'rcpt'; args: string[] }
  | { type: 'data' }
  | { type: 'header'; name: string; value: string }
  | { type: 'eoh' }
  | { type: 'body'; chunk: Buffer }
  /** End of message; Sendmail may attach a last body chunk, Postfix sends none. */
  | { type: 'eom'; chunk: Buffer }
  | { type: 'abort' }
  | { type: 'quit' }
  /** Quit this session but keep the connection for a new one (SMFIC_QUIT_NC). */
  | { type: 'quit-nc' }
  | { type: 'unknown'; command: string };

export type MilterCommandType = MilterCommand['type'];

function malformed(code: string, why: string): MssError {
  return new MssError('MILTER_MALFORMED', `malformed ${commandName(code)} packet: ${why}`, { command: commandName(code) });
}

// The parsers read a packet's data where it lies, buf[from, end): the session hands them
// the received chunk itself, with no view made per packet (issue 20: a Buffer view per
// packet, 36 per message, was a measurable part of the session's allocations).

/** Split NUL-terminated strings in buf[from, end); every string must be terminated. */
function strings(code: string, buf: Buffer, from: number, end: number): string[] {
  const out: string[] = [];
  let start = from;
  while (start < end) {
    const nul = buf.indexOf(0, start);
    if (nul < 0 || nul >= end) throw malformed(code, 'string without NUL terminator');
    out.push(buf.toString('utf8', start, nul));
    start = nul + 1;
  }
  return out;
}

function exactly(code: string, buf: Buffer, from: number, end: number, n: number): string[] {
  const s = strings(code, buf, from, end);
  if (s.length !== n) throw malformed(code, `expected ${n} string${n > 1 ? 's' : ''}, found ${s.length}`);
  return s;
}

function empty(code: string, from: number, end: number): void {
  if (end !== from) throw malformed(code, `unexpected ${end - from} data bytes`);
}

const FAMILIES: Record<string, AddressFamily> = { [Family.UNKNOWN]: 'unknown', [Family.UNIX]: 'unix', [Family.INET]: 'inet', [Family.INET6]: 'inet6' };

function parseConnect(code: string, buf: Buffer, from: number, end: number): MilterCommand {
  const nul = buf.indexOf(0, from);
  if (nul < 0 || nul >= end) throw malformed(code, 'host name without NUL terminator');
  const hostname = buf.toString('utf8', from, nul);
  if (end < nul + 2) throw malformed(code, 'missing address family');
  const family = FAMILIES[String.fromCharCode(buf[nul + 1] ?? 0)];
  if (!family) throw malformed(code, `unknown address family 0x${(buf[nul + 1] ?? 0).toString(16)}`);
  if (family === 'unknown') {
    if (end !== nul + 2) throw malformed(code, 'data after unknown address family');
    return { type: 'connect', hostname, family };
  }
  if (end < nul + 4) throw malformed(code, 'missing port');
  const port = buf.readUInt16BE(nul + 2);
  const [address, ...extra] = strings(code, buf, nul + 4, end);
  if (address === undefined || extra.length > 0) throw malformed(code, 'expected one address string');
  return { type: 'connect', hostname, family, port, address };
}

function parseMacro(code: string, buf: Buffer, from: number, end: number): MilterCommand {
  if (end - from < 1) throw malformed(code, 'missing command code');
  const list = strings(code, buf, from + 1, end);
  if (list.length % 2 !== 0) throw malformed(code, 'macro name without value');
  const macros: Array<[string, string]> = [];
  for (let i = 0; i < list.length; i += 2) macros.push([list[i] ?? '', list[i + 1] ?? '']);
  return { type: 'macro', for: String.fromCharCode(buf[from] ?? 0), macros };
}

/** Parse one packet received from the MTA. Throws MILTER_MALFORMED or MILTER_UNKNOWN_COMMAND. */
export function parseCommand(packet: Packet): MilterCommand {
  return parseCommandAt(packet.code, packet.data, 0, packet.data.length);
}

/** parseCommand for a packet whose data is buf[from, end) (the decoder's peekedData). */
export function parseCommandAt(code: string, buf: Buffer, from: number, end: number): MilterCommand {
  switch (code) {
    case Cmd.OPTNEG:
      if (end - from < 12) throw malformed(code, `${end - from} bytes, expected at least 12`);
      return { type: 'optneg', version: buf.readUInt32BE(from), actions: buf.readUInt32BE(from + 4), protocol: buf.readUInt32BE(from + 8) };
    case Cmd.MACRO:
      return parseMacro(code, buf, from, end);
    case Cmd.CONNECT:
      return parseConnect(code, buf, from, end);
    case Cmd.HELO:
      return { type: 'helo', name: exactly(code, buf, from, end, 1)[0] ?? '' };
    case Cmd.MAIL:
    case Cmd.RCPT: {
      const args = strings(code, buf, from, end);
      if (args.length === 0) throw malformed(code, 'no address');
      return { type: code === Cmd.MAIL ? 'mail' : 'rcpt', args };
    }
    case Cmd.DATA:
      empty(code, from, end);
      return { type: 'data' };
    case Cmd.HEADER: {
      const [name, value] = exactly(code, buf, from, end, 2);
      if (!name) throw malformed(code, 'empty header name');
      return { type: 'header', name, value: value ?? '' };
    }
    case Cmd.EOH:
      empty(code, from, end);
      return { type: 'eoh' };
    case Cmd.BODY:
      return { type: 'body', chunk: buf.subarray(from, end) };
    case Cmd.BODYEOB:
      return { type: 'eom', chunk: buf.subarray(from, end) };
    case Cmd.ABORT:
      empty(code, from, end);
      return { type: 'abort' };
    case Cmd.QUIT:
      empty(code, from, end);
      return { type: 'quit' };
    case Cmd.QUIT_NC:
      empty(code, from, end);
      return { type: 'quit-nc' };
    case Cmd.UNKNOWN:
      return { type: 'unknown', command: exactly(code, buf, from, end, 1)[0] ?? '' };
    default:
      throw new MssError('MILTER_UNKNOWN_COMMAND', `unknown milter command ${commandName(code)}`, { command: commandName(code) });
  }
}

const FAMILY_CODES: Record<AddressFamily, FamilyCode> = { unknown: Family.UNKNOWN, unix: Family.UNIX, inet: Family.INET, inet6: Family.INET6 };

function port16(port: number): Buffer {
  const b = Buffer.allocUnsafe(2);
  b.writeUInt16BE(port, 0);
  return b;
}

/** Encode a command as the MTA sends it (for tests, benchmarks and the fuzzer). */
export function encodeCommand(c: MilterCommand): Buffer {
  switch (c.type) {
    case 'optneg':
      return encodePacket(Cmd.OPTNEG, uint32(c.version), uint32(c.actions), uint32(c.protocol));
    case 'macro':
      return encodePacket(Cmd.MACRO, Buffer.from(c.for, 'latin1'), ...c.macros.flatMap(([n, v]) => [cstr(n), cstr(v)]));
    case 'connect':
      if (c.family === 'unknown') return encodePacket(Cmd.CONNECT, cstr(c.hostname), Buffer.from(FAMILY_CODES.unknown, 'latin1'));
      return encodePacket(Cmd.CONNECT, cstr(c.hostname), Buffer.from(FAMILY_CODES[c.family], 'latin1'), port16(c.port ?? 0), cstr(c.address ?? ''));
    case 'helo':
      return encodePacket(Cmd.HELO, cstr(c.name));
    case 'mail':
      return encodePacket(Cmd.MAIL, ...c.args.map(cstr));
    case 'rcpt':
      return encodePacket(Cmd.RCPT, ...c.args.map(cstr));
    case 'data':
      return encodePacket(Cmd.DATA);
    case 'header':
      return encodePacket(Cmd.HEADER, cstr(c.name), cstr(c.value));
    case 'eoh':
      return encodePacket(Cmd.EOH);
    case 'body':
      return encodePacket(Cmd.BODY, c.chunk);
    case 'eom':
      return encodePacket(Cmd.BODYEOB, c.chunk);
    case 'abort':
      return encodePacket(Cmd.ABORT);
    case 'quit':
      return encodePacket(Cmd.QUIT);
    case 'quit-nc':
      return encodePacket(Cmd.QUIT_NC);
    case 'unknown':
      return encodePacket(Cmd.UNKNOWN, cstr(c.command));
  }
}
