// Every reason a liste blanche is refused, one stable code each (docs/whitelist.md lists
// them). Operators grep logs for these; tests assert them; never reuse one for another case.
import { MssError, type Details } from '../errors.js';

export const WHITELIST_REFUSALS = {
  WL_TOO_LARGE: 'larger than whitelist.maxBytes',
  WL_TOO_COMPLEX: 'nests elements deeper than whitelist.limits.maxDepth or has more than whitelist.limits.maxNodes elements and attributes',
  WL_ENCODING: 'not UTF-8, or declares another encoding',
  WL_DTD_FORBIDDEN: 'contains a DOCTYPE or ENTITY declaration (XXE, entity expansion)',
  WL_XML_MALFORMED: 'not well-formed XML',
  WL_WRONG_ROOT: 'root element is not {https://listeblanche.mssante.fr/schema}ListeBlancheMSSante',
  WL_SHAPE: 'does not have the published shape (DateDeGeneration, one ListeDomaines of Domaine…)',
  WL_UNSIGNED: 'has no XMLDSig Signature',
  WL_SIGNATURE_MULTIPLE: 'has more than one Signature element',
  WL_SIGNATURE_MISPLACED: 'Signature is not a child of the root element (wrapped or nested signature)',
  WL_SIGNATURE_MALFORMED: 'Signature lacks SignedInfo, SignatureValue or KeyInfo, or has them twice',
  WL_SIGNATURE_ALGORITHM: 'uses an algorithm other than exc-c14n, rsa-sha256, enveloped, sha256',
  WL_SIGNATURE_REFERENCE: 'does not have exactly one Reference with URI="" (whole document)',
  WL_DIGEST_MISMATCH: 'content was modified after signing (digest mismatch)',
  WL_SIGNATURE_INVALID: 'SignatureValue does not verify with the signer certificate',
  WL_UNSIGNED_CONTENT: 'holds list content outside what the signature covers (signature wrapping)',
  WL_SIGNER_MISSING: 'KeyInfo/X509Data carries no certificate',
  WL_SIGNER_AMBIGUOUS: 'X509Data carries several end-entity certificates',
  WL_SIGNER_MALFORMED: 'the X509Certificate is not a readable certificate',
  WL_SIGNER_UNTRUSTED: 'signer certificate does not chain to the trust store',
  WL_SIGNER_EXPIRED: 'signer certificate (or its CA) is expired',
  WL_SIGNER_NOT_YET_VALID: 'signer certificate is not yet valid',
  WL_SIGNER_REVOKED: 'signer certificate is revoked',
  WL_SIGNER_REVOCATION_UNKNOWN: 'no current CRL of a CA of the signer certificate (crl.requireCurrent): run `mss-sidecar crl sync`',
  WL_SIGNER_NOT_ANS: 'signer certificate is valid but not attributed to the ANS (whitelist.signer.subject)',
  WL_SIGNER_KEY_USAGE: 'signer certificate is not an S/MIME signing certificate (keyUsage digitalSignature, extendedKeyUsage emailProtection)',
  WL_SIGNER_KEY_WEAK: 'signer key is not RSA of at least 2048 bits',
  WL_DATE_INVALID: 'DateDeGeneration is not an xsd:dateTime with a 4-digit year',
  WL_DATE_FUTURE: 'DateDeGeneration is further in the future than whitelist.futureSkewHours',
  WL_ROLLBACK: 'DateDeGeneration is older than the list in use (replay of an old list)',
} as const;

export type WhitelistRefusal = keyof typeof WHITELIST_REFUSALS;

export function whitelistRefused(code: WhitelistRefusal, message: string, details: Details = {}): MssError {
  return new MssError(code, message, details);
}
