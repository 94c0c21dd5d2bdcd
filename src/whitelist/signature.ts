// XMLDSig verification of the liste blanche (§6.6.2, Tableau 45; EX_2.2_5040, EX_2.2_5050).
// Only the one profile of Tableau 45 is accepted, and everything a general XMLDSig library
// would accept too liberally is checked first:
//   - exactly one Signature in the whole document, child of the root (enveloped), holding
//     nothing but XMLDSig markup (content hidden there would be unsigned);
//   - its structure in schema order, algorithms exactly exc-c14n, rsa-sha256, enveloped
//     (+ exc-c14n), sha256;
//   - one Reference, URI="" (the whole document, so nothing beside the signature is unsigned);
//   - the key: the end-entity certificate of X509Data, validated PKIX against the
//     configured trust store only (W3C best practice "validate signing key"), valid now,
//     attributed to the ANS (whitelist.signer.subject). Certificates the document carries
//     besides it are never used, and no key is ever taken from KeyInfo unvalidated. Its
//     revocation follows the gates' policy: no current CRL of its CA refuses it unless
//     crl.requireCurrent is false (then accepted, logged as CRL_MISSING by the caller).
//   - the signer: an S/MIME signing certificate with an RSA key of 2048 bits or more
//     (signer-policy.ts).
// Signature wrapping: the digest is computed over the root element of the same strict tree
// the list is then read from, so what is read is exactly what was signed.
import { createHash, timingSafeEqual, verify as cryptoVerify } from 'node:crypto';
import { certInfo, describeCert, type CertInfo } from '../pki/certificate.js';
import { formatDn } from '../pki/dn.js';
import type { ChainErrorCode, ChainResult, RevocationChecker, TrustStore } from '../pki/truststore.js';
import { canonicalize, canonicalString } from './c14n.js';
import { whitelistRefused, type WhitelistRefusal } from './codes.js';
import { describeSignerSubject, signerKindProblem, signerMatches, type SignerSubject } from './signer-policy.js';
import { DSIG_NS } from './xml-bytes.js';
import { descendants, elementChildren, ownText, type XmlElement } from './xml-tree.js';

export const ALG = {
  EXC_C14N: 'http://www.w3.org/2001/10/xml-exc-c14n#',
  RSA_SHA256: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  ENVELOPED: 'http://www.w3.org/2000/09/xmldsig#enveloped-signature',
  SHA256: 'http://www.w3.org/2001/04/xmlenc#sha256',
} as const;

const EXC_C14N_NS = 'http://www.w3.org/2001/10/xml-exc-c14n#';

export interface SignatureOptions {
  trust: TrustStore;
  signer: SignerSubject;
  /** Validation time of the signer certificate (default now). */
  at?: Date;
  /**
   * The CRLs the signer's path is checked against. whitelistSetup() always sets it (an empty
   * checker when trust.crlDir is not set); absent, revocation is not checked at all.
   */
  revocation?: RevocationChecker;
  /** crl.requireCurrent (default true): refuse a signer whose CA has no current CRL. */
  requireCurrentCrl?: boolean;
}

/** A signer accepted without a revocation check (crl.requireCurrent: false). */
export interface RevocationUnchecked {
  code: 'CRL_MISSING';
  /** The CA without a current CRL. */
  ca: string;
  message: string;
}

export interface SignerValidation {
  chain: readonly CertInfo[];
  /** Set when the signer was accepted without a current CRL of its CA; the caller logs it. */
  unchecked?: RevocationUnchecked;
}

export interface VerifiedSignature extends SignerValidation {
  signer: CertInfo;
}

/** Element children must be exactly `expected` (DSIG namespace, this order), then `tail*`. */
function expectSequence(el: XmlElement, expected: string[], source: string, tail?: string): XmlElement[] {
  const kids = elementChildren(el);
  const names = kids.map((k) => (k.uri === DSIG_NS ? k.local : `{${k.uri}}${k.local}`));
  const ok = expected.every((n, i) => names[i] === n) && names.slice(expected.length).every((n) => tail !== undefined && n === tail);
  if (!ok) {
    throw whitelistRefused(
      'WL_SIGNATURE_MALFORMED',
      `${source}: ${el.local} contains (${names.join(', ')}), expected (${expected.join(', ')}${tail ? `, ${tail}*` : ''})`,
      { source },
    );
  }
  return kids;
}

