// Verify a liste blanche and index it: the one path every use goes through — `whitelist
// sync` after each download (EX_2.2_5040), `whitelist verify` and `lookup`, and the daemons
// each time they load the local copy (RE_2.2_5010). Throws an MssError with a WL_* code on
// refusal. The policy (trust store, CRLs, signer, bounds, date skew) comes from one place for
// all of them: whitelistSetup() (from-config.ts).
import { createHash } from 'node:crypto';
import type { CertInfo } from '../pki/certificate.js';
import type { RevocationChecker, TrustStore } from '../pki/truststore.js';
import { checkCount, checkRoot, checkShape, contentFrom, readContent, ROOT_CHILDREN } from './content.js';
import { DEFAULT_FUTURE_SKEW_HOURS, DEFAULT_MAX_DEPTH, DEFAULT_MAX_NODES } from './defaults.js';
import type { SignerSubject } from './signer-policy.js';
import {
  checkDigest,
  checkSignatureElement,
  checkSignatureLocation,
  checkSignedInfo,
  referencePrefixList,
  signerCertificate,
  type RevocationUnchecked,
  validateSigner,
  verifySignature,
} from './signature.js';
import { WhitelistIndex } from './whitelist-index.js';
import { decodeListBytes } from './xml-bytes.js';
import { streamList } from './xml-stream.js';
import { parseXmlTree, type XmlLimits, type XmlCodes } from './xml-tree.js';

/** Everything that decides whether a list is accepted. */
export interface VerifyPolicy {
  trust: TrustStore;
  signer: SignerSubject;
  maxBytes: number;
  /** Nesting depth and element count (default: whitelist.limits' defaults). */
  limits?: XmlLimits;
  /** How far ahead of `at` DateDeGeneration may be (default 24 h). */
  futureSkewHours?: number;
  /**
   * The CRLs the signer is checked against (EX_2.2_5050). whitelistSetup() always sets it (no
   * CRL at all when trust.crlDir is not set); absent, revocation is not checked (tests of
   * other rules only).
   */
  revocation?: RevocationChecker;
  /** crl.requireCurrent (default true): no current CRL of the signer's CA refuses the list. */
  requireCurrentCrl?: boolean;
}

export interface VerifyOptions extends VerifyPolicy {
  /** Validation time (default now). */
  at?: Date;
  /** File or URL, for messages. */
  source?: string;
}

export interface VerifiedWhitelist {
  readonly index: WhitelistIndex;
  readonly signer: CertInfo;
  readonly sha256: string;
  /** Accepted without a revocation check (crl.requireCurrent: false): the caller logs it. */
  readonly unchecked?: RevocationUnchecked;
}

const LIST_XML_CODES: XmlCodes = { malformed: 'WL_XML_MALFORMED', tooComplex: 'WL_TOO_COMPLEX', dtd: 'WL_DTD_FORBIDDEN', shape: 'WL_SHAPE' };

export function verifyWhitelist(bytes: Uint8Array, opts: VerifyOptions): VerifiedWhitelist {
  const source = opts.source ?? 'liste blanche';
  const at = opts.at ?? new Date();
  const limits = opts.limits ?? { maxDepth: DEFAULT_MAX_DEPTH, maxNodes: DEFAULT_MAX_NODES };
  const futureSkewHours = opts.futureSkewHours ?? DEFAULT_FUTURE_SKEW_HOURS;
  const signing = {
    trust: opts.trust,
    signer: opts.signer,
    at,
    ...(opts.revocation ? { revocation: opts.revocation } : {}),
    ...(opts.requireCurrentCrl !== undefined ? { requireCurrentCrl: opts.requireCurrentCrl } : {}),
  };
  const text = decodeListBytes(bytes, source, opts.maxBytes);
  // One pass (xml-stream.ts), bounded: at most maxBytes of text, limits.maxNodes elements and
  // attributes, limits.maxDepth levels.
  const list = streamList(text, source, limits, LIST_XML_CODES);
  // Shape first (WL_WRONG_ROOT, WL_SHAPE) so that a wrong file is named as such.
  checkRoot(list.root, source);
  for (const [name, required] of ROOT_CHILDREN) checkCount(list.rootChildren.get(name) ?? 0, name, list.root.local, source, required);
  const sig = checkSignatureLocation(list.signatures, source);
  checkSignatureElement(sig, source);
  let content;
  if (referencePrefixList(sig).length > 0) {
    // An InclusiveNamespaces PrefixList changes the canonical form of the content: the tree path.
    const root = parseXmlTree(text, source, limits, LIST_XML_CODES);
    checkShape(root, source);
    const verified = verifySignature(root, source, signing);
    content = readContent(root, source, at, futureSkewHours);
    return withUnchecked({ index: new WhitelistIndex(content), signer: verified.signer, sha256: sha256(bytes) }, verified.unchecked);
  }
  const signer = signerCertificate(sig, source);
  const { unchecked } = validateSigner(signer, signing, source);
  checkDigest(sig, list.digest, source);
  checkSignedInfo(sig, signer, source);
  // Read from the same events the digest was computed over: the signed content, and nothing
  // else (the Signature is left out of both).
  content = contentFrom(list.generated ?? '', list.versionFormat, list.domaines, source, at, futureSkewHours);
  return withUnchecked({ index: new WhitelistIndex(content), signer, sha256: sha256(bytes) }, unchecked);
}

function withUnchecked(v: VerifiedWhitelist, unchecked: RevocationUnchecked | undefined): VerifiedWhitelist {
  return unchecked ? { ...v, unchecked } : v;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
