// Packet framing: every milter packet is a 4-byte big-endian length, then that many bytes,
// the first of which is the command (or response) code. TCP delivers them split and
// coalesced at random, so the decoder buffers partial packets and returns every complete
// one in a chunk. The length is checked before anything is buffered, so a peer cannot make
// us hold more than one maximum-size packet.
import { MssError } from '../errors.js';

export interface Packet {
  /** The command or response code, one byte as a one-character string. */
  code: string;
  /** The bytes after the code (may share memory with the received chunk). */
  data: Buffer;
}

/** Smallest sensible maximum: one full body chunk (65,535 bytes) plus its code byte. */
export const MIN_MAX_PACKET = 65_536;

export class PacketDecoder {
  private parts: Buffer[] = [];
  private size = 0;

  constructor(private readonly maxPacket: number) {}

  /** Bytes held for a packet not yet complete. */
  get pending(): number {
    return this.size;
  }

  /**
   * Feed received bytes; returns the packets they complete, in order. Throws an MssError
   * (MILTER_PACKET_EMPTY, MILTER_PACKET_TOO_LARGE) on a length the protocol forbids: the
   * stream cannot be resynchronised after that, so the caller closes the connection.
   */
  push(chunk: Buffer): Packet[] {
    if (chunk.length === 0) return [];
    this.parts.push(chunk);
    this.size += chunk.length;
    const out: Packet[] = [];
    let buf = this.parts.length === 1 ? chunk : this.peekHeader();
    while (this.size >= 4) {
      const length = buf.readUInt32BE(0);
      if (length === 0) throw new MssError('MILTER_PACKET_EMPTY', 'milter packet of length 0 (no command code)');
      if (length > this.maxPacket) {
        throw new MssError('MILTER_PACKET_TOO_LARGE', `milter packet of ${length} bytes exceeds the maximum of ${this.maxPacket}`, { length, max: this.maxPacket });
      }
      if (this.size < 4 + length) break;
      buf = this.flatten();
      out.push({ code: String.fromCharCode(buf[4] ?? 0), data: buf.subarray(5, 4 + length) });
      const rest = buf.subarray(4 + length);
      this.parts = rest.length > 0 ? [rest] : [];
      this.size = rest.length;
      buf = rest;
    }
    return out;
  }

  /** At least the first 4 bytes contiguous, without copying more than needed. */
  private peekHeader(): Buffer {
    const first = this.parts[0];
    if (first && first.length >= 4) return first;
    return this.flatten();
  }

  private flatten(): Buffer {
    if (this.parts.length !== 1) this.parts = [Buffer.concat(this.parts, this.size)];
    return this.parts[0] ?? Buffer.alloc(0);
  }
}

/** One packet: length, code, then the parts of its data. */
export function encodePacket(code: string, ...parts: Buffer[]): Buffer {
  let length = 1;
  for (const p of parts) length += p.length;
  const out = Buffer.allocUnsafe(4 + length);
  out.writeUInt32BE(length, 0);
  out[4] = code.charCodeAt(0);
  let offset = 5;
  for (const p of parts) {
    p.copy(out, offset);
    offset += p.length;
  }
  return out;
}

/** A NUL-terminated string as the protocol carries it. */
export function cstr(value: string): Buffer {
  const b = Buffer.from(value, 'utf8');
  const out = Buffer.allocUnsafe(b.length + 1);
  b.copy(out, 0);
  out[b.length] = 0;
  return out;
}

export function uint32(value: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(value >>> 0, 0);
  return b;
}
