// Self-check steps for the test PKI: the trust store validates what it should, refuses the
// expired and revoked certificates, and certificate subjects equal their list entries.
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import { RevocationStore } from '../../src/pki/crl.js';
import { canonicalDn, dnFromCertificate } from '../../src/pki/dn.js';
import { TrustStore } from '../../src/pki/truststore.js';
import { fail, pass, type SelfCheckStep } from './check.js';

export const pkiChecks: SelfCheckStep[] = [
  {
    name: 'pki: operator, signer and HTTPS certificates chain to the sandbox IGC-Santé store',
    async run({ pki }) {
      const trust = TrustStore.fromDir(pki.trustDir);
      const revocation = await RevocationStore.fromDir(pki.crlDir, trust);
      if (revocation.problems.length > 0) return fail(`CRLs refused: ${revocation.problems.map((p) => p.code).join(', ')}`);
      const certs = [...pki.operators, ...pki.authCli, pki.ansSigner, pki.https, pki.rogue];
      for (const c of certs) {
        const r = trust.validate(fs.readFileSync(c.cert), { revocation });
        if (!r.ok) return fail(`${c.subject}: ${r.code} ${r.message}`);
      }
      return pass(`${certs.length} certificates valid, ${revocation.crls.length} CRLs verified`);
    },
  },
  {
    name: 'pki: expired and revoked certificates are refused',
    async run({ pki }) {
      const trust = TrustStore.fromDir(pki.trustDir);
      const revocation = await RevocationStore.fromDir(pki.crlDir, trust);
      const expired = trust.validate(fs.readFileSync(pki.expired.cert), { revocation });
      const revoked = trust.validate(fs.readFileSync(pki.revoked.cert), { revocation });
      const got = `expired → ${expired.ok ? 'accepted' : expired.code}, revoked → ${revoked.ok ? 'accepted' : revoked.code}`;
      return !expired.ok && expired.code === 'CERT_EXPIRED' && !revoked.ok && revoked.code === 'CERT_REVOKED' ? pass(got) : fail(got);
    },
  },
  {
    name: 'pki: certificate subjects (read from DER) equal their RFC 2253 list entries',
    async run({ pki }) {
      for (const op of pki.operators) {
        const dn = dnFromCertificate(new X509Certificate(fs.readFileSync(op.cert)));
        if (dn.canonical !== canonicalDn(op.subject)) return fail(`${op.id}: certificate subject ${dn.canonical} ≠ ${op.subject}`);
      }
      return pass(pki.operators.map((o) => o.subject).join(' ; '));
    },
  },
];
