// Distinguished names: parse the RFC 4514 / RFC 2253 strings of the liste blanche, read the
// subject of a certificate from its DER, and compare both through one canonical form that
// implements distinguishedNameMatch (RFC 4517 §4.2.15) with the string preparation of
// RFC 4518 for caseIgnoreMatch, the equality rule of CN, OU, O, ST, L, C, SERIALNUMBER:
//   - attribute types: aliases and OIDs map to one upper-case short name (2.5.4.3 = cn = CN);
//   - values: escapes and #hex decoded; a #hex value of a string type is that string (the
//     DirectoryString is compared, whatever its ASN.1 string type); any other #hex value is
//     compared as its BER encoding, and never equals a string that happens to read "#…";
//   - RFC 4518 §2.2 map: soft hyphen, joiners, variation selectors, U+FEFF and the other
//     "mapped to nothing" characters removed; tab, line ends and every space separator become
//     SPACE; case folded (full Unicode case mapping); §2.3 NFKC; §2.4 a value holding a
//     prohibited character (unassigned, private use, non-character, surrogate, U+FFFD)
//     matches nothing; §2.6.1 leading and trailing spaces removed, inner runs collapsed;
//   - multi-valued RDNs: a set, their attributes sorted; distinct from separate RDNs;
//   - RDN order is significant (RFC 4517): the list writes RFC 2253 order (CN first), the
//     reverse of the DER order, and the DER is read into that order. `C=FR,…,CN=x` is not
//     `CN=x,…,C=FR`.
// The real list's writing habits compare equal to the certificates, as before: quoted values
// (RFC 1779) with double spaces, `, ` separators, NFC or NFD accents, upper or lower case.
import type { X509Certificate } from 'node:crypto';
import { MssError } from '../errors.js';
import { certificateFields } from './cert-der.js';
import { bytesOf, childrenOf, contentOf, decodeOid, decodeString, expectTag, readTlv, TAG } from './der.js';
import { canonicalTypeName, typeNameForOid } from './dn-attributes.js';

/** One attribute. `ber` (lowercase hex) is set when the value is not a character string. */
export interface Ava {
  readonly type: string;
  readonly value: string;
  readonly ber?: string;
}
export type Rdn = readonly Ava[];

export interface Dn {
  /** RFC 4514 order: the most specific RDN (CN) first, as in the liste blanche. */
  readonly rdns: readonly Rdn[];
  /** Comparison key: equal canonical strings mean the same DN. */
  readonly canonical: string;
}

// ---------------------------------------------------------------- canonical form

// RFC 4518 §2.2: mapped to nothing (soft hyphens, joiners, variation selectors, U+FFFC, and
// the control and format characters it lists, U+FEFF included), and mapped to SPACE.
// Lint: control characters are the point; each variation selector and combining mark is mapped to nothing on its own (u flag).
const MAPPED_TO_NOTHING =
  // eslint-disable-next-line no-control-regex, no-misleading-character-class
  /[\u{00AD}\u{1806}\u{034F}\u{180B}-\u{180D}\u{FE00}-\u{FE0F}\u{FFFC}\u{0000}-\u{0008}\u{000E}-\u{001F}\u{007F}-\u{0084}\u{0086}-\u{009F}\u{06DD}\u{070F}\u{180E}\u{200B}-\u{200F}\u{202A}-\u{202E}\u{2060}-\u{2063}\u{206A}-\u{206F}\u{FEFF}\u{FFF9}-\u{FFFB}\u{1D173}-\u{1D17A}\u{E0001}\u{E0020}-\u{E007F}]/gu;
// eslint-disable-next-line no-control-regex -- TAB…CR are mapped to SPACE (RFC 4518 §2.2)
const MAPPED_TO_SPACE = /[\u{0009}-\u{000D}\u{0085}\u{00A0}\u{1680}\u{2000}-\u{200A}\u{2028}\u{2029}\u{202F}\u{205F}\u{3000}]/gu;
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
// §2.4: unassigned, private use, non-characters, surrogates, U+FFFD.
const PROHIBITED =
  /[\p{Cn}\p{Co}\p{Cs}\u{FDD0}-\u{FDEF}\u{FFFD}\u{FFFE}\u{FFFF}\u{1FFFE}\u{1FFFF}\u{2FFFE}\u{2FFFF}\u{3FFFE}\u{3FFFF}\u{4FFFE}\u{4FFFF}\u{5FFFE}\u{5FFFF}\u{6FFFE}\u{6FFFF}\u{7FFFE}\u{7FFFF}\u{8FFFE}\u{8FFFF}\u{9FFFE}\u{9FFFF}\u{AFFFE}\u{AFFFF}\u{BFFFE}\u{BFFFF}\u{CFFFE}\u{CFFFF}\u{DFFFE}\u{DFFFF}\u{EFFFE}\u{EFFFF}\u{10FFFE}\u{10FFFF}]/u;

