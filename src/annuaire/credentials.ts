// The operator's identity toward the Annuaire (EX_WSA_5010): the same IGC-Santé certificate
// as for SMTP, for mutual TLS and as the VIHF Issuer, and the trust store as the only CAs
// accepted for the Annuaire's server certificate. Checked locally first, so that what the
// Annuaire would refuse (an expired certificate: 401; a structure id other than the
// certificate's: WSMSS14) is said before anything is sent.
import fs from 'node:fs';
import type { Config } from '../config/schema.js';
import { MssError } from '../errors.js';
import { certInfo, type CertInfo } from '../pki/certificate.js';
import { dnValues, formatDn } from '../pki/dn.js';
import { TrustStore } from '../pki/truststore.js';

export interface AnnuaireCredentials {
  certPem: string;
  keyPem: string;
  ca: string[];
  cert: CertInfo;
  /** Subject DN, RFC 4514, CN first: the VIHF Issuer (X509SubjectName). */
  dn: string;
  cn: string;
  /** SHA-256 fingerprint: the report must be fetched with the same certificate (EX_1.1.1_5020). */
  fingerprint: string;
}

function read(file: string, what: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new MssError('CONFIG_ANNUAIRE_CREDENTIALS', `cannot read the operator ${what} ${file}: ${(err as Error).message}`, { file });
  }
}

export function loadCredentials(config: Config, now = new Date()): AnnuaireCredentials {
  const certPem = read(config.operator.certificate, 'certificate (operator.certificate)');
  const keyPem = read(config.operator.key, 'key (operator.key)');
  const cert = certInfo(certPem);
  const trust = TrustStore.fromDir(config.trust.dir);
  const dn = formatDn(cert.subject);
  // SA7 of §6.4.2.2: the Annuaire answers "401: Authorization Required" to an expired certificate.
  if (now > cert.notAfter) {
    throw new MssError(
      'ANNUAIRE_CERT_EXPIRED',
      `the operator certificate ${dn} expired on ${cert.notAfter.toISOString()}; renew it before calling the Annuaire`,
      { dn },
    );
  }
  // WSMSS14: Identifiant_Structure must be the structure id of the certificate (its OU).
  const ous = dnValues(cert.subject, 'OU');
  if (ous.length > 0 && !ous.includes(config.operator.structureId)) {
    throw new MssError(
      'CONFIG_ANNUAIRE_STRUCTURE',
      `operator.structureId ${config.operator.structureId} is not the structure of the operator certificate (OU=${ous.join(', ')}); the Annuaire would answer WSMSS14`,
      { structureId: config.operator.structureId, ou: ous },
    );
  }
  return {
    certPem,
    keyPem,
    ca: [...trust.pem],
    cert,
    dn,
    cn: dnValues(cert.subject, 'CN')[0] ?? dn,
    fingerprint: cert.fingerprint256,
  };
}
