// Sections every part of mss-sidecar reads: who the operator is, which PKI it trusts,
// where it keeps state, how it logs.
import { z } from 'zod';
import { domainName, filePath, logLevel } from './atoms.js';

export const operatorSection = z.strictObject({
  /** Raison sociale of the structure, as in the O= of its IGC-Santé certificate. */
  name: z.string().min(1),
  /** Mail domains this operator manages; each must be in the liste blanche under our DN. */
  domains: z.array(domainName).min(1, 'at least one managed domain'),
  /** Structure national identifier with its type prefix, as in the OU= of our certificate. */
  structureId: z.string().regex(/^[0-9A-Za-z]{2,32}$/, 'a structure IdNat such as 1130000000'),
  /** §6.4.1.1: a FINESS-registered operator attaches a FINESS géographique to every BAL. */
  finessRegistered: z.boolean().default(true),
  /**
   * EX_PBA_5011: the operator's FINESS juridique numbers (EJ). A BAL attached to one of them
   * must be marked `mutualised` (shared between sites), and `mutualised` takes only them;
   * every other BAL carries its site's FINESS géographique. Empty: not checked.
   */
  finessJuridique: z.array(z.string().regex(/^(?:\d{2}|2[AB])\d{7}$/, 'a FINESS number (9 characters)')).default([]),
  /** Operator certificate (IGC-Santé, server + client auth) and its private key, PEM. */
  certificate: filePath,
  key: filePath,
  /** Time zone for month boundaries, schedules and dates shown to the ANS. */
  timeZone: z.string().min(1).default('Europe/Paris'),
});

export const trustSection = z.strictObject({
  /** Directory of IGC-Santé CA certificates (PEM): the only roots any peer is checked against. */
  dir: filePath,
  /** Directory where `crl sync` keeps verified CRLs. */
  crlDir: filePath.optional(),
  /**
   * SHA-256 fingerprints of the CA certificates as published by IGC-Santé (RE_OPE_5040);
   * when set, `status` reports any CA of `dir` that is not among them.
   */
  expectedFingerprints: z.array(z.string().regex(/^([0-9A-Fa-f]{2}:?){31}[0-9A-Fa-f]{2}$/, 'a SHA-256 fingerprint (64 hex digits, colons allowed)')).optional(),
});

export const stateSection = z.strictObject({
  /** Embedded state (last valid liste blanche, runtime fields, journals). */
  dir: filePath.default('/var/lib/mss-sidecar'),
  /** When set, shared state lives in Redis so several nodes behind one MX agree. */
  redis: z
    .strictObject({
      url: z.string().regex(/^rediss?:\/\//, 'a redis:// or rediss:// URL'),
      keyPrefix: z.string().default('mss:'),
      /** While Redis does not answer, `serve` keeps journal events and logins in <dir>/spool, up to this size. */
      spoolMaxBytes: z.number().int().positive().default(1 << 30),
      /** How often `serve` asks Redis whether it is back, while something waits in the spool. */
      replayIntervalMs: z.number().int().positive().default(5000),
    })
    .optional(),
});

export const logSection = z.strictObject({
  level: logLevel.default('info'),
});
