// A minimal, strict DER reader: just enough to read names, validity, serials and a few
// extensions straight from the bytes of a certificate. Node's X509Certificate only offers
// a text rendering of the subject, which loses the ASN.1 string types and the RDN
// structure that DN comparison needs (RFC 4514 §2).
import { MssError } from '../errors.js';

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  SEQUENCE: 0x30,
  SET: 0x31,
  NUMERIC_STRING: 0x12,
  PRINTABLE_STRING: 0x13,
  TELETEX_STRING: 0x14,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  VISIBLE_STRING: 0x1a,
  UNIVERSAL_STRING: 0x1c,
  BMP_STRING: 0x1e,
} as const;

/** One TLV; offsets index into the buffer it was read from. */
export interface Tlv {
  /** The identifier octet (class, constructed bit and low tag number). */
  tag: number;
  /** Offset of the identifier octet. */
  start: number;
  /** Offset of the first content octet. */
  contentStart: number;
  /** Offset just past the last content octet. */
  end: number;
}

function malformed(what: string): MssError {
  return new MssError('DER_MALFORMED', `malformed DER: ${what}`);
}

export function readTlv(buf: Uint8Array, offset: number, limit = buf.length): Tlv {
  if (offset + 2 > limit) throw malformed(`truncated header at offset ${offset}`);
  const tag = buf[offset] as number;
  // High tag numbers (0x1f) never occur in the structures read here.
  if ((tag & 0x1f) === 0x1f) throw malformed(`high tag number at offset ${offset}`);
  let pos = offset + 1;
  const first = buf[pos++] as number;
  let length: number;
  if (first < 0x80) {
    length = first;
  } else {
    const count = first & 0x7f;
    // 0x80 is the BER indefinite length, which DER forbids.
    if (count === 0 || count > 4) throw malformed(`unsupported length encoding at offset ${offset}`);
    if (pos + count > limit) throw malformed(`truncated length at offset ${offset}`);
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + (buf[pos++] as number);
  }
  const end = pos + length;
  if (end > limit) throw malformed(`content of ${length} bytes at offset ${offset} runs past the end`);
  return { tag, start: offset, contentStart: pos, end };
}

/** The TLVs directly inside a constructed TLV. */
export function childrenOf(buf: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  let pos = parent.contentStart;
  while (pos < parent.end) {
    const child = readTlv(buf, pos, parent.end);
    out.push(child);
    pos = child.end;
  }
  return out;
}

export function expectTag(tlv: Tlv | undefined, tag: number, what: string): Tlv {
  if (!tlv || tlv.tag !== tag) throw malformed(`expected ${what}`);
  return tlv;
}

export function contentOf(buf: Uint8Array, tlv: Tlv): Uint8Array {
  return buf.subarray(tlv.contentStart, tlv.end);
}

export function bytesOf(buf: Uint8Array, tlv: Tlv): Uint8Array {
  return buf.subarray(tlv.start, tlv.end);
}

export function decodeOid(content: Uint8Array): string {
  if (content.length === 0) throw malformed('empty OID');
  const parts: number[] = [];
  let value = 0;
  for (let i = 0; i < content.length; i++) {
    const b = content[i] as number;
    value = value * 128 + (b & 0x7f);
    if ((b & 0x80) === 0) {
      if (parts.length === 0) {
        const firstArc = value < 40 ? 0 : value < 80 ? 1 : 2;
        parts.push(firstArc, value - firstArc * 40);
      } else {
        parts.push(value);
      }
      value = 0;
    }
  }
  return parts.join('.');
}

/** Unsigned hex of an INTEGER's content, lowercase, without leading zero octets. */
export function integerHex(content: Uint8Array): string {
  let i = 0;
  while (i < content.length - 1 && content[i] === 0) i++;
  return Buffer.from(content.subarray(i)).toString('hex');
}

export function decodeTime(buf: Uint8Array, tlv: Tlv): Date {
  const text = Buffer.from(contentOf(buf, tlv)).toString('latin1');
  let m: RegExpExecArray | null;
  if (tlv.tag === TAG.UTC_TIME && (m = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text))) {
    const yy = Number(m[1]);
    // RFC 5280 §4.1.2.5.1: YY >= 50 is 19YY, below 50 is 20YY.
    return new Date(Date.UTC(yy >= 50 ? 1900 + yy : 2000 + yy, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])));
  }
  if (tlv.tag === TAG.GENERALIZED_TIME && (m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.\d+)?Z$/.exec(text))) {
    return new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])));
  }
  throw malformed(`unsupported time value "${text}"`);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Text of an ASN.1 character string, or undefined for a non-string type. TeletexString is
 * read as ISO 8859-1, as most X.509 software does (T.61 proper is never used in practice).
 */
export function decodeString(tag: number, content: Uint8Array): string | undefined {
  switch (tag) {
    case TAG.UTF8_STRING:
      try {
        return utf8.decode(content);
      } catch {
        throw malformed('UTF8String that is not valid UTF-8');
      }
    case TAG.PRINTABLE_STRING:
    case TAG.IA5_STRING:
    case TAG.NUMERIC_STRING:
    case TAG.VISIBLE_STRING:
    case TAG.TELETEX_STRING:
      return Buffer.from(content).toString('latin1');
    case TAG.BMP_STRING: {
      if (content.length % 2 !== 0) throw malformed('BMPString of odd length');
      let s = '';
      for (let i = 0; i < content.length; i += 2) s += String.fromCharCode(((content[i] as number) << 8) | (content[i + 1] as number));
      return s;
    }
    case TAG.UNIVERSAL_STRING: {
      if (content.length % 4 !== 0) throw malformed('UniversalString length not a multiple of 4');
      let s = '';
      for (let i = 0; i < content.length; i += 4) {
        const cp = (((content[i] as number) << 24) | ((content[i + 1] as number) << 16) | ((content[i + 2] as number) << 8) | (content[i + 3] as number)) >>> 0;
        if (cp > 0x10ffff) throw malformed('UniversalString code point out of range');
        s += String.fromCodePoint(cp);
      }
      return s;
    }
    default:
      return undefined;
  }
}
