// The IGC-Santé trust store: CA certificates read from one directory, and PKIX path
// validation (RFC 5280 §6) of a leaf *against the store only*. Certificates a peer or a
// document carries besides its own leaf are never used as intermediates (EX_OPE_5040:
// validate with the local store, not the peer's chain; the liste blanche signer too, see
// whitelist/signature.ts): the root and the intermediates come from the store, full stop.
import fs from 'node:fs';
import path from 'node:path';
import { MssError } from '../errors.js';
import { certificatesFromFile, certInfo, describeCert, type CertInfo, type CertInput } from './certificate.js';
import { formatDn } from './dn.js';

export type ChainErrorCode =
  | 'CHAIN_UNTRUSTED'
  | 'CERT_EXPIRED'
  | 'CERT_NOT_YET_VALID'
  | 'CERT_REVOKED'
  | 'CERT_IS_CA'
  | 'CERT_UNKNOWN_CRITICAL_EXTENSION'
  | 'CA_NOT_CA'
  | 'CA_KEY_USAGE'
  | 'CA_PATH_LENGTH'
  | 'CA_EXPIRED'
  | 'REVOCATION_UNKNOWN';

export type ChainResult =
  | { ok: true; chain: readonly CertInfo[] }
  /** `ca`: with REVOCATION_UNKNOWN, the CA whose current CRL is missing. */
  | { ok: false; code: ChainErrorCode; message: string; subject: string; ca?: string };

export type RevocationStatus = 'good' | 'revoked' | 'unknown';

/** Implemented by RevocationStore (crl.ts); the gates may add OCSP later. */
export interface RevocationChecker {
  status(cert: CertInfo, issuer: CertInfo, at: Date): RevocationStatus;
}

/** No CRL at all (trust.crlDir not set): every status is "unknown", as the gates see it. */
export const NO_REVOCATION_INFO: RevocationChecker = { status: () => 'unknown' };

export interface ValidateOptions {
  /** Validation time (default: now). */
  at?: Date;
  /** Check every non-root certificate of the path against this (EX_OPE_5050). */
  revocation?: RevocationChecker;
  /** With `revocation`: refuse when no current CRL covers a certificate (hard fail). */
  requireRevocationInfo?: boolean;
}

const MAX_DEPTH = 8;

function failure(code: ChainErrorCode, message: string, cert: CertInfo, ca?: CertInfo): ChainResult {
  return { ok: false, code, message, subject: describeCert(cert), ...(ca ? { ca: describeCert(ca) } : {}) };
}

// Worse failures win when several candidate paths fail: the most specific reason is the
// one an operator can act on.
const SEVERITY: Record<ChainErrorCode, number> = {
  CHAIN_UNTRUSTED: 0,
  REVOCATION_UNKNOWN: 1,
  CA_EXPIRED: 2,
  CA_NOT_CA: 3,
  CA_KEY_USAGE: 3,
  CA_PATH_LENGTH: 3,
  CERT_UNKNOWN_CRITICAL_EXTENSION: 4,
  CERT_IS_CA: 4,
  CERT_NOT_YET_VALID: 5,
  CERT_EXPIRED: 5,
  CERT_REVOKED: 6,
};

export class TrustStore {
  readonly certificates: readonly CertInfo[];
  /** PEM of every CA, for TLS `ca` options (HTTPS to the ANS, SMTP between operators). */
  readonly pem: readonly string[];
  private readonly bySubject = new Map<string, CertInfo[]>();

  /** fromDir() admits CA certificates only; a list given here is taken as is. */
  constructor(
    certificates: readonly CertInfo[],
    readonly source = '(memory)',
  ) {
    this.certificates = certificates;
    this.pem = certificates.map((c) => c.x509.toString());
    for (const c of certificates) {
      const list = this.bySubject.get(c.subject.canonical) ?? [];
      if (!list.some((x) => x.fingerprint256 === c.fingerprint256)) list.push(c);
      this.bySubject.set(c.subject.canonical, list);
    }
  }

  /** Load every certificate file of a directory (PEM, possibly several per file, or DER). */
  static fromDir(dir: string): TrustStore {
    let names: string[];
    try {
      names = fs.readdirSync(dir).sort();
    } catch (err) {
      throw new MssError('CONFIG_TRUST_STORE', `trust store directory ${dir} cannot be read: ${(err as Error).message}`, { dir });
    }
    const certs: CertInfo[] = [];
    const notCa: CertInfo[] = [];
    for (const name of names) {
      if (!/\.(pem|crt|cer|der)$/i.test(name)) continue;
      const file = path.join(dir, name);
      if (!fs.statSync(file).isFile()) continue;
      for (const c of certificatesFromFile(fs.readFileSync(file), file)) (c.isCa ? certs : notCa).push(c);
      if (notCa.length > 0) {
        throw new MssError(
          'CONFIG_TRUST_STORE',
          `${file} holds a certificate that is not a CA (${describeCert(notCa[0] as CertInfo)}); the trust store must contain only IGC-Santé CA certificates`,
          { file },
        );
      }
    }
    if (certs.length === 0) {
      throw new MssError('CONFIG_TRUST_STORE', `trust store directory ${dir} holds no CA certificate (*.pem, *.crt, *.cer, *.der)`, { dir });
    }
    return new TrustStore(certs, dir);
  }

  /**
   * Certificates of the store whose subject is the issuer of `cert` and whose key signed it.
   * Whether each may act as a CA is checked by validate(), which names the reason
   * (OpenSSL's checkIssued would silently skip a CA without keyCertSign).
   */
  issuersOf(cert: CertInfo): CertInfo[] {
    const candidates = this.bySubject.get(cert.issuer.canonical) ?? [];
    return candidates.filter((ca) => cert.x509.verify(ca.x509.publicKey));
  }

