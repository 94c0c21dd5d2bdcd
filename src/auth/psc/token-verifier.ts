// EX_LPS_0900 steps 5 and 6: the access token was signed by PSC (a key of its `jwks_uri`,
// with an allowed asymmetric algorithm) and is within its validity period; plus what the
// Référentiel leaves to [PSC-MOT-FI] and we check anyway: issuer, audience (the token was
// issued for this operator's PSC client), optional authorized party and minimum acr, token type.
import { createRemoteJWKSet, customFetch, decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import { isMssError } from '../../errors.js';
import type { PscConfig } from '../config.js';
import type { TempFailReason, TokenFailure } from '../outcome.js';
import type { PscDiscovery } from './discovery.js';
import { pscFetchForJose, type PscHttpOptions } from './http.js';

export type TokenCheck =
  | { ok: true; claims: JWTPayload & { exp: number; iat: number } }
  | { ok: false; temporary: false; reason: TokenFailure; detail: string }
  | { ok: false; temporary: true; reason: TempFailReason; detail: string };

type RemoteKeySet = ReturnType<typeof createRemoteJWKSet>;

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

export class PscTokenVerifier {
  private keySet: { uri: string; keys: RemoteKeySet } | undefined;
  /** Number of JWKS downloads, for the benchmark and tests ("once per rotation"). */
  jwksFetches = 0;

  constructor(
    private readonly cfg: PscConfig,
    private readonly discovery: PscDiscovery,
    private readonly http: PscHttpOptions,
    private readonly now: () => number = Date.now,
  ) {}

  async verify(token: string): Promise<TokenCheck> {
    if (Buffer.byteLength(token) > this.cfg.maxTokenBytes) return refuse('token-too-large', `token longer than ${this.cfg.maxTokenBytes} bytes`);
    if (!JWT_SHAPE.test(token)) return refuse('token-malformed', 'not a compact JWS');
    let alg: unknown;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      return refuse('token-malformed', 'unreadable JOSE header');
    }
    // EX_LPS_0900 step 5: asymmetric algorithms only; `none` and HMAC never reach a key.
    if (typeof alg !== 'string' || !(this.cfg.algorithms as string[]).includes(alg))
      return refuse('token-algorithm', `algorithm ${JSON.stringify(alg)} is not allowed`);

    let keys: RemoteKeySet;
    try {
      keys = await this.keys();
    } catch (err) {
      return unavailable('psc-discovery-unavailable', err);
    }
    let claims: JWTPayload;
    try {
      // EX_LPS_0900 steps 5–6: signature with PSC's published key, exp/nbf with the skew.
      ({ payload: claims } = await jwtVerify(token, keys, {
        algorithms: this.cfg.algorithms,
        issuer: this.discovery.issuer,
        clockTolerance: this.cfg.clockSkewSeconds,
        requiredClaims: ['exp', 'iat'],
        currentDate: new Date(this.now()),
      }));
    } catch (err) {
      return classify(err);
    }
    return this.checkClaims(claims);
  }

  private checkClaims(claims: JWTPayload): TokenCheck {
    const now = Math.floor(this.now() / 1000);
    const { exp, iat } = claims as { exp: number; iat: number };
    // EX_LPS_0900 step 6 uses iat too: a token issued in the future (beyond the skew) is refused.
    if (iat > now + this.cfg.clockSkewSeconds) return refuse('token-issued-in-future', `iat ${iat} is after now ${now}`);
    if (exp <= iat) return refuse('token-claims', 'exp is not after iat');
    if (claims.typ !== undefined && String(claims.typ).toLowerCase() !== 'bearer')
      return refuse('token-type', `typ ${JSON.stringify(claims.typ)} is not Bearer`);
    const audience = this.audienceRefusal(claims);
    if (audience) return refuse('token-audience', audience);
    if (this.cfg.authorizedParty !== undefined && claims.azp !== this.cfg.authorizedParty)
      return refuse('token-authorized-party', `azp ${JSON.stringify(claims.azp)} is not ${this.cfg.authorizedParty}`);
    if (this.cfg.minAcr !== undefined) {
      const rank = typeof claims.acr === 'string' ? this.cfg.acrOrder.indexOf(claims.acr) : -1;
      if (rank < this.cfg.acrOrder.indexOf(this.cfg.minAcr)) return refuse('token-acr', `acr ${JSON.stringify(claims.acr)} is below ${this.cfg.minAcr}`);
    }
    return { ok: true, claims: claims as JWTPayload & { exp: number; iat: number } };
  }

  /**
   * EX_LPS_0800: the token was issued for this operator's PSC client. PSC's access tokens
   * name the client in `azp` and carry no `aud` (§6.8.4.2's example); a token whose `aud`
   * names other clients only is someone else's, whatever its `azp`.
   */
  private audienceRefusal(claims: JWTPayload): string | undefined {
    const ours = this.cfg.audience;
    if (claims.aud !== undefined) {
      const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
      return aud.some((a) => ours.includes(a)) ? undefined : `aud ${JSON.stringify(claims.aud)} names none of ${ours.join(', ')}`;
    }
    return typeof claims.azp === 'string' && ours.includes(claims.azp)
      ? undefined
      : `no aud, and azp ${JSON.stringify(claims.azp)} is none of ${ours.join(', ')}`;
  }

  /** jose's remote set: cached, refetched when older than jwksMaxAgeSeconds or, at most once per cooldown, on an unknown `kid`. */
  private async keys(): Promise<RemoteKeySet> {
    const { jwksUri } = await this.discovery.endpoints();
    if (this.keySet?.uri === jwksUri) return this.keySet.keys;
    const fetchJwks = pscFetchForJose(this.http);
    const counted: typeof fetchJwks = (url, init) => {
      this.jwksFetches += 1;
      return fetchJwks(url, init);
    };
    const keys = createRemoteJWKSet(new URL(jwksUri), {
      cacheMaxAge: this.cfg.jwksMaxAgeSeconds * 1000,
      cooldownDuration: this.cfg.jwksCooldownSeconds * 1000,
      timeoutDuration: this.http.timeoutMs,
      [customFetch]: counted,
    });
    this.keySet = { uri: jwksUri, keys };
    return keys;
  }
}

