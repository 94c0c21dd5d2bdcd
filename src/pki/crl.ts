// Certificate revocation lists (EX_OPE_5050: check revocation of peer certificates; the
// IGC-Santé publishes full CRLs daily). A CRL is accepted only if its issuer is a CA of
// the trust store that signed it and may sign CRLs; its revoked serials are then indexed
// so that a per-connection check is one Map and one Set lookup.
import fs from 'node:fs';
import path from 'node:path';
import { MssError } from '../errors.js';
import { certInfo, describeCert, normaliseSerial, type CertInfo, type CertInput } from './certificate.js';
import { dnFromNameDer, formatDn } from './dn.js';
import type { RevocationChecker, RevocationStatus, TrustStore } from './truststore.js';
import { x509 } from './x509-lib.js';

export interface LoadedCrl {
  readonly issuer: CertInfo;
  readonly thisUpdate: Date;
  readonly nextUpdate?: Date;
  readonly revoked: ReadonlySet<string>;
  readonly source: string;
}

export class RevocationStore implements RevocationChecker {
  private readonly byIssuer = new Map<string, LoadedCrl>();
  /** Files that could not be used, with the reason (kept for `crl sync` and logs). */
  readonly problems: MssError[] = [];

  constructor(private readonly trust: TrustStore) {}

  /**
   * Verify and index one CRL (PEM or DER). Throws a coded MssError: CRL_MALFORMED,
   * CRL_ISSUER_UNKNOWN, CRL_SIGNATURE_INVALID, CRL_ISSUER_NOT_CRL_SIGNER, CRL_NOT_YET_VALID.
   * An expired CRL (nextUpdate passed) is kept but yields "unknown" until replaced.
   */
  async add(data: Uint8Array | string, source: string, at = new Date()): Promise<LoadedCrl> {
    let crl: x509.X509Crl;
    try {
      crl = new x509.X509Crl(typeof data === 'string' ? data : Buffer.from(data));
    } catch (err) {
      throw new MssError('CRL_MALFORMED', `${source}: not a readable CRL: ${(err as Error).message}`, { source }, { cause: err });
    }
    const issuerDn = dnFromNameDer(new Uint8Array(crl.issuerName.toArrayBuffer()));
    const candidates = this.trust.certificates.filter((ca) => ca.subject.canonical === issuerDn.canonical);
    if (candidates.length === 0) {
      throw new MssError('CRL_ISSUER_UNKNOWN', `${source}: CRL issuer ${formatDn(issuerDn)} is not a CA of the trust store`, { source });
    }
    let issuer: CertInfo | undefined;
    for (const ca of candidates) {
      if (await crl.verify({ publicKey: new x509.X509Certificate(ca.der) })) {
        issuer = ca;
        break;
      }
    }
    if (!issuer) throw new MssError('CRL_SIGNATURE_INVALID', `${source}: CRL signature does not verify with the key of ${formatDn(issuerDn)}`, { source });
    if (issuer.keyUsage && !issuer.keyUsage.has('cRLSign')) {
      throw new MssError('CRL_ISSUER_NOT_CRL_SIGNER', `${source}: ${describeCert(issuer)} may not sign CRLs (keyUsage without cRLSign)`, { source });
    }
    if (crl.thisUpdate > at) {
      throw new MssError('CRL_NOT_YET_VALID', `${source}: CRL thisUpdate ${crl.thisUpdate.toISOString()} is in the future`, { source });
    }
    const revoked = new Set<string>(crl.entries.map((e) => normaliseSerial(e.serialNumber)));
    const loaded: LoadedCrl = { issuer, thisUpdate: crl.thisUpdate, ...(crl.nextUpdate ? { nextUpdate: crl.nextUpdate } : {}), revoked, source };
    const previous = this.byIssuer.get(issuer.fingerprint256);
    // Never let an older CRL replace a newer one (replay of a CRL from before a revocation).
    if (!previous || previous.thisUpdate <= loaded.thisUpdate) this.byIssuer.set(issuer.fingerprint256, loaded);
    return loaded;
  }

  /** Load every *.crl / *.pem / *.der file of a directory; unusable files go to `problems`. */
  static async fromDir(dir: string, trust: TrustStore, at = new Date()): Promise<RevocationStore> {
    const store = new RevocationStore(trust);
    if (!fs.existsSync(dir)) return store;
    for (const name of fs.readdirSync(dir).sort()) {
      if (!/\.(crl|pem|der)$/i.test(name)) continue;
      const file = path.join(dir, name);
      try {
        await store.add(fs.readFileSync(file), file, at);
      } catch (err) {
        store.problems.push(err instanceof MssError ? err : new MssError('CRL_MALFORMED', `${file}: ${String(err)}`));
      }
    }
    return store;
  }

  get crls(): readonly LoadedCrl[] {
    return [...this.byIssuer.values()];
  }

  status(cert: CertInfo, issuer: CertInfo, at: Date): RevocationStatus {
    const crl = this.byIssuer.get(issuer.fingerprint256);
    if (!crl) return 'unknown';
    if (crl.revoked.has(cert.serial)) return 'revoked';
    if (crl.nextUpdate && crl.nextUpdate < at) return 'unknown';
    return 'good';
  }

  /** True when a CRL of the certificate's issuer (from the trust store) lists it. */
  isRevoked(input: CertInput, at = new Date()): boolean {
    const cert = certInfo(input);
    return this.trust.issuersOf(cert).some((issuer) => this.status(cert, issuer, at) === 'revoked');
  }
}
