// Certificate revocation lists (EX_OPE_5050: check revocation of peer certificates; the
// IGC-Santé publishes full CRLs and delta CRLs daily). A CRL is accepted only if its issuer
// is a CA of the trust store that signed it and may sign CRLs; its revoked serials are then
// indexed so that a per-connection check is a few Map and Set lookups. A delta CRL
// (RFC 5280 §5.2.4) is kept beside the full CRL of its issuer and applies to it when the
// full CRL's number is at least the delta's BaseCRLNumber.
import fs from 'node:fs';
import path from 'node:path';
import { MssError } from '../errors.js';
import { certInfo, describeCert, normaliseSerial, type CertInfo, type CertInput } from './certificate.js';
import { dnFromNameDer, formatDn } from './dn.js';
import type { RevocationChecker, RevocationStatus, TrustStore } from './truststore.js';
import { contentOf, integerHex, readTlv, TAG } from './der.js';
import { x509 } from './x509-lib.js';

const OID_CRL_NUMBER = '2.5.29.20';
const OID_DELTA_CRL_INDICATOR = '2.5.29.27';
const REMOVE_FROM_CRL = 8;

export interface LoadedCrl {
  readonly issuer: CertInfo;
  readonly thisUpdate: Date;
  readonly nextUpdate?: Date;
  readonly revoked: ReadonlySet<string>;
  readonly source: string;
  /** cRLNumber, when the CRL carries one (as a bigint: CRL numbers may exceed 2^53). */
  readonly number?: bigint;
  /** For a delta CRL: the BaseCRLNumber it applies to. */
  readonly deltaOf?: bigint;
  /** Delta CRL entries with reason removeFromCRL: no longer revoked (e.g. a hold released). */
  readonly removed?: ReadonlySet<string>;
}

/** An INTEGER extension value (cRLNumber, deltaCRLIndicator) as a bigint. */
function integerExtension(crl: x509.X509Crl, oid: string): bigint | undefined {
  const ext = crl.getExtension(oid);
  if (!ext) return undefined;
  const value = new Uint8Array(ext.value);
  const tlv = readTlv(value, 0);
  if (tlv.tag !== TAG.INTEGER) return undefined;
  return BigInt(`0x${integerHex(contentOf(value, tlv)) || '0'}`);
}

export class RevocationStore implements RevocationChecker {
  private readonly byIssuer = new Map<string, LoadedCrl>();
  private readonly deltaByIssuer = new Map<string, LoadedCrl>();
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
    const number = integerExtension(crl, OID_CRL_NUMBER);
    const deltaOf = integerExtension(crl, OID_DELTA_CRL_INDICATOR);
    const revoked = new Set<string>();
    const removed = new Set<string>();
    for (const e of crl.entries) (deltaOf !== undefined && e.reason === REMOVE_FROM_CRL ? removed : revoked).add(normaliseSerial(e.serialNumber));
    const loaded: LoadedCrl = {
      issuer,
      thisUpdate: crl.thisUpdate,
      ...(crl.nextUpdate ? { nextUpdate: crl.nextUpdate } : {}),
      revoked,
      source,
      ...(number !== undefined ? { number } : {}),
      ...(deltaOf !== undefined ? { deltaOf, removed } : {}),
    };
    const map = deltaOf === undefined ? this.byIssuer : this.deltaByIssuer;
    const previous = map.get(issuer.fingerprint256);
    // Never let an older CRL replace a newer one (replay of a CRL from before a revocation).
    if (!previous || previous.thisUpdate <= loaded.thisUpdate) map.set(issuer.fingerprint256, loaded);
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

  /** Full CRLs in use, one per issuer. */
  get crls(): readonly LoadedCrl[] {
    return [...this.byIssuer.values()];
  }

  /** Delta CRLs in use, one per issuer. */
  get deltas(): readonly LoadedCrl[] {
    return [...this.deltaByIssuer.values()];
  }

  /** Is this CRL (a value returned by add()) the one in use for its issuer, i.e. not older than another? */
  inUse(crl: LoadedCrl): boolean {
    return (crl.deltaOf === undefined ? this.byIssuer : this.deltaByIssuer).get(crl.issuer.fingerprint256) === crl;
  }

  /** The delta of this issuer, if it applies to the full CRL in use (RFC 5280 §5.2.4). */
  private deltaFor(fingerprint: string, base: LoadedCrl | undefined): LoadedCrl | undefined {
    const delta = this.deltaByIssuer.get(fingerprint);
    if (!delta || !base || base.number === undefined || delta.deltaOf === undefined) return undefined;
    return base.number >= delta.deltaOf ? delta : undefined;
  }

  /**
   * Is the revocation information for certificates of this issuer current at `at`: a full
   * CRL before its nextUpdate, or a delta that applies to the full CRL in use and is before its own.
   */
  isCurrent(issuer: CertInfo, at: Date): boolean {
    const base = this.byIssuer.get(issuer.fingerprint256);
    const delta = this.deltaFor(issuer.fingerprint256, base);
    const fresh = (c: LoadedCrl | undefined): boolean => c !== undefined && (!c.nextUpdate || c.nextUpdate >= at);
    return fresh(base) || fresh(delta);
  }

  status(cert: CertInfo, issuer: CertInfo, at: Date): RevocationStatus {
    const base = this.byIssuer.get(issuer.fingerprint256);
    if (!base) return 'unknown';
    const delta = this.deltaFor(issuer.fingerprint256, base);
    if (delta?.revoked.has(cert.serial)) return 'revoked';
    if (base.revoked.has(cert.serial) && !delta?.removed?.has(cert.serial)) return 'revoked';
    return this.isCurrent(issuer, at) ? 'good' : 'unknown';
  }

  /** True when a CRL of the certificate's issuer (from the trust store) lists it. */
  isRevoked(input: CertInput, at = new Date()): boolean {
    const cert = certInfo(input);
    return this.trust.issuersOf(cert).some((issuer) => this.status(cert, issuer, at) === 'revoked');
  }
}
