// Signs a liste blanche the way the ANS does (Tableau 45: enveloped XMLDSig, exc-c14n,
// rsa-sha256, sha256, Reference URI="", X509Data with the signer certificate). Only the
// sandbox and the tests sign; production only verifies. The `variant` options produce
// the deviant signatures the tests must see refused.
import fs from 'node:fs';
import { SignedXml } from 'xml-crypto';
import { loadPkiManifest } from './pki.js';

/**
 * Tableau 45's algorithms, the sandbox ANS's own copy (not the client's: a client that checked
 * for another URI would refuse the sandbox list). Tableau 45 prints the enveloped transform as
 * « xmldsig#enveloped »; its W3C URI (XMLDSig §6.6.4) ends in « enveloped-signature ».
 */
export const TABLEAU_45 = {
  signature: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  canonicalization: 'http://www.w3.org/2001/10/xml-exc-c14n#',
  enveloped: 'http://www.w3.org/2000/09/xmldsig#enveloped-signature',
  digest: 'http://www.w3.org/2001/04/xmlenc#sha256',
} as const;

export interface SignVariant {
  signatureAlgorithm?: string;
  canonicalization?: string;
  digest?: string;
  transforms?: string[];
  /** XPath of the signed element; anything but the root gets an Id and URI="#…". */
  referenceXPath?: string;
  /** Where the Signature goes (default: last child of the root). */
  location?: { reference: string; action: 'append' | 'prepend' | 'before' | 'after' };
  /** More certificates (PEM) in X509Data after the signer's. */
  extraCertsPem?: string[];
}

export interface SignerMaterial {
  keyPem: string;
  certPem: string;
}

export function signWhitelistXml(xml: string, signer: SignerMaterial, variant: SignVariant = {}): string {
  const publicCert = [signer.certPem, ...(variant.extraCertsPem ?? [])].join('\n');
  const sx = new SignedXml({
    privateKey: signer.keyPem,
    publicCert,
    signatureAlgorithm: variant.signatureAlgorithm ?? TABLEAU_45.signature,
    canonicalizationAlgorithm: variant.canonicalization ?? TABLEAU_45.canonicalization,
  });
  const whole = variant.referenceXPath === undefined;
  sx.addReference({
    xpath: variant.referenceXPath ?? '/*',
    transforms: variant.transforms ?? [TABLEAU_45.enveloped, TABLEAU_45.canonicalization],
    digestAlgorithm: variant.digest ?? TABLEAU_45.digest,
    isEmptyUri: whole,
  });
  sx.computeSignature(xml, { location: variant.location ?? { reference: '/*', action: 'append' } });
  return sx.getSignedXml();
}

/** Signer material of a `sandbox pki` directory: the sandbox ANS signer. */
export function sandboxSigner(pkiDir: string): SignerMaterial {
  const m = loadPkiManifest(pkiDir);
  return { keyPem: fs.readFileSync(m.ansSigner.key, 'utf8'), certPem: fs.readFileSync(m.ansSigner.cert, 'utf8') };
}