/**
 * RFC 4518 string preparation of a caseIgnoreMatch value, or undefined when the value holds a
 * prohibited character (the match is then Undefined: it equals nothing).
 */
export function preparedValue(value: string): string | undefined {
  // Printable ASCII (nearly every value of the list): nothing to map, NFKC is the identity.
  if (PRINTABLE_ASCII.test(value)) return value.toLowerCase().replace(/ +/g, ' ').trim();
  const mapped = value.replace(MAPPED_TO_NOTHING, '').replace(MAPPED_TO_SPACE, ' ');
  // Case folding (RFC 3454 B.2) by full case mapping: upper then lower folds ß, ς, ﬁ… too.
  const prepared = mapped.toUpperCase().toLowerCase().normalize('NFKC');
  if (PROHIBITED.test(prepared)) return undefined;
  return prepared.replace(/ +/g, ' ').trim();
}

/** Canonical value for comparisons (RFC 4518); a prohibited value gets a key that matches nothing. */
export function canonicalValue(value: string): string {
  return preparedValue(value) ?? unmatchable();
}

let unmatchableCount = 0;
/** A key no other value produces: the "Undefined" of RFC 4517 matching never compares equal. */
function unmatchable(): string {
  unmatchableCount++;
  return `\u0000undefined-match-${unmatchableCount}`;
}

/** False when a value of the DN holds a character RFC 4518 prohibits: such a DN equals nothing. */
export function isMatchableDn(canonical: string): boolean {
  return !canonical.includes('\u0000');
}