/** An unprefixed attribute, or undefined. */
function attribute(el: XmlElement | undefined, name: string): string | undefined {
  return el?.attributes.find((a) => a.uri === '' && a.local === name)?.value;
}

function algorithm(el: XmlElement | undefined): string {
  return attribute(el, 'Algorithm') ?? '';
}

function checkAlgorithm(found: string, expected: string, what: string, source: string): void {
  if (found !== expected)
    throw whitelistRefused('WL_SIGNATURE_ALGORITHM', `${source}: ${what} is "${found}", Tableau 45 requires "${expected}"`, { source, found, expected });
}

/** Where the Signature elements of a document are: how many in all, and the one child of the root. */
export interface SignatureLocation {
  count: number;
  /** A Signature that is a child of the root element. */
  enveloped?: XmlElement;
  /** The local name of the first Signature's parent, for the message. */
  firstParent?: string;
}

/** Exactly one Signature in the whole document, a child of the root (enveloped). */
export function checkSignatureLocation(loc: SignatureLocation, source: string): XmlElement {
  if (loc.count === 0) throw whitelistRefused('WL_UNSIGNED', `${source}: no XMLDSig Signature element; unsigned lists are refused (EX_2.2_5040)`, { source });
  if (loc.count > 1)
    throw whitelistRefused('WL_SIGNATURE_MULTIPLE', `${source}: ${loc.count} Signature elements, exactly one is expected`, { source, count: loc.count });
  if (!loc.enveloped) {
    throw whitelistRefused(
      'WL_SIGNATURE_MISPLACED',
      `${source}: the Signature is inside <${loc.firstParent ?? '?'}>, not a child of the root element (wrapped or nested signature)`,
      { source },
    );
  }
  return loc.enveloped;
}

/** Locate the one enveloped Signature of a tree and check its form; returns it. */
export function checkSignatureForm(root: XmlElement, source: string): XmlElement {
  const signatures: XmlElement[] = [];
  for (const el of descendants(root)) if (el.local === 'Signature' && el.uri === DSIG_NS) signatures.push(el);
  const enveloped = signatures.find((el) => el.parent === root);
  const sig = checkSignatureLocation(
    { count: signatures.length, ...(enveloped ? { enveloped } : {}), ...(signatures[0]?.parent ? { firstParent: signatures[0].parent.local } : {}) },
    source,
  );
  checkSignatureElement(sig, source);
  return sig;
}

/** The form of the Signature element itself (Tableau 45). */
export function checkSignatureElement(sig: XmlElement, source: string): void {
  // Nothing but XMLDSig markup inside the Signature: the enveloped transform removes it
  // from what is signed, so list content hidden there would be unsigned.
  for (const el of descendants(sig)) {
    if (el.uri !== DSIG_NS && !(el.uri === EXC_C14N_NS && el.local === 'InclusiveNamespaces')) {
      throw whitelistRefused('WL_UNSIGNED_CONTENT', `${source}: element {${el.uri}}${el.local} inside the Signature is not covered by it`, { source });
    }
  }
  const [signedInfo] = expectSequence(sig, ['SignedInfo', 'SignatureValue', 'KeyInfo'], source, 'Object');
  const si = elementChildren(signedInfo as XmlElement);
  const refs = si.filter((e) => e.local === 'Reference');
  if (refs.length !== 1)
    throw whitelistRefused('WL_SIGNATURE_REFERENCE', `${source}: ${refs.length} Reference elements, exactly one (URI="") is expected`, { source });
  expectSequence(signedInfo as XmlElement, ['CanonicalizationMethod', 'SignatureMethod', 'Reference'], source);
  checkAlgorithm(algorithm(si[0]), ALG.EXC_C14N, 'CanonicalizationMethod', source);
  checkAlgorithm(algorithm(si[1]), ALG.RSA_SHA256, 'SignatureMethod', source);
  const ref = refs[0] as XmlElement;
  const uri = attribute(ref, 'URI');
  if (uri !== '') {
    throw whitelistRefused(
      'WL_SIGNATURE_REFERENCE',
      `${source}: Reference URI is ${uri !== undefined ? `"${uri}"` : 'absent'}; it must be "" (the whole document)`,
      {
        source,
      },
    );
  }
  const refKids = elementChildren(ref);
  const hasTransforms = refKids[0]?.local === 'Transforms';
  expectSequence(ref, hasTransforms ? ['Transforms', 'DigestMethod', 'DigestValue'] : ['DigestMethod', 'DigestValue'], source);
  const transforms = hasTransforms ? elementChildren(refKids[0] as XmlElement).map((t) => `${t.local}:${algorithm(t)}`) : [];
  const allowed = [[`Transform:${ALG.ENVELOPED}`], [`Transform:${ALG.ENVELOPED}`, `Transform:${ALG.EXC_C14N}`]];
  if (!allowed.some((a) => a.length === transforms.length && a.every((x, i) => x === transforms[i]))) {
    throw whitelistRefused(
      'WL_SIGNATURE_ALGORITHM',
      `${source}: transforms are (${transforms.map((t) => t.replace(/^Transform:/, '')).join(', ')}), Tableau 45 requires enveloped-signature then exc-c14n`,
      { source },
    );
  }
  checkAlgorithm(algorithm(refKids[hasTransforms ? 1 : 0]), ALG.SHA256, 'DigestMethod', source);
}

