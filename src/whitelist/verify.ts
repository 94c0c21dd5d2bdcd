// Verify a liste blanche and index it: the one path every use goes through — `whitelist
// sync` after each download (EX_2.2_5040), `whitelist verify`, and the daemons each time
// they load the local copy (RE_2.2_5010). Throws an MssError with a WL_* code on refusal.
import { createHash } from 'node:crypto';
import type { CertInfo } from '../pki/certificate.js';
import type { RevocationChecker, TrustStore } from '../pki/truststore.js';
import { checkShape, readContent } from './content.js';
import type { SignerSubject } from './signer-policy.js';
import { verifySignature } from './signature.js';
import { WhitelistIndex } from './whitelist-index.js';
import { decodeListBytes, parseXml } from './xml.js';

export interface VerifyOptions {
  trust: TrustStore;
  signer: SignerSubject;
  maxBytes: number;
  at?: Date;
  revocation?: RevocationChecker;
  /** File or URL, for messages. */
  source?: string;
}

export interface VerifiedWhitelist {
  readonly index: WhitelistIndex;
  readonly signer: CertInfo;
  readonly sha256: string;
}

export function verifyWhitelist(bytes: Uint8Array, opts: VerifyOptions): VerifiedWhitelist {
  const source = opts.source ?? 'liste blanche';
  const text = decodeListBytes(bytes, source, opts.maxBytes);
  const doc = parseXml(text, source);
  // Shape first (WL_WRONG_ROOT, WL_SHAPE) so that a wrong file is named as such.
  checkShape(doc, source);
  const sig = verifySignature(doc, source, {
    trust: opts.trust,
    signer: opts.signer,
    ...(opts.at ? { at: opts.at } : {}),
    ...(opts.revocation ? { revocation: opts.revocation } : {}),
  });
  // Read from the root element the digest was computed over (signature.ts): the signed
  // content, and nothing else (readContent never looks inside the Signature).
  const content = readContent(doc, source);
  return {
    index: new WhitelistIndex(content),
    signer: sig.signer,
    sha256: createHash('sha256').update(bytes).digest('hex'),
  };
}
