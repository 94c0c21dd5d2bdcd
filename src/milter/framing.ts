// Packet framing: every milter packet is a 4-byte big-endian length, then that many bytes,
// the first of which is the command (or response) code. TCP delivers them split and
// coalesced at random, so the decoder buffers what it receives and cuts it into packets on
// demand. A length is checked as soon as its 4 bytes are reached, before its data is
// waited for, so no packet beyond the maximum size is ever awaited.
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
  /** Where the next packet starts in parts[0]. */
  private offset = 0;
  private size = 0;
  /** Length (code included) of the complete packet peek() found at offset; 0 when none. */
  private peeked = 0;

  constructor(private readonly maxPacket: number) {}

  /** Bytes held: packets not yet taken, then a packet not yet complete. */
  get pending(): number {
    return this.size;
  }

  /** Keep received bytes; peek() and next() cut them into packets. */
  feed(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.parts.push(chunk);
    this.size += chunk.length;
  }

  /**
   * The command code of the next complete packet, or undefined until more bytes come. The
   * packet stays here until next() builds it or skip() drops it: one packet at a time, so a
   * caller that stops taking them (a peer that does not read its replies) makes us hold raw
   * bytes only, not an object per packet. Throws an MssError (MILTER_PACKET_EMPTY,
   * MILTER_PACKET_TOO_LARGE) on a length the protocol forbids, as soon as the 4 length
   * bytes are in: the stream cannot be resynchronised after that, so the caller closes.
   */
  peek(): string | undefined {
    if (this.size < 4) return undefined;
    const length = this.contiguous(4).readUInt32BE(this.offset);
    if (length === 0) throw new MssError('MILTER_PACKET_EMPTY', 'milter packet of length 0 (no command code)');
    if (length > this.maxPacket) {
      throw new MssError('MILTER_PACKET_TOO_LARGE', `milter packet of ${length} bytes exceeds the maximum of ${this.maxPacket}`, {
        length,
        max: this.maxPacket,
      });
    }
    if (this.size < 4 + length) return undefined;
    const head = this.contiguous(4 + length);
    this.peeked = length;
    // A one-character string: V8 hands out a shared one, nothing is allocated.
    return String.fromCharCode(head[this.offset + 4] ?? 0);
  }

  /** Data bytes (after the code) of the packet peek() found. */
  get peekedDataLength(): number {
    return this.peeked - 1;
  }

  /**
   * Where the data of the packet peek() found lies: peekedBuffer[peekedStart, peekedEnd),
   * valid until skip(). No view is made (a parser reads it in place, see parseCommandAt).
   */
  get peekedBuffer(): Buffer {
    return this.parts[0] as Buffer;
  }
  get peekedStart(): number {
    return this.offset + 5;
  }
  get peekedEnd(): number {
    return this.offset + 4 + this.peeked;
  }

  /** The next complete packet (see peek()), or undefined until more bytes come. */
  next(): Packet | undefined {
    const code = this.peek();
    if (code === undefined) return undefined;
    const at = this.offset;
    const data = (this.parts[0] as Buffer).subarray(at + 5, at + 4 + this.peeked);
    this.skip();
    return { code, data };
  }

  /** Drop the packet peek() found without building it (a caller that needs only its length). */
  skip(): void {
    if (this.peeked === 0 && this.peek() === undefined) return;
    const head = this.parts[0] as Buffer;
    this.offset += 4 + this.peeked;
    this.size -= 4 + this.peeked;
    this.peeked = 0;
    if (this.offset === head.length) {
      this.parts.shift();
      this.offset = 0;
    }
  }

  /** Feed received bytes; returns every packet they complete, in order (see next()). */
  push(chunk: Buffer): Packet[] {
    this.feed(chunk);
    const out: Packet[] = [];
    for (let p = this.next(); p; p = this.next()) out.push(p);
    return out;
  }

  /**
   * parts[0] from offset holds at least n bytes (n <= size). A packet cut by a chunk
   * boundary is copied out alone: the chunk that holds its end is not copied with it (a
   * copy of each 64 KB chunk for a 6-byte packet is what a flood of them would cost).
   */
  private contiguous(n: number): Buffer {
    const first = this.parts[0] as Buffer;
    if (first.length - this.offset >= n) return first;
    const joined = Buffer.allocUnsafe(n);
    let have = first.copy(joined, 0, this.offset);
    let whole = 1;
    while (have < n) {
      const part = this.parts[whole] as Buffer;
      const take = Math.min(part.length, n - have);
      have += part.copy(joined, have, 0, take);
      if (take < part.length) {
        this.parts[whole] = part.subarray(take);
        break;
      }
      whole++;
    }
    this.parts.splice(0, whole, joined);
    this.offset = 0;
    return joined;
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
