// The `crl` section: where the IGC-Santé revocation lists come from and what the gates do
// without a current one (EX_OPE_5050). `crl sync` (daily timer) stores them in trust.crlDir.
import { z } from 'zod';
import { httpUrl, positiveInt } from '../config/atoms.js';

export const crlSection = z.strictObject({
  /**
   * Full and delta CRLs of every CA of trust.dir. Plain http is accepted: a CRL is signed,
   * and is stored only once its signature verifies with a CA of the store (the IGC-Santé
   * publishes its CRLs over http).
   */
  urls: z.array(httpUrl).default([]),
  timeoutMs: positiveInt.default(60_000),
  maxBytes: positiveInt.default(64 * 1024 * 1024),
  /**
   * true (default): a peer whose issuer has no current CRL is refused (hard fail, logged as
   * an error). false: it is accepted and a warning is logged for each such peer.
   */
  requireCurrent: z.boolean().default(true),
  /** How often the gates look for new CRL files, besides change events. */
  pollMs: positiveInt.default(60_000),
});

export type CrlConfig = z.output<typeof crlSection>;
