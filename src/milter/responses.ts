// Milter → MTA responses: the typed form, the encoder the server uses, and the decoder a
// test or benchmark playing the MTA uses. Option negotiation replies are in negotiation.ts.
import { MssError } from '../errors.js';
import { Resp } from './constants.js';
import { cstr, encodePacket, uint32, type Packet } from './framing.js';

export type MilterResponse =
  | { type: 'continue' }
  | { type: 'accept' }
  | { type: 'reject' }
  | { type: 'tempfail' }
  | { type: 'discard' }
  /** Keep-alive while a decision takes long at end of message. */
  | { type: 'progress' }
  | { type: 'skip' }
  /** A full SMTP reply, already validated: see reply.ts. */
  | { type: 'replycode'; reply: string }
  | { type: 'addheader'; name: string; value: string }
  /** Insert at `index` (0 = before the first header the milter saw). */
  | { type: 'insheader'; index: number; name: string; value: string };

const SIMPLE = {
  continue: Resp.CONTINUE,
  accept: Resp.ACCEPT,
  reject: Resp.REJECT,
  tempfail: Resp.TEMPFAIL,
  discard: Resp.DISCARD,
  progress: Resp.PROGRESS,
  skip: Resp.SKIP,
} as const;

// The five most frequent responses never change: encode them once.
const CACHED = new Map<string, Buffer>(Object.entries(SIMPLE).map(([type, code]) => [type, encodePacket(code)]));

/** SMFIR_REPLYCODE for a reply text formatReply checked (printable ASCII): one buffer, no intermediate ones. */
export function encodeReplyCode(text: string): Buffer {
  const length = 1 + text.length + 1;
  const out = Buffer.allocUnsafe(4 + length);
  out.writeUInt32BE(length, 0);
  out[4] = REPLYCODE;
  out.write(text, 5, 'latin1');
  out[4 + length - 1] = 0;
  return out;
}
const REPLYCODE = Resp.REPLYCODE.charCodeAt(0);

export function encodeResponse(r: MilterResponse): Buffer {
  switch (r.type) {
    case 'replycode':
      return encodeReplyCode(r.reply);
    case 'addheader':
      return encodePacket(Resp.ADDHEADER, cstr(r.name), cstr(r.value));
    case 'insheader':
      return encodePacket(Resp.INSHEADER, uint32(r.index), cstr(r.name), cstr(r.value));
    default:
      return CACHED.get(r.type) ?? encodePacket(SIMPLE[r.type]);
  }
}

function bad(why: string): MssError {
  return new MssError('MILTER_MALFORMED', `malformed milter response: ${why}`);
}

function twoStrings(data: Buffer, from: number): [string, string] {
  const a = data.indexOf(0, from);
  const b = a < 0 ? -1 : data.indexOf(0, a + 1);
  if (a < 0 || b !== data.length - 1) throw bad('expected two NUL-terminated strings');
  return [data.toString('utf8', from, a), data.toString('utf8', a + 1, b)];
}

const BY_CODE = new Map<string, MilterResponse['type']>(Object.entries(SIMPLE).map(([type, code]) => [code, type as MilterResponse['type']]));

/** Decode a response packet as the MTA would (not used by the server itself). */
export function decodeResponse(packet: Packet): MilterResponse {
  const { code, data } = packet;
  const simple = BY_CODE.get(code);
  if (simple) {
    if (data.length !== 0) throw bad(`response '${code}' followed by ${data.length} bytes`);
    return { type: simple } as MilterResponse;
  }
  switch (code) {
    case Resp.REPLYCODE:
      if (data.length < 1 || data[data.length - 1] !== 0 || data.indexOf(0) !== data.length - 1) throw bad('reply code is not one NUL-terminated string');
      return { type: 'replycode', reply: data.toString('utf8', 0, data.length - 1) };
    case Resp.ADDHEADER: {
      const [name, value] = twoStrings(data, 0);
      return { type: 'addheader', name, value };
    }
    case Resp.INSHEADER: {
      if (data.length < 4) throw bad('insert header without index');
      const [name, value] = twoStrings(data, 4);
      return { type: 'insheader', index: data.readUInt32BE(0), name, value };
    }
    default:
      throw bad(`unexpected response code '${code}'`);
  }
}