/** The end-entity certificate of KeyInfo/X509Data (others, e.g. CA copies, are ignored). */
export function signerCertificate(sig: XmlElement, source: string): CertInfo {
  const keyInfo = elementChildren(sig).find((e) => e.local === 'KeyInfo') as XmlElement;
  const certs: CertInfo[] = [];
  for (const x509Data of elementChildren(keyInfo).filter((e) => e.local === 'X509Data')) {
    for (const c of elementChildren(x509Data).filter((e) => e.local === 'X509Certificate')) {
      const b64 = ownText(c).replace(/\s+/g, '');
      if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) throw whitelistRefused('WL_SIGNER_MALFORMED', `${source}: X509Certificate is not base64`, { source });
      try {
        certs.push(certInfo(Buffer.from(b64, 'base64')));
      } catch (err) {
        throw whitelistRefused('WL_SIGNER_MALFORMED', `${source}: X509Certificate is not a readable certificate: ${(err as Error).message}`, { source });
      }
    }
  }
  if (certs.length === 0) throw whitelistRefused('WL_SIGNER_MISSING', `${source}: KeyInfo/X509Data carries no X509Certificate (EX_2.2_5050)`, { source });
  const leaves = certs.filter((c) => !c.isCa);
  if (leaves.length !== 1) {
    throw whitelistRefused('WL_SIGNER_AMBIGUOUS', `${source}: X509Data carries ${leaves.length} end-entity certificates, exactly one is expected`, { source });
  }
  return leaves[0] as CertInfo;
}

const CHAIN_TO_REFUSAL: Record<ChainErrorCode, WhitelistRefusal> = {
  CHAIN_UNTRUSTED: 'WL_SIGNER_UNTRUSTED',
  CERT_EXPIRED: 'WL_SIGNER_EXPIRED',
  CA_EXPIRED: 'WL_SIGNER_EXPIRED',
  CERT_NOT_YET_VALID: 'WL_SIGNER_NOT_YET_VALID',
  CERT_REVOKED: 'WL_SIGNER_REVOKED',
  CERT_IS_CA: 'WL_SIGNER_UNTRUSTED',
  CERT_UNKNOWN_CRITICAL_EXTENSION: 'WL_SIGNER_UNTRUSTED',
  CA_NOT_CA: 'WL_SIGNER_UNTRUSTED',
  CA_KEY_USAGE: 'WL_SIGNER_UNTRUSTED',
  CA_PATH_LENGTH: 'WL_SIGNER_UNTRUSTED',
  REVOCATION_UNKNOWN: 'WL_SIGNER_REVOCATION_UNKNOWN',
};

/**
 * EX_2.2_5050 (PKIX, RFC 5280 §6.3: revocation status of every certificate of the path): the
 * same policy as the gates' peers (gate/peer.ts, EX_OPE_5050). With crl.requireCurrent a
 * signer whose CA has no current CRL is refused; with `false` it is accepted and the caller
 * is told, to log it as CRL_MISSING.
 */
