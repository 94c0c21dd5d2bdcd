// The defaults of the whitelist section, readable without loading the configuration schema
// (`whitelist verify FILE --trust DIR` runs without a configuration, and starts fast).
// config.ts builds the schema from these.

/** §6.6.2: the list must be "émis par l'ANS et attribué à l'ANS"; see config.ts and docs/whitelist.md. */
export const DEFAULT_ANS_SIGNER_SUBJECT: ReadonlyArray<Record<string, string[]>> = [
  { OU: ['318751275100020'] },
  { CN: ['alb.mssante.fr'], OU: ['347976684200724'] },
];

/**
 * Resource bounds, sized from the published list (3.7 MB, 6,494 Domaine entries, about
 * 45,000 elements, nesting depth 7 inside the Signature) with a wide margin: 16 MiB is more
 * than four times the list, 200,000 elements and attributes about four times. A document within them is
 * verified with a peak RSS under 300 MB (test/unit/whitelist-bounds.test.ts).
 */
export const DEFAULT_MAX_BYTES = 16 * 1024 * 1024;
export const DEFAULT_MAX_DEPTH = 32;
export const DEFAULT_MAX_NODES = 200_000;

/** How far in the future DateDeGeneration may be (clock differences between the ANS and us). */
export const DEFAULT_FUTURE_SKEW_HOURS = 24;
