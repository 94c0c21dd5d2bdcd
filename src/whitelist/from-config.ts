// What every whitelist operation needs, built once from the configuration: the one
// verification policy that `whitelist sync`, `whitelist verify`/`lookup`, the daemons and the
// jobs all apply (trust store, CRLs when trust.crlDir is set, signer, bounds, date skew), so
// that no path can leave a check out.
import type { Config } from '../config/schema.js';
import type { RevocationChecker } from '../pki/truststore.js';
import { TrustStore } from '../pki/truststore.js';
import { whitelistPaths, type WhitelistPaths } from './store.js';
import type { VerifyPolicy } from './verify.js';

export interface WhitelistSetup {
  policy: VerifyPolicy;
  paths: WhitelistPaths;
}

export interface SetupOverrides {
  /** Another CA directory (`--trust DIR`); CRLs of trust.crlDir are verified against it. */
  trust?: TrustStore;
  /** The daemon's reloading CRL holder, instead of a snapshot of trust.crlDir. */
  revocation?: RevocationChecker;
}

export async function whitelistSetup(config: Config, overrides: SetupOverrides = {}): Promise<WhitelistSetup> {
  const trust = overrides.trust ?? TrustStore.fromDir(config.trust.dir);
  // EX_2.2_5050 (PKIX validation of the signer): a revoked signer is refused whenever CRLs are
  // configured, on every path. (crl.ts loads @peculiar/x509: only when CRLs are configured.)
  const revocation =
    overrides.revocation ?? (config.trust.crlDir ? await (await import('../pki/crl.js')).RevocationStore.fromDir(config.trust.crlDir, trust) : undefined);
  const wl = config.whitelist;
  return {
    policy: {
      trust,
      ...(revocation ? { revocation } : {}),
      signer: wl.signer.subject,
      maxBytes: wl.maxBytes,
      limits: { maxDepth: wl.limits.maxDepth, maxNodes: wl.limits.maxNodes },
      futureSkewHours: wl.futureSkewHours,
    },
    paths: whitelistPaths(config.state.dir),
  };
}