function validatePath(signer: CertInfo, opts: SignatureOptions, source: string): SignerValidation {
  const at = opts.at ?? new Date();
  if (!opts.revocation) return { chain: checked(opts.trust.validate(signer, { at }), signer, source) };
  // EX_2.2_5050: hard fail on a missing or out-of-date CRL, as the gates (crl.requireCurrent).
  const strict = opts.trust.validate(signer, { at, revocation: opts.revocation, requireRevocationInfo: true });
  if (strict.ok || strict.code !== 'REVOCATION_UNKNOWN') return { chain: checked(strict, signer, source) };
  const ca = strict.ca ?? 'its CA';
  if (opts.requireCurrentCrl !== false) {
    throw whitelistRefused(
      'WL_SIGNER_REVOCATION_UNKNOWN',
      `${source}: signer ${describeCert(signer)} refused: ${strict.message}, so its revocation cannot be checked (crl.requireCurrent); run \`mss-sidecar crl sync\``,
      { source, signer: describeCert(signer), ca },
    );
  }
  const relaxed = opts.trust.validate(signer, { at, revocation: opts.revocation, requireRevocationInfo: false });
  return {
    chain: checked(relaxed, signer, source),
    unchecked: {
      code: 'CRL_MISSING',
      ca,
      message: `${source}: signer ${describeCert(signer)} accepted WITHOUT revocation check: ${strict.message} (crl.requireCurrent: false); run \`mss-sidecar crl sync\``,
    },
  };
}

function checked(result: ChainResult, signer: CertInfo, source: string): readonly CertInfo[] {
  if (result.ok) return result.chain;
  throw whitelistRefused(CHAIN_TO_REFUSAL[result.code], `${source}: signer ${describeCert(signer)} refused (${result.code}): ${result.message}`, {
    source,
    signer: describeCert(signer),
    chainCode: result.code,
  });
}

/** EX_2.2_5050: PKIX against the store, valid at `at`, an S/MIME signing certificate (RSA ≥ 2048), attributed to the ANS. */
export function validateSigner(signer: CertInfo, opts: SignatureOptions, source: string): SignerValidation {
  const validation = validatePath(signer, opts, source);
  if (!signerMatches(signer.subject, opts.signer)) {
    throw whitelistRefused(
      'WL_SIGNER_NOT_ANS',
      `${source}: signer ${formatDn(signer.subject)} chains to the trust store but is not the ANS signer (whitelist.signer.subject: ${describeSignerSubject(opts.signer)})`,
      {
        source,
        signer: formatDn(signer.subject),
      },
    );
  }
  // EX_2.2_5050 (Tableau 42): the list is signed with a signing certificate, not any IGC-Santé certificate of the ANS.
  const problem = signerKindProblem(signer);
  if (problem)
    throw whitelistRefused(problem.code, `${source}: signer ${describeCert(signer)} is not an S/MIME signing certificate: ${problem.why}`, {
      source,
      signer: describeCert(signer),
    });
  return validation;
}

function inclusivePrefixes(el: XmlElement | undefined): string[] {
  const inc = el ? elementChildren(el).find((e) => e.local === 'InclusiveNamespaces' && e.uri === EXC_C14N_NS) : undefined;
  return (attribute(inc, 'PrefixList') ?? '').split(/\s+/).filter(Boolean);
}

function base64Bytes(el: XmlElement | undefined, what: string, source: string): Buffer {
  const b64 = (el ? ownText(el) : '').replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) throw whitelistRefused('WL_SIGNATURE_MALFORMED', `${source}: ${what} is not base64`, { source });
  return Buffer.from(b64, 'base64');
}

/** SHA-256 of the exclusive canonical form of `root` minus `sig`, hashed in pieces of 64 KiB. */
function signedContentDigest(root: XmlElement, sig: XmlElement, prefixes: string[]): Buffer {
  const hash = createHash('sha256');
  let pending: string[] = [];
  let size = 0;
  canonicalize(
    root,
    (piece) => {
      pending.push(piece);
      size += piece.length;
      if (size >= 65_536) {
        hash.update(pending.join(''), 'utf8');
        pending = [];
        size = 0;
      }
    },
    { exclude: sig, inclusivePrefixes: prefixes },
  );
  hash.update(pending.join(''), 'utf8');
  return hash.digest();
}

