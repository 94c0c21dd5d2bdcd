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
//     besides it are never used, and no key is ever taken from KeyInfo unvalidated.
// Signature wrapping: the digest is computed over the root element of the same strict DOM
// the list is then read from, so what is read is exactly what was signed.
import { createHash, timingSafeEqual, verify as cryptoVerify } from 'node:crypto';
import { ExclusiveCanonicalization } from 'xml-crypto';
import type { Document, Element } from '@xmldom/xmldom';
import { certInfo, describeCert, type CertInfo } from '../pki/certificate.js';
import { formatDn } from '../pki/dn.js';
import type { ChainErrorCode, RevocationChecker, TrustStore } from '../pki/truststore.js';
import { refusal, type WhitelistRefusal } from './codes.js';
import { describeSignerSubject, signerMatches, type SignerSubject } from './signer-policy.js';
import { descendants, DSIG_NS, elementChildren } from './xml.js';

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
  revocation?: RevocationChecker;
}

export interface VerifiedSignature {
  /** Exclusive-canonical XML of the root element minus the Signature: what was digested. */
  signedXml: string;
  signer: CertInfo;
  chain: readonly CertInfo[];
}

/** Element children must be exactly `expected` (DSIG namespace, this order), then `tail*`. */
function expectSequence(el: Element, expected: string[], source: string, tail?: string): Element[] {
  const kids = elementChildren(el);
  const names = kids.map((k) => (k.namespaceURI === DSIG_NS ? k.localName : `{${k.namespaceURI ?? ''}}${k.localName}`));
  const ok = expected.every((n, i) => names[i] === n) && names.slice(expected.length).every((n) => tail !== undefined && n === tail);
  if (!ok) {
    throw refusal('WL_SIGNATURE_MALFORMED', `${source}: ${el.localName} contains (${names.join(', ')}), expected (${expected.join(', ')}${tail ? `, ${tail}*` : ''})`, { source });
  }
  return kids;
}

function algorithm(el: Element | undefined): string {
  return el?.getAttribute('Algorithm') ?? '';
}

function checkAlgorithm(found: string, expected: string, what: string, source: string): void {
  if (found !== expected) throw refusal('WL_SIGNATURE_ALGORITHM', `${source}: ${what} is "${found}", Tableau 45 requires "${expected}"`, { source, found, expected });
}

/** Locate the one enveloped Signature and check its form; returns it. */
export function checkSignatureForm(doc: Document, source: string): Element {
  const root = doc.documentElement as Element;
  const signatures = doc.getElementsByTagNameNS(DSIG_NS, 'Signature');
  if (signatures.length === 0) throw refusal('WL_UNSIGNED', `${source}: no XMLDSig Signature element; unsigned lists are refused (EX_2.2_5040)`, { source });
  if (signatures.length > 1) throw refusal('WL_SIGNATURE_MULTIPLE', `${source}: ${signatures.length} Signature elements, exactly one is expected`, { source, count: signatures.length });
  const sig = signatures.item(0) as Element;
  if (sig.parentNode !== root) {
    throw refusal('WL_SIGNATURE_MISPLACED', `${source}: the Signature is inside <${(sig.parentNode as Element).localName}>, not a child of the root element (wrapped or nested signature)`, { source });
  }
  // Nothing but XMLDSig markup inside the Signature: the enveloped transform removes it
  // from what is signed, so list content hidden there would be unsigned.
  for (const el of descendants(sig)) {
    if (el.namespaceURI !== DSIG_NS && !(el.namespaceURI === EXC_C14N_NS && el.localName === 'InclusiveNamespaces')) {
      throw refusal('WL_UNSIGNED_CONTENT', `${source}: element {${el.namespaceURI ?? ''}}${el.localName} inside the Signature is not covered by it`, { source });
    }
  }
  const [signedInfo] = expectSequence(sig, ['SignedInfo', 'SignatureValue', 'KeyInfo'], source, 'Object');
  const si = elementChildren(signedInfo as Element);
  const refs = si.filter((e) => e.localName === 'Reference');
  if (refs.length !== 1) throw refusal('WL_SIGNATURE_REFERENCE', `${source}: ${refs.length} Reference elements, exactly one (URI="") is expected`, { source });
  expectSequence(signedInfo as Element, ['CanonicalizationMethod', 'SignatureMethod', 'Reference'], source);
  checkAlgorithm(algorithm(si[0]), ALG.EXC_C14N, 'CanonicalizationMethod', source);
  checkAlgorithm(algorithm(si[1]), ALG.RSA_SHA256, 'SignatureMethod', source);
  const ref = refs[0] as Element;
  if (!ref.hasAttribute('URI') || ref.getAttribute('URI') !== '') {
    throw refusal('WL_SIGNATURE_REFERENCE', `${source}: Reference URI is ${ref.hasAttribute('URI') ? `"${ref.getAttribute('URI')}"` : 'absent'}; it must be "" (the whole document)`, { source });
  }
  const refKids = elementChildren(ref);
  const hasTransforms = refKids[0]?.localName === 'Transforms';
  expectSequence(ref, hasTransforms ? ['Transforms', 'DigestMethod', 'DigestValue'] : ['DigestMethod', 'DigestValue'], source);
  const transforms = hasTransforms ? elementChildren(refKids[0] as Element).map((t) => `${t.localName}:${algorithm(t)}`) : [];
  const allowed = [[`Transform:${ALG.ENVELOPED}`], [`Transform:${ALG.ENVELOPED}`, `Transform:${ALG.EXC_C14N}`]];
  if (!allowed.some((a) => a.length === transforms.length && a.every((x, i) => x === transforms[i]))) {
    throw refusal('WL_SIGNATURE_ALGORITHM', `${source}: transforms are (${transforms.map((t) => t.replace(/^Transform:/, '')).join(', ')}), Tableau 45 requires enveloped-signature then exc-c14n`, { source });
  }
  checkAlgorithm(algorithm(refKids[hasTransforms ? 1 : 0]), ALG.SHA256, 'DigestMethod', source);
  return sig;
}

