// Which certificate may sign the liste blanche (EX_2.2_5050: "émis par l'ANS et attribué à
// l'ANS"; §6.6, Tableau 42: signed with an ANS signing certificate). "Issued by" is the PKIX
// path to the IGC-Santé store (truststore.ts). On top of it, this file says:
//   - what kind of certificate: an end-entity S/MIME signing certificate — keyUsage with
//     digitalSignature (nonRepudiation allowed, nothing else), extendedKeyUsage with
//     emailProtection when the extension is present, an RSA key of at least 2048 bits. The
//     signer of the published list has exactly digitalSignature + nonRepudiation and
//     emailProtection; a TLS server certificate of the same holder is not a list signer;
//   - "attributed to": subject attributes from whitelist.signer.subject. A pattern lists
//     attribute types with accepted values; each type must be present, and *every* value the
//     subject carries for it must be one of the accepted ones (a second OU does not slip
//     through beside the ANS's). Values compare exactly, code point for code point: no case
//     folding, no Unicode compatibility folding (fullwidth digits are not digits here).
//     Several patterns: any one may match (e.g. during a change of signing certificate).
import { EKU, type CertInfo, type KeyUsage } from '../pki/certificate.js';
import { dnValues, type Dn } from '../pki/dn.js';

export type SubjectPattern = Readonly<Record<string, readonly string[]>>;
export type SignerSubject = SubjectPattern | readonly SubjectPattern[];

export function patternsOf(subject: SignerSubject): readonly SubjectPattern[] {
  return Array.isArray(subject) ? (subject as readonly SubjectPattern[]) : [subject as SubjectPattern];
}

function patternMatches(dn: Dn, pattern: SubjectPattern): boolean {
  const types = Object.keys(pattern);
  if (types.length === 0) return false; // an empty pattern would accept any IGC-Santé certificate
  return types.every((type) => {
    const have = dnValues(dn, type);
    const accepted = pattern[type] ?? [];
    // EX_2.2_5050: every value of a repeated attribute must be accepted, compared exactly.
    return have.length > 0 && have.every((v) => accepted.includes(v));
  });
}

export function signerMatches(dn: Dn, subject: SignerSubject): boolean {
  return patternsOf(subject).some((p) => patternMatches(dn, p));
}

export function describeSignerSubject(subject: SignerSubject): string {
  return patternsOf(subject)
    .map((p) =>
      Object.entries(p)
        .map(([t, vs]) => `${t}∈{${vs.join(' | ')}}`)
        .join(' and '),
    )
    .join(' or ');
}

const SIGNING_USAGES: ReadonlySet<KeyUsage> = new Set(['digitalSignature', 'nonRepudiation']);
export const MIN_RSA_BITS = 2048;

export type SignerKindProblem = { code: 'WL_SIGNER_KEY_USAGE' | 'WL_SIGNER_KEY_WEAK'; why: string };

/** EX_2.2_5050, Tableau 42: is this certificate an S/MIME signing certificate with a strong RSA key? */
export function signerKindProblem(cert: CertInfo): SignerKindProblem | undefined {
  if (cert.isCa) return { code: 'WL_SIGNER_KEY_USAGE', why: 'it is a CA certificate, not an end-entity certificate' };
  const key = cert.x509.publicKey;
  if (key.asymmetricKeyType !== 'rsa')
    return { code: 'WL_SIGNER_KEY_WEAK', why: `its key is ${key.asymmetricKeyType ?? 'of an unknown type'}; rsa-sha256 needs RSA` };
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MIN_RSA_BITS) return { code: 'WL_SIGNER_KEY_WEAK', why: `its RSA key has ${bits} bits, fewer than ${MIN_RSA_BITS}` };
  if (!cert.keyUsage) return { code: 'WL_SIGNER_KEY_USAGE', why: 'it has no keyUsage extension (digitalSignature is required)' };
  if (!cert.keyUsage.has('digitalSignature'))
    return { code: 'WL_SIGNER_KEY_USAGE', why: `its keyUsage (${[...cert.keyUsage].join(', ')}) lacks digitalSignature` };
  const other = [...cert.keyUsage].filter((u) => !SIGNING_USAGES.has(u));
  if (other.length > 0)
    return {
      code: 'WL_SIGNER_KEY_USAGE',
      why: `its keyUsage allows ${other.join(', ')} besides signing (only digitalSignature and nonRepudiation are accepted)`,
    };
  if (cert.extKeyUsage && !cert.extKeyUsage.includes(EKU.emailProtection)) {
    return {
      code: 'WL_SIGNER_KEY_USAGE',
      why: `its extendedKeyUsage (${cert.extKeyUsage.map(ekuName).join(', ')}) lacks emailProtection: not an S/MIME signing certificate`,
    };
  }
  return undefined;
}

function ekuName(oid: string): string {
  return (Object.entries(EKU).find(([, o]) => o === oid)?.[0] as string | undefined) ?? oid;
}
