// EX_LPS_1200 steps 1 and 4: the LPS's ORG AUTH-CLI certificate must chain to the IGC-Santé
// trust store (never to what the client sends besides its leaf), be within its validity,
// not be revoked — with a current CRL of its issuer, or it is refused —, be usable for
// client authentication; its subject's OU is the structure IdNat.
import type { X509Certificate } from 'node:crypto';
import { certInfo, EKU } from '../../pki/certificate.js';
import { RevocationStore } from '../../pki/crl.js';
import { dnFromCertificate, dnValues, formatDn } from '../../pki/dn.js';
import { TrustStore } from '../../pki/truststore.js';
import type { Logger } from '../../log.js';

export type CertRefusal = 'no-certificate' | 'untrusted' | 'expired' | 'revoked' | 'revocation-unknown' | 'not-client-auth' | 'no-structure';

export type CertCheck = { ok: true; structureId: string; subject: string } | { ok: false; reason: CertRefusal; detail: string };

const REFUSAL_OF: Record<string, CertRefusal> = {
  CERT_EXPIRED: 'expired',
  CERT_NOT_YET_VALID: 'expired',
  CERT_REVOKED: 'revoked',
  REVOCATION_UNKNOWN: 'revocation-unknown',
};

export class ClientCertVerifier {
  private revocation: RevocationStore;

  constructor(
    private readonly trust: TrustStore,
    revocation: RevocationStore,
    private readonly crlDir: string | undefined,
    private readonly log: Logger,
  ) {
    this.revocation = revocation;
  }

  static async fromDirs(trustDir: string, crlDir: string | undefined, log: Logger): Promise<ClientCertVerifier> {
    const trust = TrustStore.fromDir(trustDir);
    const revocation = crlDir ? await RevocationStore.fromDir(crlDir, trust) : new RevocationStore(trust);
    for (const p of revocation.problems) log.warn({ code: p.code }, p.message);
    return new ClientCertVerifier(trust, revocation, crlDir, log);
  }

  /** Read the CRL directory again (`crl sync` replaces its files daily). */
  async reloadCrls(): Promise<void> {
    if (!this.crlDir) return;
    const next = await RevocationStore.fromDir(this.crlDir, this.trust);
    for (const p of next.problems) this.log.warn({ code: p.code }, p.message);
    this.revocation = next;
  }

  verify(peer: X509Certificate | undefined, at = new Date()): CertCheck {
    if (!peer) return { ok: false, reason: 'no-certificate', detail: 'the client presented no certificate' };
    // EX_LPS_1200 step 1: CA conformity, not expired, not revoked (hard fail without a current CRL).
    const chain = this.trust.validate(peer, { at, revocation: this.revocation, requireRevocationInfo: true });
    if (!chain.ok) return { ok: false, reason: REFUSAL_OF[chain.code] ?? 'untrusted', detail: `${chain.code}: ${chain.message}` };
    const info = certInfo(peer);
    if (info.extKeyUsage && !info.extKeyUsage.includes(EKU.clientAuth)) {
      return { ok: false, reason: 'not-client-auth', detail: `${formatDn(info.subject)} is not a client authentication certificate (extKeyUsage)` };
    }
    // EX_LPS_1200 step 4: the OU of the DN is the structure's IdNat (the CN is not checked, §6.8.5.1).
    const dn = dnFromCertificate(peer);
    const ous = dnValues(dn, 'OU');
    if (ous.length !== 1 || !/^[0-9A-Za-z]{2,32}$/.test(ous[0] ?? '')) {
      return { ok: false, reason: 'no-structure', detail: `${formatDn(dn)}: expected one OU holding the structure IdNat, found ${ous.length}` };
    }
    return { ok: true, structureId: ous[0] as string, subject: formatDn(dn) };
  }
}
