// Configuration of TM4.1P (liste blanche download and verification, Référentiel #1 §6.6).
import { z } from 'zod';
import { httpsUrl, positiveInt } from '../config/atoms.js';
import { DEFAULT_ANS_SIGNER_SUBJECT, DEFAULT_FUTURE_SKEW_HOURS, DEFAULT_MAX_BYTES, DEFAULT_MAX_DEPTH, DEFAULT_MAX_NODES } from './defaults.js';

export const WHITELIST_URL_PRODUCTION = 'https://espacedeconfiance.mssante.fr/listeblanchemssante.xml';
export const WHITELIST_URL_TEST = 'https://espacedeconfiance.test.mssante.fr/listeblanchemssante.xml';

/**
 * Subject attributes that identify the holder of the signing certificate as the ANS
 * (§6.6.2: "émis par l'ANS et attribué à l'ANS"; the Référentiel does not publish its DN).
 * A signer must match one pattern; in a pattern every attribute type must be present and
 * each of its values must be one of the pattern's values, compared exactly.
 * The chain to the IGC-Santé store is checked separately, so these only say *who* inside it.
 * - the ANS's own structure identifier (OU=3 + SIRET 18751275100020);
 * - the certificate that signs the published list (seen on copies of February-March 2025):
 *   CN=alb.mssante.fr,OU=347976684200724,O=CAPGEMINI TECHNOLOGY SERVICES,ST=Hauts-de-Seine (92),C=FR,
 *   the ANS's mssante.fr service run by its contractor. Without it a fresh installation would
 *   refuse the real list and never get one. See docs/whitelist.md.
 */
export { DEFAULT_ANS_SIGNER_SUBJECT };

const subjectPattern = z
  .record(z.string().regex(/^[A-Za-z][A-Za-z0-9-]*$/, 'an attribute type such as OU'), z.array(z.string().min(1)).min(1))
  .refine((p) => Object.keys(p).length > 0, 'at least one attribute (an empty pattern would accept any IGC-Santé certificate)');

export const whitelistSection = z.strictObject({
  url: httpsUrl.default(WHITELIST_URL_PRODUCTION),
  /** Warn loudly when the list in use was verified longer ago than this. */
  maxAgeHours: positiveInt.default(48),
  /** Refuse bodies larger than this (the live list is 3.7 MB). */
  maxBytes: positiveInt.default(DEFAULT_MAX_BYTES),
  /** Refuse documents nested deeper, or with more elements and attributes, than this (bounded memory and time). */
  limits: z
    .strictObject({
      maxDepth: positiveInt.default(DEFAULT_MAX_DEPTH),
      maxNodes: positiveInt.default(DEFAULT_MAX_NODES),
    })
    .prefault({}),
  /** Refuse a list whose DateDeGeneration is more than this many hours ahead of our clock. */
  futureSkewHours: z
    .number()
    .min(0)
    .max(24 * 30)
    .default(DEFAULT_FUTURE_SKEW_HOURS),
  /** Whole-download deadline, including a slow body. */
  timeoutMs: positiveInt.default(60_000),
  signer: z
    .strictObject({
      subject: z.union([subjectPattern, z.array(subjectPattern).min(1)]).default(() => DEFAULT_ANS_SIGNER_SUBJECT.map((p) => ({ ...p }))),
    })
    .prefault({}),
});
