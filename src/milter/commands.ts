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

/** Split NUL-terminated strings; every string must be terminated. */
function strings(code: string, data: Buffer, from = 0): string[] {
  const out: string[] = [];
  let start = from;
  while (start < data.length) {
    const end = data.indexOf(0, start);
    if (end < 0) throw malformed(code, 'string without NUL terminator');
    out.push(data.toString('utf8', start, end));
    start = end + 1;
  }
  return out;
}

function exactly(code: string, data: Buffer, n: number): string[] {
  const s = strings(code, data);
  if (s.length !== n) throw malformed(code, `expected ${n} string${n > 1 ? 's' : ''}, found ${s.length}`);
  return s;
}

function empty(code: string, data: Buffer): void {
  if (data.length !== 0) throw malformed(code, `unexpected ${data.length} data bytes`);
}

const FAMILIES: Record<string, AddressFamily> = { [Family.UNKNOWN]: 'unknown', [Family.UNIX]: 'unix', [Family.INET]: 'inet', [Family.INET6]: 'inet6' };

function parseConnect(code: string, data: Buffer): MilterCommand {
  const end = data.indexOf(0);
  if (end < 0) throw malformed(code, 'host name without NUL terminator');
  const hostname = data.toString('utf8', 0, end);
  if (data.length < end + 2) throw malformed(code, 'missing address family');
  const family = FAMILIES[String.fromCharCode(data[end + 1] ?? 0)];
  if (!family) throw malformed(code, `unknown address family 0x${(data[end + 1] ?? 0).toString(16)}`);
  if (family === 'unknown') {
    if (data.length !== end + 2) throw malformed(code, 'data after unknown address family');
    return { type: 'connect', hostname, family };
  }
  if (data.length < end + 4) throw malformed(code, 'missing port');
  const port = data.readUInt16BE(end + 2);
  const [address, ...extra] = strings(code, data, end + 4);
  if (address === undefined || extra.length > 0) throw malformed(code, 'expected one address string');
  return { type: 'connect', hostname, family, port, address };
}

function parseMacro(code: string, data: Buffer): MilterCommand {
  if (data.length < 1) throw malformed(code, 'missing command code');
  const list = strings(code, data, 1);
  if (list.length % 2 !== 0) throw malformed(code, 'macro name without value');
  const macros: Array<[string, string]> = [];
  for (let i = 0; i < list.length; i += 2) macros.push([list[i] ?? '', list[i + 1] ?? '']);
  return { type: 'macro', for: String.fromCharCode(data[0] ?? 0), macros };
}

/** Parse one packet received from the MTA. Throws MILTER_MALFORMED or MILTER_UNKNOWN_COMMAND. */
export function parseCommand(packet: Packet): MilterCommand {
  const { code, data } = packet;
  switch (code) {
    case Cmd.OPTNEG:
      if (data.length < 12) throw malformed(code, `${data.length} bytes, expected at least 12`);
      return { type: 'optneg', version: data.readUInt32BE(0), actions: data.readUInt32BE(4), protocol: data.readUInt32BE(8) };
    case Cmd.MACRO:
      return parseMacro(code, data);
    case Cmd.CONNECT:
      return parseConnect(code, data);
    case Cmd.HELO:
      return { type: 'helo', name: exactly(code, data, 1)[0] ?? '' };
    case Cmd.MAIL:
    case Cmd.RCPT: {
      const args = strings(code, data);
      if (args.length === 0) throw malformed(code, 'no address');
      return { type: code === Cmd.MAIL ? 'mail' : 'rcpt', args };
    }
    case Cmd.DATA:
      empty(code, data);
      return { type: 'data' };
    case Cmd.HEADER: {
      const [name, value] = exactly(code, data, 2);
      if (!name) throw malformed(code, 'empty header name');
      return { type: 'header', name, value: value ?? '' };
    }
    case Cmd.EOH:
      empty(code, data);
      return { type: 'eoh' };
    case Cmd.BODY:
      return { type: 'body', chunk: data };
    case Cmd.BODYEOB:
      return { type: 'eom', chunk: data };
    case Cmd.ABORT:
      empty(code, data);
      return { type: 'abort' };
    case Cmd.QUIT:
      empty(code, data);
      return { type: 'quit' };
    case Cmd.QUIT_NC:
      empty(code, data);
      return { type: 'quit-nc' };
    case Cmd.UNKNOWN:
      return { type: 'unknown', command: exactly(code, data, 1)[0] ?? '' };
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
