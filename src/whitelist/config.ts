// Configuration of TM4.1P (liste blanche download and verification, Référentiel #1 §6.6).
import { z } from 'zod';
import { httpsUrl, positiveInt } from '../config/atoms.js';

export const WHITELIST_URL_PRODUCTION = 'https://espacedeconfiance.mssante.fr/listeblanchemssante.xml';
export const WHITELIST_URL_TEST = 'https://espacedeconfiance.test.mssante.fr/listeblanchemssante.xml';

/**
 * Subject attributes that identify the ANS as holder of the signing certificate
 * (§6.6.2: "attribué à l'ANS"). The Référentiel does not publish the signer's DN; the
 * default pins the ANS structure identifier seen in its certificates (OU=3 + SIRET
 * 18751275100020). Each listed attribute must carry one of the accepted values. A list of
 * such patterns accepts a signer matching any one of them (see docs/whitelist.md for the
 * certificate observed on the published list).
 */
export const DEFAULT_ANS_SIGNER_SUBJECT: Record<string, string[]> = { OU: ['318751275100020'] };

const subjectPattern = z
  .record(z.string().regex(/^[A-Za-z][A-Za-z0-9-]*$/, 'an attribute type such as OU'), z.array(z.string().min(1)).min(1))
  .refine((p) => Object.keys(p).length > 0, 'at least one attribute (an empty pattern would accept any IGC-Santé certificate)');

export const whitelistSection = z.strictObject({
  url: httpsUrl.default(WHITELIST_URL_PRODUCTION),
  /** Warn loudly when the list in use was verified longer ago than this. */
  maxAgeHours: positiveInt.default(48),
  /** Refuse bodies larger than this (the live list is ~4 MB). */
  maxBytes: positiveInt.default(64 * 1024 * 1024),
  /** Whole-download deadline, including a slow body. */
  timeoutMs: positiveInt.default(60_000),
  signer: z
    .strictObject({
      subject: z.union([subjectPattern, z.array(subjectPattern).min(1)]).default(DEFAULT_ANS_SIGNER_SUBJECT),
    })
    .prefault({}),
});