function refuse(reason: TokenFailure, detail: string): TokenCheck {
  return { ok: false, temporary: false, reason, detail };
}

function unavailable(reason: TempFailReason, err: unknown): TokenCheck {
  return { ok: false, temporary: true, reason, detail: err instanceof Error ? err.message : String(err) };
}

function classify(err: unknown): TokenCheck {
  const detail = err instanceof Error ? err.message : String(err);
  if (err instanceof errors.JWTExpired) return refuse('token-expired', detail);
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'iss') return refuse('token-issuer', detail);
    if (err.claim === 'aud') return refuse('token-audience', detail);
    if (err.claim === 'nbf') return refuse('token-not-yet-valid', detail);
    return refuse('token-claims', detail);
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return refuse('token-algorithm', detail);
  if (err instanceof errors.JWKSNoMatchingKey) return refuse('token-unknown-key', detail);
  if (err instanceof errors.JWSSignatureVerificationFailed) return refuse('token-signature', detail);
  if (err instanceof errors.JWKSMultipleMatchingKeys) return refuse('token-unknown-key', detail);
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid || err instanceof errors.JOSENotSupported) return refuse('token-malformed', detail);
  // The key set could not be obtained (network, timeout, non-200, invalid JSON): never a success.
  if (err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid || err instanceof errors.JOSEError || isMssError(err))
    return unavailable('jwks-unavailable', err);
  if (err instanceof TypeError || err instanceof SyntaxError) return unavailable('jwks-unavailable', err);
  return unavailable('internal', err);
}