function escapeCanonical(v: string): string {
  // A string value never reads as a #BER value in the canonical form (the "#04026162" case).
  return v.replace(/[\\,+=#]/g, (c) => `\\${c}`);
}

function canonicalAva(a: Ava): string {
  return `${a.type}=${a.ber !== undefined ? `#${a.ber}` : escapeCanonical(canonicalValue(a.value))}`;
}

function canonicalOf(rdns: readonly Rdn[]): string {
  // RDN order is significant (distinguishedNameMatch); the attributes of one RDN are a set.
  return rdns.map((rdn) => rdn.map(canonicalAva).sort().join('+')).join(',');
}

function makeDn(rdns: Rdn[]): Dn {
  return { rdns, canonical: canonicalOf(rdns) };
}

// ---------------------------------------------------------------- string parsing

function invalid(input: string, why: string, at: number): MssError {
  return new MssError('DN_INVALID', `invalid distinguished name "${input}": ${why} at position ${at}`, { dn: input, position: at });
}

const HEX2 = /^[0-9A-Fa-f]{2}$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

class DnParser {
  private i = 0;
  constructor(private readonly s: string) {}

  parse(): Dn {
    const rdns: Rdn[] = [];
    this.skipSpaces();
    if (this.i >= this.s.length) return makeDn(rdns);
    for (;;) {
      rdns.push(this.rdn());
      this.skipSpaces();
      if (this.i >= this.s.length) break;
      const c = this.s[this.i];
      // RFC 2253 §4 asks parsers to accept ';' (from RFC 1779) as a separator too.
      if (c === ',' || c === ';') {
        this.i++;
        continue;
      }
      throw invalid(this.s, `unexpected "${c}"`, this.i);
    }
    return makeDn(rdns);
  }

  private rdn(): Rdn {
    const avas: Ava[] = [];
    for (;;) {
      avas.push(this.ava());
      this.skipSpaces();
      if (this.s[this.i] === '+') {
        this.i++;
        continue;
      }
      return avas;
    }
  }

  private ava(): Ava {
    this.skipSpaces();
    const start = this.i;
    while (this.i < this.s.length && this.s[this.i] !== '=' && this.s[this.i] !== ',' && this.s[this.i] !== '+' && this.s[this.i] !== ';') this.i++;
    if (this.s[this.i] !== '=') throw invalid(this.s, 'attribute without "="', start);
    const written = this.s.slice(start, this.i).trim();
    const type = canonicalTypeName(written);
    if (!type) throw invalid(this.s, `bad attribute type "${written}"`, start);
    this.i++;
    this.skipSpaces();
    const c = this.s[this.i];
    if (c === '#') return this.berValue(type);
    if (c === '"') return { type, value: this.quotedValue() };
    return { type, value: this.stringValue() };
  }

  /** #hex: the BER encoding of the value (RFC 4514 §2.4). */
  private berValue(type: string): Ava {
    const start = ++this.i;
    while (this.i < this.s.length && /[0-9A-Fa-f]/.test(this.s[this.i] as string)) this.i++;
    const hex = this.s.slice(start, this.i);
    if (hex.length === 0 || hex.length % 2 !== 0) throw invalid(this.s, 'odd or empty #hex value', start);
    const bytes = Buffer.from(hex, 'hex');
    let tlv;
    try {
      tlv = readTlv(bytes, 0);
    } catch {
      throw invalid(this.s, '#hex value is not BER', start);
    }
    if (tlv.end !== bytes.length) throw invalid(this.s, 'trailing bytes after the #hex BER value', start);
    let text: string | undefined;
    try {
      text = decodeString(tlv.tag, contentOf(bytes, tlv));
    } catch {
      throw invalid(this.s, '#hex string value is not valid for its type', start);
    }
    return text !== undefined ? { type, value: text } : { type, value: `#${hex.toLowerCase()}`, ber: hex.toLowerCase() };
  }

  /** RFC 1779 quoted value: separators are literal inside; backslash escapes still apply. */
  private quotedValue(): string {
    const open = this.i++;
    let out = '';
    for (;;) {
      if (this.i >= this.s.length) throw invalid(this.s, 'unterminated quoted value', open);
      const c = this.s[this.i] as string;
      if (c === '"') {
        this.i++;
        return out;
      }
      if (c === '\\') out += this.escape();
      else {
        out += c;
        this.i++;
      }
    }
  }

  private stringValue(): string {
    let out = '';
    // Length of `out` up to its last escaped character: trailing spaces that were escaped
    // are part of the value, unescaped ones are not (RFC 4514 §2.4 / §3).
    let keep = 0;
    while (this.i < this.s.length) {
      const c = this.s[this.i] as string;
      if (c === ',' || c === '+' || c === ';') break;
      if (c === '\\') {
        out += this.escape();
        keep = out.length;
      } else {
        out += c;
        this.i++;
        if (c !== ' ') keep = out.length;
      }
    }
    return out.slice(0, keep);
  }

  /** One escape, or a run of \XX pairs decoded together as UTF-8 (RFC 4514 §3). */
  private escape(): string {
    const at = this.i;
    const pair = this.s.slice(this.i + 1, this.i + 3);
    if (!HEX2.test(pair)) {
      const next = this.s[this.i + 1];
      if (next === undefined) throw invalid(this.s, 'dangling backslash', at);
      this.i += 2;
      return next;
    }
    const bytes: number[] = [];
    while (this.s[this.i] === '\\' && HEX2.test(this.s.slice(this.i + 1, this.i + 3))) {
      bytes.push(parseInt(this.s.slice(this.i + 1, this.i + 3), 16));
      this.i += 3;
    }
    try {
      return utf8.decode(Uint8Array.from(bytes));
    } catch {
      throw invalid(this.s, 'escaped bytes that are not UTF-8', at);
    }
  }

  private skipSpaces(): void {
    while (this.s[this.i] === ' ') this.i++;
  }
}

/** Parse an RFC 4514 / 2253 (and RFC 1779 style) string. Throws MssError DN_INVALID. */
export function parseDn(text: string): Dn {
  return new DnParser(text).parse();
}

// Lookups of the same few hundred DNs happen per connection and per message: cache the
// canonical form. The cap bounds memory if callers feed arbitrary strings.
const CACHE_MAX = 50_000;
const canonicalCache = new Map<string, string>();

/** Canonical form of a DN string (cached). Throws MssError DN_INVALID. */
export function canonicalDn(text: string): string {
  const hit = canonicalCache.get(text);
  if (hit !== undefined) return hit;
  const canonical = parseDn(text).canonical;
  if (canonicalCache.size >= CACHE_MAX) canonicalCache.clear();
  canonicalCache.set(text, canonical);
  return canonical;
}

export function dnEquals(a: string | Dn, b: string | Dn): boolean {
  const ca = typeof a === 'string' ? canonicalDn(a) : a.canonical;
  const cb = typeof b === 'string' ? canonicalDn(b) : b.canonical;
  return ca === cb;
}

/** Values of one attribute type, in RDN order (e.g. both OUs of an IGC-Santé CA). */
export function dnValues(dn: Dn, type: string): string[] {
  const t = canonicalTypeName(type) ?? type;
  return dn.rdns.flatMap((rdn) => rdn.filter((a) => a.type === t).map((a) => a.value));
}

// ---------------------------------------------------------------- formatting

function escapeValue(v: string): string {
  let out = v.replace(/[\\"+,;<>]/g, (c) => `\\${c}`).replace(/\0/g, '\\00');
  if (out.startsWith(' ') || out.startsWith('#')) out = `\\${out}`;
  if (out.endsWith(' ') && out.length > 1) out = `${out.slice(0, -1)}\\ `;
  return out;
}

/** RFC 4514 string, CN first, UTF-8 kept readable: for messages and logs. */
export function formatDn(dn: Dn): string {
  return dn.rdns.map((rdn) => rdn.map((a) => `${a.type}=${a.ber !== undefined ? `#${a.ber}` : escapeValue(a.value)}`).join('+')).join(',');
}

// ---------------------------------------------------------------- from DER

/** A DER-encoded Name (RDNSequence). ASN.1 order is reversed into RFC 4514 order. */
export function dnFromNameDer(der: Uint8Array): Dn {
  const name = expectTag(readTlv(der, 0), TAG.SEQUENCE, 'Name SEQUENCE');
  const rdns: Rdn[] = [];
  for (const set of childrenOf(der, name)) {
    expectTag(set, TAG.SET, 'RelativeDistinguishedName SET');
    const avas: Ava[] = [];
    for (const seq of childrenOf(der, set)) {
      const [oidTlv, valueTlv] = childrenOf(der, expectTag(seq, TAG.SEQUENCE, 'AttributeTypeAndValue'));
      const type = typeNameForOid(decodeOid(contentOf(der, expectTag(oidTlv, TAG.OID, 'attribute type OID'))));
      if (!valueTlv) throw new MssError('DER_MALFORMED', 'malformed DER: attribute without value');
      const text = decodeString(valueTlv.tag, contentOf(der, valueTlv));
      if (text !== undefined) avas.push({ type, value: text });
      else {
        const ber = Buffer.from(bytesOf(der, valueTlv)).toString('hex');
        avas.push({ type, value: `#${ber}`, ber });
      }
    }
    rdns.push(avas);
  }
  return makeDn(rdns.reverse());
}

const certDnCache = new Map<string, Dn>();

function cachedNameDn(nameDer: Uint8Array): Dn {
  const key = Buffer.from(nameDer).toString('latin1');
  const hit = certDnCache.get(key);
  if (hit) return hit;
  const dn = dnFromNameDer(nameDer);
  if (certDnCache.size >= CACHE_MAX) certDnCache.clear();
  certDnCache.set(key, dn);
  return dn;
}

function derOf(cert: Uint8Array | X509Certificate): Uint8Array {
  return cert instanceof Uint8Array ? cert : cert.raw;
}

/** Subject of a certificate (DER bytes or node's X509Certificate), read from the DER. */
export function dnFromCertificate(cert: Uint8Array | X509Certificate): Dn {
  const der = derOf(cert);
  return cachedNameDn(bytesOf(der, certificateFields(der).subject));
}

/** Issuer of a certificate, read from the DER. */
export function issuerDnFromCertificate(cert: Uint8Array | X509Certificate): Dn {
  const der = derOf(cert);
  return cachedNameDn(bytesOf(der, certificateFields(der).issuer));
}
