// Configuration of the API LPS authentication (Référentiel #1 §6.8): the XOAUTH2 checker
// Dovecot calls, the Pro Santé Connect issuer it trusts, the session-limit front on the
// IMAP/submission entry points, and the entry-point host names published by TM5.1P.
import { z } from 'zod';
import { domainName, filePath, httpsUrl, port, positiveInt } from '../config/atoms.js';

/** Asymmetric JWS algorithms only: `none` and HMAC (HS*) can never be configured. */
export const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'] as const;
export type AsymmetricAlgorithm = (typeof ASYMMETRIC_ALGORITHMS)[number];

/** PSC's eIDAS levels, weakest first (PSC announces `eidas1`). */
export const DEFAULT_ACR_ORDER = ['eidas1', 'eidas2', 'eidas3'];

export const PSC_ISSUER_PRODUCTION = 'https://auth.esw.esante.gouv.fr/auth/realms/esante-wallet';

/**
 * The loopback ports behind the sidecar's doors, all below 1024 (net.ipv4.ip_unprivileged_port_start):
 * while their owner is stopped (a restart, a crash), a local user cannot bind them and answer in its
 * place (docs/install.md, "The perimeter"). `serve` binds the checker's with CAP_NET_BIND_SERVICE;
 * Dovecot's and Postfix's masters bind theirs as root.
 */
export const DEFAULT_CHECKER_PORT = 425;
/** Dovecot's `imap-mss-lps` listener behind the IMAP front (dovecot/conf.d/90-mss-lps.conf): 143 + 100. */
export const DEFAULT_LPS_IMAP_BACKEND_PORT = 243;
/** Postfix's LPS submission service behind the 587 front (postfix/master.cf.d/20-submission.cf): 587 + 100. */
export const DEFAULT_LPS_SUBMISSION_BACKEND_PORT = 687;

const endpoint = (defaultHost: string, defaultPort: number) =>
  z.strictObject({ host: z.string().min(1).default(defaultHost), port: port.default(defaultPort) }).prefault({});

const pscSection = z
  .strictObject({
    /** The PSC realm; `iss` must equal it and discovery is read from `<issuer>/.well-known/openid-configuration`. */
    issuer: httpsUrl.default(PSC_ISSUER_PRODUCTION),
    /** CA certificates (PEM) trusted for PSC's HTTPS endpoints: PSC uses a public CA, not IGC-Santé. */
    caFile: filePath.default('/etc/ssl/certs/ca-certificates.crt'),
    algorithms: z
      .array(z.enum(ASYMMETRIC_ALGORITHMS))
      .min(1)
      .default([...ASYMMETRIC_ALGORITHMS]),
    /** Tolerance on exp/iat/nbf, for clocks that drift a little (ours is NTP-synchronised, §6.9.1). */
    clockSkewSeconds: z.number().int().min(0).max(300).default(30),
    /**
     * The client ID(s) of this operator's PSC raccordement (EX_LPS_0800): a token must have
     * been issued for one of them — its `aud` contains one, or, as in PSC's access tokens
     * (§6.8.4.2's example has no `aud`), its `azp` is one. Required: without it, a token PSC
     * issued to any other client would open our mailboxes. Defaults to `authorizedParty`.
     */
    audience: z
      .union([
        z
          .string()
          .min(1)
          .transform((a) => [a]),
        z.array(z.string().min(1)).min(1),
      ])
      .optional(),
    /** When set, `azp` must equal it. */
    authorizedParty: z.string().min(1).optional(),
    /** When set, `acr` must be at least this level in `acrOrder`. */
    minAcr: z.string().min(1).optional(),
    acrOrder: z.array(z.string().min(1)).min(1).default(DEFAULT_ACR_ORDER),
    /** Deadline of one call to PSC (discovery, JWKS, UserInfo). */
    timeoutMs: positiveInt.max(30_000).default(3000),
    /** A JWKS older than this is fetched again before use; an unknown `kid` refetches at most once per cooldown. */
    jwksMaxAgeSeconds: positiveInt.default(3600),
    jwksCooldownSeconds: positiveInt.default(30),
    /** Tokens longer than this are refused before any parsing. */
    maxTokenBytes: positiveInt.max(65_536).default(16_384),
    /** Entries kept in this process's UserInfo cache (the shared cache is the state store). */
    userInfoCacheEntries: positiveInt.default(100_000),
  })
  .prefault({})
  .refine((p) => p.minAcr === undefined || p.acrOrder.includes(p.minAcr), { message: 'minAcr must be one of acrOrder', path: ['minAcr'] })
  .superRefine((p, ctx) => {
    // EX_LPS_0800: without our client ID, a token PSC issued to any other client would be accepted.
    if (p.audience === undefined && p.authorizedParty === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['audience'],
        input: undefined,
        message: "the client ID of this operator's PSC raccordement (EX_LPS_0800), required: tokens PSC issued for another client are refused",
      });
    }
  })
  .transform(({ audience, ...p }) => ({ ...p, audience: audience ?? [p.authorizedParty as string] }));

const checkerSection = z
  .strictObject({
    /** Loopback HTTP endpoint called by the Dovecot Lua passdb (dovecot/mss-lps-auth.lua). */
    // EX_LPS_0900: a port below 1024, so no local user can answer Dovecot's Lua passdb in the checker's place.
    listen: endpoint('127.0.0.1', DEFAULT_CHECKER_PORT),
  })
  .prefault({});