/** The end-entity certificate of KeyInfo/X509Data (others, e.g. CA copies, are ignored). */
export function signerCertificate(sig: Element, source: string): CertInfo {
  const keyInfo = elementChildren(sig).find((e) => e.localName === 'KeyInfo') as Element;
  const certs: CertInfo[] = [];
  for (const x509Data of elementChildren(keyInfo).filter((e) => e.localName === 'X509Data')) {
    for (const c of elementChildren(x509Data).filter((e) => e.localName === 'X509Certificate')) {
      const b64 = (c.textContent ?? '').replace(/\s+/g, '');
      if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) throw refusal('WL_SIGNER_MALFORMED', `${source}: X509Certificate is not base64`, { source });
      try {
        certs.push(certInfo(Buffer.from(b64, 'base64')));
      } catch (err) {
        throw refusal('WL_SIGNER_MALFORMED', `${source}: X509Certificate is not a readable certificate: ${(err as Error).message}`, { source });
      }
    }
  }
  if (certs.length === 0) throw refusal('WL_SIGNER_MISSING', `${source}: KeyInfo/X509Data carries no X509Certificate (EX_2.2_5050)`, { source });
  const leaves = certs.filter((c) => !c.isCa);
  if (leaves.length !== 1) {
    throw refusal('WL_SIGNER_AMBIGUOUS', `${source}: X509Data carries ${leaves.length} end-entity certificates, exactly one is expected`, { source });
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
  REVOCATION_UNKNOWN: 'WL_SIGNER_UNTRUSTED',
};

/** EX_2.2_5050: PKIX against the store, valid at `at`, RSA signing key, attributed to the ANS. */
export function validateSigner(signer: CertInfo, opts: SignatureOptions, source: string): readonly CertInfo[] {
  const result = opts.trust.validate(signer, { at: opts.at ?? new Date(), ...(opts.revocation ? { revocation: opts.revocation } : {}) });
  if (!result.ok) {
    throw refusal(CHAIN_TO_REFUSAL[result.code], `${source}: signer ${describeCert(signer)} refused (${result.code}): ${result.message}`, { source, signer: describeCert(signer), chainCode: result.code });
  }
  if (signer.x509.publicKey.asymmetricKeyType !== 'rsa') {
    throw refusal('WL_SIGNER_KEY_USAGE', `${source}: signer ${describeCert(signer)} has a ${signer.x509.publicKey.asymmetricKeyType} key; rsa-sha256 needs RSA`, { source });
  }
  if (signer.keyUsage && !signer.keyUsage.has('digitalSignature') && !signer.keyUsage.has('nonRepudiation')) {
    throw refusal('WL_SIGNER_KEY_USAGE', `${source}: signer ${describeCert(signer)} may not sign (keyUsage ${[...signer.keyUsage].join(', ')})`, { source });
  }
  if (!signerMatches(signer.subject, opts.signer)) {
    throw refusal('WL_SIGNER_NOT_ANS', `${source}: signer ${formatDn(signer.subject)} chains to the trust store but is not the ANS signer (whitelist.signer.subject: ${describeSignerSubject(opts.signer)})`, {
      source,
      signer: formatDn(signer.subject),
    });
  }
  return result.chain;
}

