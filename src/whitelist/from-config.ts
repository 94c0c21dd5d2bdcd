// What every whitelist operation needs, built once from the configuration.
import type { Config } from '../config/schema.js';
import type { RevocationStore } from '../pki/crl.js';
import { TrustStore } from '../pki/truststore.js';
import type { SignerSubject } from './signer-policy.js';
import { whitelistPaths, type WhitelistPaths } from './store.js';

export interface WhitelistSetup {
  trust: TrustStore;
  revocation?: RevocationStore;
  signer: SignerSubject;
  maxBytes: number;
  paths: WhitelistPaths;
}

export async function whitelistSetup(config: Config): Promise<WhitelistSetup> {
  const trust = TrustStore.fromDir(config.trust.dir);
  // A revoked signer is refused when CRLs are available (EX_2.2_5050 PKIX validation).
  // (crl.ts loads @peculiar/x509: only when CRLs are configured.)
  const revocation = config.trust.crlDir ? await (await import('../pki/crl.js')).RevocationStore.fromDir(config.trust.crlDir, trust) : undefined;
  return {
    trust,
    ...(revocation ? { revocation } : {}),
    signer: config.whitelist.signer.subject,
    maxBytes: config.whitelist.maxBytes,
    paths: whitelistPaths(config.state.dir),
  };
}