  /** Is this exact certificate one of the store's CAs? */
  contains(cert: CertInfo): boolean {
    return (this.bySubject.get(cert.subject.canonical) ?? []).some((c) => c.fingerprint256 === cert.fingerprint256);
  }

  /**
   * PKIX validation of an end-entity certificate: a path leaf → store CAs → a self-signed
   * root of the store; every certificate valid at `at`; issuers are CAs allowed to sign
   * certificates (basicConstraints, keyUsage keyCertSign, pathLenConstraint); optional
   * revocation check of every certificate but the root.
   */
  validate(leafInput: CertInput, opts: ValidateOptions = {}): ChainResult {
    const at = opts.at ?? new Date();
    const leaf = certInfo(leafInput);
    if (leaf.isCa) return failure('CERT_IS_CA', `${describeCert(leaf)} is a CA certificate, not an end-entity certificate`, leaf);
    const own = checkSelf(leaf, at, 'CERT');
    if (own) return own;
    return this.extend([leaf], at, opts);
  }

  private extend(path: CertInfo[], at: Date, opts: ValidateOptions): ChainResult {
    const current = path[path.length - 1] as CertInfo;
    if (path.length > 1 && current.selfIssued && this.contains(current) && current.x509.verify(current.x509.publicKey)) {
      return { ok: true, chain: path };
    }
    if (path.length > MAX_DEPTH)
      return failure('CHAIN_UNTRUSTED', `no path of at most ${MAX_DEPTH} certificates to a root of the trust store`, path[0] as CertInfo);
    const issuers = this.issuersOf(current).filter((ca) => !path.some((p) => p.fingerprint256 === ca.fingerprint256));
    if (issuers.length === 0) {
      return failure(
        'CHAIN_UNTRUSTED',
        `${describeCert(current)} was not issued by a CA of the trust store${path.length > 1 ? '' : ` (issuer ${formatDn(current.issuer)})`}`,
        path[0] as CertInfo,
      );
    }
    let worst: ChainResult | undefined;
    for (const ca of issuers) {
      const problem = checkIssuer(ca, path, at) ?? checkRevocation(current, ca, at, opts);
      const result = problem ?? this.extend([...path, ca], at, opts);
      if (result.ok) return result;
      if (!worst || (!worst.ok && SEVERITY[result.code] > SEVERITY[worst.code])) worst = result;
    }
    return worst as ChainResult;
  }
}

function checkSelf(cert: CertInfo, at: Date, who: 'CERT' | 'CA'): ChainResult | undefined {
  if (cert.unknownCriticalExtensions.length > 0) {
    return failure(
      'CERT_UNKNOWN_CRITICAL_EXTENSION',
      `${describeCert(cert)} has critical extensions this software does not process: ${cert.unknownCriticalExtensions.join(', ')}`,
      cert,
    );
  }
  if (at < cert.notBefore) {
    return failure(who === 'CERT' ? 'CERT_NOT_YET_VALID' : 'CA_EXPIRED', `${describeCert(cert)} is not valid before ${cert.notBefore.toISOString()}`, cert);
  }
  if (at > cert.notAfter) {
    return failure(who === 'CERT' ? 'CERT_EXPIRED' : 'CA_EXPIRED', `${describeCert(cert)} expired on ${cert.notAfter.toISOString()}`, cert);
  }
  return undefined;
}

function checkIssuer(ca: CertInfo, path: CertInfo[], at: Date): ChainResult | undefined {
  if (!ca.isCa) return failure('CA_NOT_CA', `${describeCert(ca)} is not a CA (basicConstraints)`, ca);
  if (ca.keyUsage && !ca.keyUsage.has('keyCertSign'))
    return failure('CA_KEY_USAGE', `${describeCert(ca)} may not sign certificates (keyUsage without keyCertSign)`, ca);
  // pathLenConstraint counts the non-self-issued intermediates below this CA (RFC 5280 §4.2.1.9).
  const intermediatesBelow = path.slice(1).filter((c) => !c.selfIssued).length;
  if (ca.pathLen !== undefined && intermediatesBelow > ca.pathLen) {
    return failure('CA_PATH_LENGTH', `${describeCert(ca)} allows ${ca.pathLen} intermediate CA(s) below it, the path has ${intermediatesBelow}`, ca);
  }
  return checkSelf(ca, at, 'CA');
}

function checkRevocation(cert: CertInfo, issuer: CertInfo, at: Date, opts: ValidateOptions): ChainResult | undefined {
  if (!opts.revocation) return undefined;
  const status = opts.revocation.status(cert, issuer, at);
  if (status === 'revoked') return failure('CERT_REVOKED', `${describeCert(cert)} (serial ${cert.serial}) is revoked by ${describeCert(issuer)}`, cert);
  if (status === 'unknown' && opts.requireRevocationInfo) {
    return failure('REVOCATION_UNKNOWN', `no current CRL of ${describeCert(issuer)} to check ${describeCert(cert)}`, cert, issuer);
  }
  return undefined;
}

/**
 * `--trust DIR` accepts the trust directory itself or the output of `sandbox pki` (whose
 * CA certificates are in DIR/trust/, next to private keys that must not be read as CAs).
 */
export function resolveTrustDir(dir: string): string {
  const nested = path.join(dir, 'trust');
  return fs.existsSync(nested) && fs.statSync(nested).isDirectory() ? nested : dir;
}