/** The transforms of the one Reference (checked by checkSignatureForm). */
function referenceParts(sig: XmlElement): {
  signedInfo: XmlElement;
  signatureValue: XmlElement | undefined;
  transforms: XmlElement[];
  digestValue: XmlElement | undefined;
} {
  const [signedInfo, signatureValue] = elementChildren(sig) as [XmlElement, XmlElement | undefined];
  const [, , ref] = elementChildren(signedInfo);
  const refKids = elementChildren(ref as XmlElement);
  const transforms = refKids[0]?.local === 'Transforms' ? elementChildren(refKids[0]) : [];
  return { signedInfo, signatureValue, transforms, digestValue: refKids[refKids.length - 1] };
}

/** What the Reference covers, canonical (tests compare it with xml-crypto's getSignedReferences). */
export function signedContent(root: XmlElement, sig: XmlElement): string {
  return canonicalString(root, { exclude: sig, inclusivePrefixes: inclusivePrefixes(referenceParts(sig).transforms[1]) });
}

/**
 * Core validation (XMLDSig §3.2) of the one profile Tableau 45 allows, with the key of the
 * validated signer. Reference: the root element minus the Signature (enveloped transform),
 * exclusive-canonicalized (c14n.ts), SHA-256, compared with DigestValue; then the
 * exclusive-canonical SignedInfo verified with RSA-SHA256. What was digested is exactly the
 * tree the caller reads the list from, minus the Signature.
 *
 * xml-crypto's checkSignature() computes the same thing but takes ~35 s on a list of 10,000
 * domains (its XPath evaluations over the whole document are super-linear); its
 * canonicalizer needs a DOM (@xmldom/xmldom, ~0.3 s to parse the list) and recurses once per
 * nesting level. They are the tests' oracles instead, with libxml2 (xmllint, xmlsec1).
 */
export function checkSignatureValue(root: XmlElement, sig: XmlElement, signer: CertInfo, source: string): void {
  checkDigest(sig, signedContentDigest(root, sig, referencePrefixList(sig)), source);
  checkSignedInfo(sig, signer, source);
}

/** The InclusiveNamespaces PrefixList of the Reference's exc-c14n transform (usually none). */
export function referencePrefixList(sig: XmlElement): string[] {
  return inclusivePrefixes(referenceParts(sig).transforms[1]);
}

/** The SHA-256 of what was signed, computed by the caller, against DigestValue. */
export function checkDigest(sig: XmlElement, actual: Buffer, source: string): void {
  const expected = base64Bytes(referenceParts(sig).digestValue, 'DigestValue', source);
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) {
    throw whitelistRefused(
      'WL_DIGEST_MISMATCH',
      `${source}: the list was modified after signing (SHA-256 of the content is ${actual.toString('base64')}, the signature covers ${expected.toString('base64')})`,
      { source },
    );
  }
}

/** The canonical SignedInfo against SignatureValue, with the validated signer's key. */
export function checkSignedInfo(sig: XmlElement, signer: CertInfo, source: string): void {
  const { signedInfo, signatureValue } = referenceParts(sig);
  const signedInfoCanonical = canonicalString(signedInfo, { inclusivePrefixes: inclusivePrefixes(elementChildren(signedInfo)[0]) });
  const value = base64Bytes(signatureValue, 'SignatureValue', source);
  if (!cryptoVerify('sha256', Buffer.from(signedInfoCanonical, 'utf8'), signer.x509.publicKey, value)) {
    throw whitelistRefused(
      'WL_SIGNATURE_INVALID',
      `${source}: the SignatureValue does not verify with ${describeCert(signer)} (SignedInfo modified or signed with another key)`,
      { source },
    );
  }
}

/** Everything above, in order: form, signer, value. */
export function verifySignature(root: XmlElement, source: string, opts: SignatureOptions): VerifiedSignature {
  const sig = checkSignatureForm(root, source);
  const signer = signerCertificate(sig, source);
  const validation = validateSigner(signer, opts, source);
  checkSignatureValue(root, sig, signer, source);
  return { signer, ...validation };
}
