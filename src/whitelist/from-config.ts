// What every whitelist operation needs, built once from the configuration: the one
// verification policy that `whitelist sync`, `whitelist verify`/`lookup`, the daemons and the
// jobs all apply (trust store, CRLs of trust.crlDir, signer, bounds, date skew), so
// that no path can leave a check out. The signer's revocation follows the gates' policy
// (crl.requireCurrent), whether or not trust.crlDir is set.
import type { Config } from '../config/schema.js';
import type { RevocationChecker } from '../pki/truststore.js';
import { NO_REVOCATION_INFO, TrustStore } from '../pki/truststore.js';
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
  /** Another CRL directory (`--crl-dir DIR`) instead of trust.crlDir. */
  crlDir?: string;
}

export async function whitelistSetup(config: Config, overrides: SetupOverrides = {}): Promise<WhitelistSetup> {
  const trust = overrides.trust ?? TrustStore.fromDir(config.trust.dir);
  const crlDir = overrides.crlDir ?? config.trust.crlDir;
  // EX_2.2_5050 (PKIX validation of the signer, revocation included), on every path, with the
  // gates' policy (EX_OPE_5050): a revoked signer is refused, and so is one whose CA has no
  // current CRL unless crl.requireCurrent is false. No trust.crlDir is no CRL at all, as for
  // the gates — never "no check". (crl.ts loads @peculiar/x509: only when CRLs are configured.)
  const revocation = overrides.revocation ?? (crlDir ? await (await import('../pki/crl.js')).RevocationStore.fromDir(crlDir, trust) : NO_REVOCATION_INFO);
  const wl = config.whitelist;
  return {
    policy: {
      trust,
      revocation,
      requireCurrentCrl: config.crl.requireCurrent,
      signer: wl.signer.subject,
      maxBytes: wl.maxBytes,
      limits: { maxDepth: wl.limits.maxDepth, maxNodes: wl.limits.maxNodes },
      futureSkewHours: wl.futureSkewHours,
    },
    paths: whitelistPaths(config.state.dir),
  };
}