function inclusivePrefixes(el: Element | undefined): string[] {
  const inc = el ? elementChildren(el).find((e) => e.localName === 'InclusiveNamespaces' && e.namespaceURI === EXC_C14N_NS) : undefined;
  return (inc?.getAttribute('PrefixList') ?? '').split(/\s+/).filter(Boolean);
}

function base64Bytes(el: Element | undefined, what: string, source: string): Buffer {
  const b64 = (el?.textContent ?? '').replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) throw refusal('WL_SIGNATURE_MALFORMED', `${source}: ${what} is not base64`, { source });
  return Buffer.from(b64, 'base64');
}

function canonicalize(el: Element, prefixes: string[]): string {
  // xml-crypto's exclusive canonicalizer, fed the strict xmldom tree.
  return new ExclusiveCanonicalization().process(el as never, { inclusiveNamespacesPrefixList: prefixes, defaultNs: '', ancestorNamespaces: [] }) as string;
}

/**
 * Core validation (XMLDSig §3.2) of the one profile Tableau 45 allows, with the key of the
 * validated signer. Reference: the root element minus the Signature (enveloped transform),
 * exclusive-canonicalized, SHA-256, compared with DigestValue; then the exclusive-canonical
 * SignedInfo verified with RSA-SHA256. Returns the canonical bytes that were digested:
 * exactly the subtree the caller reads the list from.
 *
 * xml-crypto's checkSignature() computes the same thing but takes ~35 s on a list of 10,000
 * domains (its XPath evaluations over the whole document are super-linear); the daemons
 * verify the list at every load (RE_2.2_5010), so it is used as a test oracle instead.
 */
export function checkSignatureValue(doc: Document, sig: Element, signer: CertInfo, source: string): string {
  const root = doc.documentElement as Element;
  const [signedInfo, signatureValue] = elementChildren(sig);
  const [, , ref] = elementChildren(signedInfo as Element);
  const refKids = elementChildren(ref as Element);
  const transforms = refKids[0]?.localName === 'Transforms' ? elementChildren(refKids[0]) : [];
  const digestValue = refKids[refKids.length - 1];
  // Enveloped-signature transform: the Signature is not part of what it signs.
  const next = sig.nextSibling;
  root.removeChild(sig);
  let canonical: string;
  try {
    canonical = canonicalize(root, inclusivePrefixes(transforms[1]));
  } finally {
    root.insertBefore(sig, next);
  }
  const expected = base64Bytes(digestValue, 'DigestValue', source);
  const actual = createHash('sha256').update(canonical, 'utf8').digest();
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) {
    throw refusal('WL_DIGEST_MISMATCH', `${source}: the list was modified after signing (SHA-256 of the content is ${actual.toString('base64')}, the signature covers ${expected.toString('base64')})`, { source });
  }
  const signedInfoCanonical = canonicalize(signedInfo as Element, inclusivePrefixes(elementChildren(signedInfo as Element)[0]));
  const value = base64Bytes(signatureValue, 'SignatureValue', source);
  if (!cryptoVerify('sha256', Buffer.from(signedInfoCanonical, 'utf8'), signer.x509.publicKey, value)) {
    throw refusal('WL_SIGNATURE_INVALID', `${source}: the SignatureValue does not verify with ${describeCert(signer)} (SignedInfo modified or signed with another key)`, { source });
  }
  return canonical;
}

/** Everything above, in order: form, signer, value. */
export function verifySignature(doc: Document, source: string, opts: SignatureOptions): VerifiedSignature {
  const sig = checkSignatureForm(doc, source);
  const signer = signerCertificate(sig, source);
  const chain = validateSigner(signer, opts, source);
  const signedXml = checkSignatureValue(doc, sig, signer, source);
  return { signedXml, signer, chain };
}
