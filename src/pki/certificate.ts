// What path validation and the gates need to know about one certificate, read once from
// its DER: names (see dn.ts), serial, validity, basicConstraints, keyUsage, extKeyUsage.
// Signatures are checked with node:crypto (X509Certificate.verify / checkIssued).
import { X509Certificate } from 'node:crypto';
import { MssError } from '../errors.js';
import { certificateFields } from './cert-der.js';
import { childrenOf, contentOf, decodeOid, decodeTime, expectTag, integerHex, readTlv, TAG, type Tlv } from './der.js';
import { dnFromCertificate, formatDn, issuerDnFromCertificate, type Dn } from './dn.js';

export const KEY_USAGE_BITS = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
] as const;
export type KeyUsage = (typeof KEY_USAGE_BITS)[number];

export const EKU = {
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  emailProtection: '1.3.6.1.5.5.7.3.4',
} as const;

const OID_BASIC_CONSTRAINTS = '2.5.29.19';
const OID_KEY_USAGE = '2.5.29.15';
const OID_EXT_KEY_USAGE = '2.5.29.37';

/**
 * Extensions this code either processes or may safely ignore when marked critical
 * (RFC 5280 §4.2: an unrecognised critical extension makes the certificate unusable).
 */
const UNDERSTOOD_EXTENSIONS = new Set([
  OID_BASIC_CONSTRAINTS,
  OID_KEY_USAGE,
  OID_EXT_KEY_USAGE,
  '2.5.29.14', // subjectKeyIdentifier
  '2.5.29.35', // authorityKeyIdentifier
  '2.5.29.17', // subjectAltName
  '2.5.29.18', // issuerAltName
  '2.5.29.31', // cRLDistributionPoints
  '2.5.29.46', // freshestCRL
  '2.5.29.32', // certificatePolicies (no policy processing: IGC-Santé sets no policy constraints)
  '2.5.29.16', // privateKeyUsagePeriod
  '1.3.6.1.5.5.7.1.1', // authorityInfoAccess
]);

export interface CertInfo {
  readonly x509: X509Certificate;
  readonly der: Buffer;
  readonly subject: Dn;
  readonly issuer: Dn;
  /** Unsigned lowercase hex, no leading zeros: the form CRL entries are compared in. */
  readonly serial: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** basicConstraints cA; false when the extension is absent. */
  readonly isCa: boolean;
  readonly pathLen?: number;
  /** undefined when the keyUsage extension is absent (then every usage is allowed). */
  readonly keyUsage?: ReadonlySet<KeyUsage>;
  readonly extKeyUsage?: readonly string[];
  readonly unknownCriticalExtensions: readonly string[];
  readonly selfIssued: boolean;
  readonly fingerprint256: string;
}

function parseExtensions(der: Uint8Array, seq: Tlv | undefined) {
  const out: { isCa: boolean; pathLen?: number; keyUsage?: Set<KeyUsage>; extKeyUsage?: string[]; unknownCritical: string[] } = {
    isCa: false,
    unknownCritical: [],
  };
  if (!seq) return out;
  for (const ext of childrenOf(der, seq)) {
    const parts = childrenOf(der, expectTag(ext, TAG.SEQUENCE, 'Extension'));
    const oid = decodeOid(contentOf(der, expectTag(parts[0], TAG.OID, 'extnID')));
    const critical = parts[1]?.tag === TAG.BOOLEAN && der[parts[1].contentStart] !== 0;
    const valueTlv = expectTag(parts[parts.length - 1], TAG.OCTET_STRING, 'extnValue');
    const value = contentOf(der, valueTlv);
    if (critical && !UNDERSTOOD_EXTENSIONS.has(oid)) out.unknownCritical.push(oid);
    if (oid === OID_BASIC_CONSTRAINTS) {
      const bc = childrenOf(value, expectTag(readTlv(value, 0), TAG.SEQUENCE, 'BasicConstraints'));
      for (const item of bc) {
        if (item.tag === TAG.BOOLEAN) out.isCa = value[item.contentStart] !== 0;
        else if (item.tag === TAG.INTEGER) out.pathLen = parseInt(integerHex(contentOf(value, item)) || '0', 16);
      }
    } else if (oid === OID_KEY_USAGE) {
      const bits = contentOf(value, expectTag(readTlv(value, 0), TAG.BIT_STRING, 'KeyUsage BIT STRING'));
      const set = new Set<KeyUsage>();
      KEY_USAGE_BITS.forEach((name, n) => {
        const byte = bits[1 + (n >> 3)];
        if (byte !== undefined && (byte & (0x80 >> (n & 7))) !== 0) set.add(name);
      });
      out.keyUsage = set;
    } else if (oid === OID_EXT_KEY_USAGE) {
      const list = expectTag(readTlv(value, 0), TAG.SEQUENCE, 'ExtKeyUsageSyntax');
      out.extKeyUsage = childrenOf(value, list).map((t) => decodeOid(contentOf(value, t)));
    }
  }
  return out;
}

