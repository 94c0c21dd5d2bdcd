// Signs a liste blanche the way the ANS does (Tableau 45: enveloped XMLDSig, exc-c14n,
// rsa-sha256, sha256, Reference URI="", X509Data with the signer certificate). Only the
// sandbox and the tests sign; production only verifies. The `variant` options produce
// the deviant signatures the tests must see refused.
import fs from 'node:fs';
import { SignedXml } from 'xml-crypto';
import { ALG } from '../src/whitelist/signature.js';
import { loadPkiManifest } from './pki.js';

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
    signatureAlgorithm: variant.signatureAlgorithm ?? ALG.RSA_SHA256,
    canonicalizationAlgorithm: variant.canonicalization ?? ALG.EXC_C14N,
  });
  const whole = variant.referenceXPath === undefined;
  sx.addReference({
    xpath: variant.referenceXPath ?? '/*',
    transforms: variant.transforms ?? [ALG.ENVELOPED, ALG.EXC_C14N],
    digestAlgorithm: variant.digest ?? ALG.SHA256,
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
