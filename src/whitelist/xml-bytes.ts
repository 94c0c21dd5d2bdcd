// Bytes → text for the liste blanche (and the Annuaire's SOAP responses, with their own
// codes), refusing before parsing what a parser must never see: oversize bodies, other
// encodings, and any DTD (XXE, billion laughs). The list is signed data from the ANS;
// nothing in its published shape needs a DTD or an entity. No XML library here: the list's
// verification loads only saxes (xml-tree.ts), not a DOM.
import { MssError, type ErrorCode } from '../errors.js';

export const LIST_NS = 'https://listeblanche.mssante.fr/schema';
export const DSIG_NS = 'http://www.w3.org/2000/09/xmldsig#';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * What a guarded decode or parse refuses with, and how it names the document. The liste
 * blanche and the Annuaire's SOAP responses share these checks with their own codes.
 */
export interface XmlGuard {
  /** "the liste blanche", "the Annuaire response"... */
  what: string;
  /** The setting that bounds the size, for the message (e.g. whitelist.maxBytes). */
  limit: string;
  codes: { tooLarge: ErrorCode; encoding: ErrorCode; dtd: ErrorCode; malformed: ErrorCode; shape: ErrorCode };
}

export const LIST_GUARD: XmlGuard = {
  what: 'the liste blanche',
  limit: 'whitelist.maxBytes',
  codes: { tooLarge: 'WL_TOO_LARGE', encoding: 'WL_ENCODING', dtd: 'WL_DTD_FORBIDDEN', malformed: 'WL_XML_MALFORMED', shape: 'WL_SHAPE' },
};

/** Decode the downloaded bytes as UTF-8 text, refusing what must not be parsed. */
export function decodeListBytes(bytes: Uint8Array, source: string, maxBytes: number): string {
  return decodeXmlBytes(bytes, source, maxBytes, LIST_GUARD);
}

/** UTF-8 XML 1.0 text, refusing oversize bodies, other encodings, PIs and any DTD (XXE, billion laughs). */
export function decodeXmlBytes(bytes: Uint8Array, source: string, maxBytes: number, guard: XmlGuard): string {
  const { what, codes } = guard;
  const refuse = (code: ErrorCode, message: string, details: Record<string, unknown>): MssError => new MssError(code, message, details);
  if (bytes.length > maxBytes) {
    throw refuse(codes.tooLarge, `${source}: ${bytes.length} bytes, more than ${guard.limit} (${maxBytes})`, { source, size: bytes.length, maxBytes });
  }
  if ((bytes[0] === 0xfe && bytes[1] === 0xff) || (bytes[0] === 0xff && bytes[1] === 0xfe)) {
    throw refuse(codes.encoding, `${source}: UTF-16 document; ${what} is UTF-8`, { source });
  }
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw refuse(codes.encoding, `${source}: not valid UTF-8`, { source });
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const decl = /^<\?xml[ \t\r\n]([^>]*?)\?>/.exec(text)?.[1];
  if (decl !== undefined) {
    const version = /\bversion\s*=\s*(["'])([^"']*)\1/.exec(decl)?.[2];
    // Line ends, names and characters follow XML 1.0 here; an XML 1.1 document would be parsed differently.
    if (version !== '1.0')
      throw refuse(codes.malformed, `${source}: XML declaration says version ${JSON.stringify(version ?? null)}; ${what} is XML 1.0`, { source });
    const encoding = /\bencoding\s*=\s*(["'])([^"']*)\1/.exec(decl)?.[2];
    if (encoding !== undefined && !/^utf-?8$/i.test(encoding)) {
      throw refuse(codes.encoding, `${source}: declares encoding "${encoding}"; only UTF-8 is accepted`, { source, encoding });
    }
  }
  // No processing instruction besides the XML declaration: none in the published shape,
  // invisible to the signature outside the root, and mishandled by the canonicalizer inside.
  const pi = /<\?/g;
  pi.lastIndex = decl !== undefined ? 2 : 0;
  const piAt = pi.exec(text);
  if (piAt) throw refuse(codes.shape, `${source}: processing instruction at offset ${piAt.index}; ${what} has none`, { source, offset: piAt.index });
  const dtd = /<!\s*(DOCTYPE|ENTITY)/i.exec(text);
  if (dtd) {
    throw refuse(
      codes.dtd,
      `${source}: contains a ${dtd[1]?.toUpperCase()} declaration at offset ${dtd.index}; DTDs and entities are refused (XXE, entity expansion)`,
      { source, offset: dtd.index },
    );
  }
  return text;
}