export type CertInput = CertInfo | X509Certificate | Uint8Array | string;

/** Serial numbers are compared as unsigned lowercase hex without leading zeros (as in CRLs). */
export function normaliseSerial(hex: string): string {
  const s = hex.toLowerCase().replace(/^0+/, '');
  return s === '' ? '0' : s;
}

/** Read a certificate given as CertInfo, node X509Certificate, DER bytes or PEM text. */
export function certInfo(input: CertInput): CertInfo {
  if (typeof input === 'object' && 'x509' in input && 'subject' in input && 'serial' in input) return input;
  let x509: X509Certificate;
  try {
    x509 = input instanceof X509Certificate ? input : new X509Certificate(typeof input === 'string' ? input : Buffer.from(input));
  } catch (err) {
    throw new MssError('CERT_MALFORMED', `not a readable X.509 certificate: ${(err as Error).message}`, {}, { cause: err });
  }
  const der = x509.raw;
  const f = certificateFields(der);
  const [nb, na] = childrenOf(der, f.validity);
  if (!nb || !na) throw new MssError('DER_MALFORMED', 'malformed DER: Validity without two times');
  const ext = parseExtensions(der, f.extensions);
  const subject = dnFromCertificate(der);
  const issuer = issuerDnFromCertificate(der);
  const info: CertInfo = {
    x509,
    der,
    subject,
    issuer,
    serial: normaliseSerial(integerHex(contentOf(der, f.serial))),
    notBefore: decodeTime(der, nb),
    notAfter: decodeTime(der, na),
    isCa: ext.isCa,
    ...(ext.pathLen !== undefined ? { pathLen: ext.pathLen } : {}),
    ...(ext.keyUsage ? { keyUsage: ext.keyUsage } : {}),
    ...(ext.extKeyUsage ? { extKeyUsage: ext.extKeyUsage } : {}),
    unknownCriticalExtensions: ext.unknownCritical,
    selfIssued: subject.canonical === issuer.canonical,
    fingerprint256: x509.fingerprint256,
  };
  return info;
}

/** "CN=…,OU=…" of a certificate's subject, for messages. */
export function describeCert(c: CertInfo): string {
  return formatDn(c.subject);
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Every certificate in a file: PEM (one or several blocks) or a single DER certificate. */
export function certificatesFromFile(bytes: Buffer, file: string): CertInfo[] {
  const text = bytes.toString('latin1');
  const blocks = text.match(PEM_BLOCK);
  try {
    if (blocks) return blocks.map((b) => certInfo(b));
    if (bytes[0] === TAG.SEQUENCE) return [certInfo(bytes)];
  } catch (err) {
    const e = err instanceof MssError ? err : new MssError('CERT_MALFORMED', String(err));
    throw new MssError(e.code, `${file}: ${e.message}`, { file }, { cause: err });
  }
  throw new MssError('CERT_MALFORMED', `${file}: no PEM certificate and not a DER certificate`, { file });
}
