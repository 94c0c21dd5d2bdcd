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

/** A Redis Sentinel: "host:port" or {host, port}. */
const sentinelAddress = z
  .union([
    z.string().regex(/^[^\s:]+:\d{1,5}$/, 'host:port, such as 10.0.0.5:26379'),
    z.strictObject({ host: z.string().min(1), port: z.number().int().min(1).max(65535) }),
  ])
  .transform((a) => (typeof a === 'string' ? { host: a.slice(0, a.lastIndexOf(':')), port: Number(a.slice(a.lastIndexOf(':') + 1)) } : a));

export const redisSection = z
  .strictObject({
    /** One Redis server: redis://host:port/db or rediss:// (TLS). Or `sentinels` + `masterName`. */
    url: z
      .string()
      .regex(/^rediss?:\/\//, 'a redis:// or rediss:// URL')
      .optional(),
    /** Redis Sentinel: the sentinels to ask which server is the master of `masterName`. */
    sentinels: z.array(sentinelAddress).min(1, 'at least one sentinel').optional(),
    masterName: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,64}$/, 'the name the sentinels monitor, such as mss')
      .optional(),
    db: z.number().int().min(0).max(15).default(0),
    /** ACL user and password (read from a file, never written in the configuration) of the Redis servers. */
    username: z.string().min(1).optional(),
    passwordFile: filePath.optional(),
    /** The sentinels' own ACL user and password file, when they ask for one. */
    sentinelUsername: z.string().min(1).optional(),
    sentinelPasswordFile: filePath.optional(),
    /** TLS towards the Redis servers and the sentinels (Redis 6+ `tls-port`). */
    tls: z
      .strictObject({
        caFile: filePath,
        certFile: filePath.optional(),
        keyFile: filePath.optional(),
        /** Name expected in the servers' certificates (default: the host connected to). */
        servername: z.string().min(1).optional(),
      })
      .optional(),
    /**
     * Journal events and logins count only once this many replicas hold them (Redis WAIT):
     * a master that dies before replicating loses nothing, the event is in the spool.
     * Default 1 with sentinels, 0 with one server.
     */
    waitReplicas: z.number().int().min(0).max(8).optional(),
    waitTimeoutMs: z.number().int().min(10).max(10_000).default(500),
    keyPrefix: z.string().default('mss:'),
    /** While Redis does not answer, `serve` keeps journal events and logins in <dir>/spool, up to this size. */
    spoolMaxBytes: z
      .number()
      .int()
      .positive()
      .default(1 << 30),
    /** How often `serve` asks Redis whether it is back, while something waits in the spool. */
    replayIntervalMs: z.number().int().positive().default(5000),
  })
  .superRefine((r, ctx) => {
    if ((r.url === undefined) === (r.sentinels === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['url'],
        input: r.url,
        message: 'set either url (one Redis server) or sentinels with masterName (Redis Sentinel), not both or neither',
      });
    }
    if (r.sentinels && !r.masterName)
      ctx.addIssue({
        code: 'custom',
        path: ['masterName'],
        input: undefined,
        message: 'the name of the master the sentinels monitor (sentinel monitor <name> …) is required with sentinels',
      });
    if (r.tls && (r.tls.certFile === undefined) !== (r.tls.keyFile === undefined))
      ctx.addIssue({ code: 'custom', path: ['tls', 'certFile'], input: r.tls.certFile, message: 'a client certificate needs both certFile and keyFile' });
  })
  .transform((r) => ({ ...r, waitReplicas: r.waitReplicas ?? (r.sentinels ? 1 : 0) }));

export const stateSection = z.strictObject({
  /** Embedded state (last valid liste blanche, runtime fields, journals). */
  dir: filePath.default('/var/lib/mss-sidecar'),
  /** When set, shared state lives in Redis so several nodes behind one MX agree (docs/cluster.md). */
  redis: redisSection.optional(),
});

export const logSection = z.strictObject({
  level: logLevel.default('info'),
});
