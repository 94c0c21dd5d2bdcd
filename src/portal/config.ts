// Configuration of the self-service portal for health professionals (`portal`, off by
// default): where it listens (HTTPS), the Pro Santé Connect client it signs people in with,
// its session limits and how much of the functional traces a person may look through.
import { z } from 'zod';
import { filePath, httpsUrl, port, positiveInt } from '../config/atoms.js';
import { DEFAULT_ACR_ORDER, PSC_ISSUER_PRODUCTION } from '../auth/config.js';

const pscClientSection = z
  .strictObject({
    /** The PSC realm the portal signs people in with (discovery at `<issuer>/.well-known/openid-configuration`). */
    issuer: httpsUrl.default(PSC_ISSUER_PRODUCTION),
    /** CAs trusted for PSC's HTTPS (a public CA in production). */
    caFile: filePath.default('/etc/ssl/certs/ca-certificates.crt'),
    /** The client ID obtained at the PSC raccordement of the portal. */
    clientId: z.string().min(1).optional(),
    /** File holding the client secret (read at start, never logged). */
    clientSecretFile: filePath.optional(),
    /** How the portal authenticates to PSC's token endpoint. */
    clientAuthentication: z.enum(['client_secret_basic', 'client_secret_post']).default('client_secret_basic'),
    scope: z.string().min(1).default('openid scope_all'),
    /** `acr_values` asked in the authorization request (PSC supports eidas1). */
    acrValues: z.string().min(1).default('eidas1'),
    /** The ID token's `acr` must be at least this level in `acrOrder`. */
    minAcr: z.string().min(1).default('eidas1'),
    acrOrder: z.array(z.string().min(1)).min(1).default(DEFAULT_ACR_ORDER),
    /** Deadline of one call to PSC (discovery, token, UserInfo). */
    timeoutMs: positiveInt.max(30_000).default(5000),
  })
  .prefault({})
  .refine((p) => p.acrOrder.includes(p.minAcr), { message: 'minAcr must be one of acrOrder', path: ['minAcr'] });

const sessionsSection = z
  .strictObject({
    /** A session unused this long is over (the person signs in again). */
    idleSeconds: positiveInt.max(3600).default(900),
    /** A session is over this long after sign-in, used or not. */
    maxSeconds: positiveInt.max(43_200).default(14_400),
    /** Time allowed between leaving for PSC and coming back with the code. */
    signInSeconds: positiveInt.max(1800).default(600),
  })
  .prefault({})
  .refine((s) => s.idleSeconds <= s.maxSeconds, { message: 'idleSeconds cannot exceed maxSeconds', path: ['idleSeconds'] });

const historySection = z
  .strictObject({
    /** Days of functional traces looked through for "my last logins and operations". */
    days: positiveInt.max(400).default(31),
    /** Lines shown at most. */
    entries: positiveInt.max(500).default(50),
    /** Bytes of trace files read at most for one page (a busy node writes a lot of traces). */
    maxBytes: positiveInt.default(256 * 1024 * 1024),
  })
  .prefault({});

export const portalSection = z
  .strictObject({
    enabled: z.boolean().default(false),
    listen: z.strictObject({ host: z.string().min(1).default('0.0.0.0'), port: port.default(8443) }).prefault({}),
    /** The portal's address as browsers reach it (an https origin): the redirect URI registered at PSC is `<publicUrl>/connexion/retour`. */
    publicUrl: httpsUrl
      .refine((u) => new URL(u).pathname === '/' && !new URL(u).search, 'an https origin such as https://mss.ch-exemple.fr:8443 (no path)')
      .transform((u) => new URL(u).origin)
      .optional(),
    /** PEM certificate (with chain) and key of the portal; default: the operator certificate and key. */
    certificate: filePath.optional(),
    key: filePath.optional(),
    psc: pscClientSection,
    sessions: sessionsSection,
    history: historySection,
  })
  .superRefine((p, ctx) => {
    if (!p.enabled) return;
    const need = (ok: unknown, path: string[], message: string): void => {
      if (!ok) ctx.addIssue({ code: 'custom', path, message });
    };
    need(p.publicUrl, ['publicUrl'], 'required when the portal is enabled: the https origin browsers use (the PSC redirect URI is built from it)');
    need(p.psc.clientId, ['psc', 'clientId'], 'required when the portal is enabled: the client ID of the PSC raccordement');
    need(p.psc.clientSecretFile, ['psc', 'clientSecretFile'], 'required when the portal is enabled: the file holding the PSC client secret');
  });

export type PortalConfig = z.output<typeof portalSection>;
export type PortalPscConfig = PortalConfig['psc'];
export type PortalSessionLimits = PortalConfig['sessions'];
