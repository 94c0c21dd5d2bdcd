// Where the fields of an X.509 certificate (RFC 5280 §4.1) sit in its DER bytes.
import { childrenOf, expectTag, readTlv, TAG, type Tlv } from './der.js';

export interface CertificateFields {
  tbs: Tlv;
  serial: Tlv;
  issuer: Tlv;
  validity: Tlv;
  subject: Tlv;
  spki: Tlv;
  /** The SEQUENCE OF Extension inside [3], when present. */
  extensions?: Tlv;
}

export function certificateFields(der: Uint8Array): CertificateFields {
  const cert = expectTag(readTlv(der, 0), TAG.SEQUENCE, 'Certificate SEQUENCE');
  const tbs = expectTag(childrenOf(der, cert)[0], TAG.SEQUENCE, 'TBSCertificate SEQUENCE');
  const f = childrenOf(der, tbs);
  // version is [0] EXPLICIT and optional (absent means v1).
  let i = f[0]?.tag === 0xa0 ? 1 : 0;
  const serial = expectTag(f[i++], TAG.INTEGER, 'serialNumber');
  expectTag(f[i++], TAG.SEQUENCE, 'signature AlgorithmIdentifier');
  const issuer = expectTag(f[i++], TAG.SEQUENCE, 'issuer Name');
  const validity = expectTag(f[i++], TAG.SEQUENCE, 'Validity');
  const subject = expectTag(f[i++], TAG.SEQUENCE, 'subject Name');
  const spki = expectTag(f[i++], TAG.SEQUENCE, 'SubjectPublicKeyInfo');
  let extensions: Tlv | undefined;
  for (; i < f.length; i++) {
    const t = f[i] as Tlv;
    if (t.tag === 0xa3) extensions = expectTag(childrenOf(der, t)[0], TAG.SEQUENCE, 'Extensions SEQUENCE');
  }
  return extensions ? { tbs, serial, issuer, validity, subject, spki, extensions } : { tbs, serial, issuer, validity, subject, spki };
}
