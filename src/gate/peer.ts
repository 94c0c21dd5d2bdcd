// Steps 3–4 of §6.7.1.1 (inbound) and 4–5 of §6.7.2.1 (outbound), shared by both gates:
// the peer's certificate chain validated against the local IGC-Santé store only, never the
// chain the peer sent (EX_OPE_5040, EX_OPE_5030), its revocation status (EX_OPE_5050), and
// its full subject DN present in the liste blanche (EX_OPE_5020). The DN ↔ domain check
// (step 5/6) depends on the transaction and lives with each gate.
import type { TLSSocket } from 'node:tls';
import { certInfo, describeCert, type CertInfo } from '../pki/certificate.js';
import { formatDn } from '../pki/dn.js';
import type { RevocationHolder } from '../pki/revocation-holder.js';
import type { TrustStore } from '../pki/truststore.js';
import type { WhitelistIndex } from '../whitelist/whitelist-index.js';
import type { Logger } from '../log.js';
import { refusal, type Refusal } from './reply.js';

export interface PeerIdentity {
  cert: CertInfo;
  /** RFC 4514 rendering of the subject, for replies, logs and traces. */
  dn: string;
  protocol: string;
  cipher: string;
}

export type PeerCheck = { ok: true; peer: PeerIdentity } | { ok: false; refusal: Refusal; dn?: string };

export interface PeerCheckDeps {
  trust: TrustStore;
  revocation: RevocationHolder;
  /** The liste blanche in use; undefined when none is available (fail closed). */
  index: WhitelistIndex | undefined;
  log: Logger;
  at?: Date;
}

/**
 * The leaf certificate of the peer, as DER. Only the leaf: whatever intermediates the peer
 * sent are ignored, so a peer cannot make an untrusted chain pass by sending its own CA.
 */
export function peerLeaf(socket: TLSSocket): Buffer | undefined {
  const cert = socket.getPeerCertificate(false);
  return cert && Buffer.isBuffer(cert.raw) && cert.raw.length > 0 ? cert.raw : undefined;
}

/**
 * Judge a peer certificate. `side` names the peer in messages ("sending"/"receiving"
 * connector). Temporary problems on our side (no liste blanche, no current CRL) come back
 * as 4xx refusals so the peer retries; a certificate that fails is refused with 5xx.
 */
export function checkPeer(leaf: Buffer | undefined, tlsInfo: { protocol: string; cipher: string }, deps: PeerCheckDeps, side: string): PeerCheck {
  if (!leaf) {
    // EX_3.1_5020 / EX_3.2_5020: a mutual TLS session, so no certificate, no session.
    return {
      ok: false,
      refusal: refusal(
        'GATE_NO_PEER_CERTIFICATE',
        554,
        '5.7.1',
        `No certificate presented by the ${side} connector: MSSanté exchanges need mutual TLS with an IGC-Santé certificate (EX_3.1_5020)`,
      ),
    };
  }
  let cert: CertInfo;
  try {
    cert = certInfo(leaf);
  } catch (err) {
    return {
      ok: false,
      refusal: refusal('GATE_PEER_CERT_MALFORMED', 554, '5.7.1', `The ${side} connector's certificate cannot be read: ${(err as Error).message}`),
    };
  }
  const dn = describeCert(cert);
  const at = deps.at ?? new Date();
  // EX_OPE_5040: path built from the local store only; EX_OPE_5050: revocation of every
  // certificate of the path, hard fail unless crl.requireCurrent is false.
  let result = deps.trust.validate(cert, { at, revocation: deps.revocation, requireRevocationInfo: true });
  if (!result.ok && result.code === 'REVOCATION_UNKNOWN') {
    if (deps.revocation.requireCurrent) {
      deps.log.error({ code: 'CRL_MISSING', peer: dn }, `peer ${dn} refused: ${result.message} (crl.requireCurrent); run \`mss-sidecar crl sync\``);
      return {
        ok: false,
        dn,
        refusal: refusal(
          'GATE_PEER_REVOCATION_UNKNOWN',
          421,
          '4.7.0',
          `Revocation status of ${dn} cannot be checked on this side right now (no current CRL of its issuer); try again later (EX_OPE_5050)`,
        ),
      };
    }
    deps.log.warn({ code: 'CRL_MISSING', peer: dn }, `peer ${dn} accepted WITHOUT revocation check: ${result.message} (crl.requireCurrent: false)`);
    result = deps.trust.validate(cert, { at, revocation: deps.revocation, requireRevocationInfo: false });
  }
  if (!result.ok) {
    if (result.code === 'CERT_REVOKED') {
      return { ok: false, dn, refusal: refusal('GATE_PEER_REVOKED', 554, '5.7.1', `Certificate ${result.message} (EX_OPE_5050)`) };
    }
    if (result.code === 'CERT_EXPIRED' || result.code === 'CERT_NOT_YET_VALID') {
      return { ok: false, dn, refusal: refusal('GATE_PEER_EXPIRED', 554, '5.7.1', `Certificate ${dn} is not valid now: ${result.message} (EX_OPE_5040)`) };
    }
    return {
      ok: false,
      dn,
      refusal: refusal(
        'GATE_PEER_UNTRUSTED',
        554,
        '5.7.1',
        `Certificate ${dn} does not validate against the IGC-Santé trust store of this operator: ${result.message} (EX_OPE_5040)`,
      ),
    };
  }
  if (!deps.index) {
    return {
      ok: false,
      dn,
      refusal: refusal('GATE_NO_WHITELIST', 421, '4.7.0', 'No verified liste blanche MSSanté is available on this side right now; try again later'),
    };
  }
  // EX_OPE_5020 / §6.7.1.1 step 4 / §6.7.2.1 step 5: the full DN, normalised, in the list.
  if (!deps.index.hasDn(cert.subject)) {
    return {
      ok: false,
      dn,
      refusal: refusal(
        'GATE_PEER_NOT_LISTED',
        554,
        '5.7.1',
        `Certificate DN ${dn} is not in the liste blanche MSSanté (generated ${deps.index.generated}) (EX_OPE_5020)`,
      ),
    };
  }
  return { ok: true, peer: { cert, dn: formatDn(cert.subject), ...tlsInfo } };
}

/** "TLSv1.3:TLS_AES_256_GCM_SHA384" of a socket. */
export function tlsInfoOf(socket: TLSSocket): { protocol: string; cipher: string } {
  return { protocol: socket.getProtocol() ?? 'unknown', cipher: socket.getCipher()?.name ?? 'unknown' };
}