/** EX_LPS_1000: at most 15 minutes without a command and 4 hours in all; shorter values are allowed. */
const sessionsSection = z
  .strictObject({
    idleSeconds: positiveInt.max(900).default(900),
    maxSeconds: positiveInt.max(14_400).default(14_400),
  })
  .prefault({});

/**
 * What a client may do before it has logged in, on every front (PSC and AUTH-CLI, IMAP and
 * submission): idle or slow clients must not hold the fronts' sessions nor, through them,
 * Dovecot's and Postfix's processes (docs/auth.md, "Limits before login").
 */
const connectionsSection = z
  .strictObject({
    /** A client silent this long before its login is disconnected. */
    preLoginIdleSeconds: positiveInt.max(900).default(30),
    /** Sessions not logged in yet, per client address (a hospital's LPS behind one NAT address log in within seconds). */
    maxPreLoginPerSource: positiveInt.default(20),
    /** Sessions of all the fronts together; beyond, new connections are refused at once. */
    maxSessions: positiveInt.default(2000),
    /** Of maxSessions, the slots only logged-in sessions may take: a flood of new connections cannot lock out those already in. */
    authenticatedReserve: z.number().int().min(0).default(200),
  })
  .prefault({})
  .refine((c) => c.authenticatedReserve < c.maxSessions, { message: 'must be less than maxSessions', path: ['authenticatedReserve'] });

/**
 * Refused logins (EX_LPS_0710 replies stay exact): each refusal in a session waits longer,
 * a session is ended after `maxPerSession` refusals, an address with more than
 * `maxPerSourcePerMinute` refusals gets temporary failures without its logins being
 * checked, and identical refusals within `traceWindowSeconds` make one trace with a count.
 */
const failedLoginsSection = z
  .strictObject({
    /** The first refusal of a session is answered after this delay, each next one after twice the previous. */
    delayMs: z.number().int().min(0).max(10_000).default(1000),
    maxDelayMs: z.number().int().min(0).max(60_000).default(8000),
    maxPerSession: positiveInt.max(100).default(3),
    maxPerSourcePerMinute: positiveInt.default(60),
    traceWindowSeconds: positiveInt.max(3600).default(60),
  })
  .prefault({});

const frontEntry = (publicPort: number, backendPort: number) =>
  z.strictObject({ listen: endpoint('0.0.0.0', publicPort), backend: endpoint('127.0.0.1', backendPort) }).prefault({});

const frontSection = z
  .strictObject({
    enabled: z.boolean().default(true),
    imap: frontEntry(143, DEFAULT_LPS_IMAP_BACKEND_PORT),
    submission: frontEntry(587, DEFAULT_LPS_SUBMISSION_BACKEND_PORT),
    /**
     * Certificate (with its chain) and key of the PSC entry point, PEM, RSA for the six
     * suites: the submission front terminates TLS (EX_LPS_0710). The same files as Postfix's
     * `mss_submission_tls_chain_files` and Dovecot's `ssl_cert`/`ssl_key`.
     */
    certificate: filePath.default('/etc/mss-sidecar/tls/lps.crt'),
    key: filePath.default('/etc/mss-sidecar/tls/lps.key'),
  })
  .prefault({});

/** A listener that has no sensible default address: it must not take the PSC front's. */
const explicitEndpoint = (defaultPort: number) => z.strictObject({ host: z.string().min(1), port: port.default(defaultPort) });

/**
 * AUTH-CLI entry points for APP mailboxes (EX_LPS_1100, EX_LPS_1200): TLS ends in the
 * sidecar, which checks the client certificate against `trust.dir` and `trust.crlDir`.
 */
const authCliSection = z
  .strictObject({
    enabled: z.boolean().default(false),
    imap: z.strictObject({ listen: explicitEndpoint(143), backend: endpoint('127.0.0.1', DEFAULT_LPS_IMAP_BACKEND_PORT) }),
    submission: z.strictObject({ listen: explicitEndpoint(587), backend: endpoint('127.0.0.1', DEFAULT_LPS_SUBMISSION_BACKEND_PORT) }),
    /** Certificate (with its chain) and key of the AUTH-CLI host name, PEM; RSA for the six suites. */
    certificate: filePath,
    key: filePath,
    /** CRLs are read again this often (`crl sync` replaces them daily). */
    crlReloadSeconds: positiveInt.default(300),
  })
  .optional();

/** Host names of the four entry points announced by the SRV records of TM5.1P (EX_LPS_0300). */
const entryPointsSection = z
  .strictObject({
    imap: z.strictObject({ psc: domainName, authCli: domainName }),
    submission: z.strictObject({ psc: domainName, authCli: domainName }),
    /** Any value, identical on the four records; the Référentiel's is 100. */
    weight: z.number().int().min(0).max(65_535).default(100),
    /** DNS servers to query (`IP` or `IP:PORT`); empty: the system resolver. */
    resolvers: z.array(z.string().min(1)).default([]),
  })
  .optional();

export const authSection = z.strictObject({
  psc: pscSection,
  checker: checkerSection,
  sessions: sessionsSection,
  connections: connectionsSection,
  failedLogins: failedLoginsSection,
  front: frontSection,
  authCli: authCliSection,
  entryPoints: entryPointsSection,
});

export type AuthConfig = z.output<typeof authSection>;
export type PscConfig = AuthConfig['psc'];
export type SessionLimits = AuthConfig['sessions'];
export type ConnectionLimits = AuthConfig['connections'];
export type FailedLoginPolicy = AuthConfig['failedLogins'];
export type AuthCliConfig = NonNullable<AuthConfig['authCli']>;
