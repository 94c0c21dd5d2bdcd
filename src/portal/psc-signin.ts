// Sign-in with Pro Santé Connect: OpenID Connect authorization code flow (openid-client)
// with PKCE (S256), state and nonce, `acr_values` as PSC requires, the ID token's
// signature checked against PSC's published keys (not only trusted for arriving over TLS),
// its `acr` checked against the configured minimum, and the identity taken from UserInfo's
// `SubjectNameID` exactly as the API LPS does (EX_LPS_0900 step 7, subjectNameIdOf), with
// UserInfo's `sub` required to be the ID token's (OIDC Core §5.3.2). Calls to PSC go through
// the project's HTTPS client: only `portal.psc.caFile` is trusted, every call has a deadline.
import * as oidc from 'openid-client';
import { subjectNameIdOf } from '../auth/psc/userinfo.js';
import { MssError, isMssError, type ErrorCode } from '../errors.js';
import { httpsFetch } from '../net/https-request.js';
import type { PortalPscConfig } from './config.js';
import type { PendingSignIn } from './session/policy.js';

export interface SignedIn {
  idNat: string;
  name?: string;
  /** Kept only for PSC's logout (`id_token_hint`). */
  idToken: string;
  acr: string;
}

export interface PscSignInOptions {
  psc: PortalPscConfig;
  clientSecret: string;
  /** PEM CAs trusted for PSC. */
  ca: string;
  /** `<publicUrl>/connexion/retour` and `<publicUrl>/` (after PSC's logout). */
  redirectUri: string;
  postLogoutRedirectUri: string;
  now?: () => number;
}

/** Discovery and keys are read again after this long (a PSC key rotation, a moved endpoint). */
const METADATA_MAX_AGE_MS = 3_600_000;
const MAX_BYTES = 256 * 1024;

export class PscSignIn {
  private configuration: { at: number; value: Promise<oidc.Configuration> } | undefined;

  constructor(private readonly o: PscSignInOptions) {}

  /** Where to send the browser, and what its return must match (kept in the session). */
  async begin(): Promise<{ url: URL; pending: PendingSignIn }> {
    const config = await this.config();
    const codeVerifier = oidc.randomPKCECodeVerifier();
    const pending: PendingSignIn = { state: oidc.randomState(), nonce: oidc.randomNonce(), codeVerifier, startedAt: this.now() };
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: this.o.redirectUri,
      scope: this.o.psc.scope,
      response_type: 'code',
      state: pending.state,
      nonce: pending.nonce,
      // RFC 7636: the code is useless to whoever intercepts it without the verifier.
      code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      acr_values: this.o.psc.acrValues,
    });
    return { url, pending };
  }

  /**
   * The professional PSC authenticated, from the authorization response (`currentUrl`, the
   * redirect URI with its query) and the pending sign-in of this browser's session.
   */
  async finish(currentUrl: URL, pending: PendingSignIn): Promise<SignedIn> {
    const config = await this.config();
    let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
    try {
      tokens = await oidc.authorizationCodeGrant(config, currentUrl, {
        pkceCodeVerifier: pending.codeVerifier,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      });
    } catch (err) {
      throw classify(err, 'PORTAL_SIGNIN_REFUSED', 'PSC refused the authorization code or sent an invalid ID token');
    }
    const claims = tokens.claims();
    const idToken = tokens.id_token;
    if (!claims || !idToken) throw new MssError('PORTAL_SIGNIN_REFUSED', 'PSC sent no ID token');
    const acr = typeof claims.acr === 'string' ? claims.acr : '';
    const order = this.o.psc.acrOrder;
    if (order.indexOf(acr) < order.indexOf(this.o.psc.minAcr)) {
      throw new MssError('PORTAL_SIGNIN_ACR', `the ID token's acr ${JSON.stringify(claims.acr)} is below portal.psc.minAcr ${this.o.psc.minAcr}`, { acr });
    }
    let info: Record<string, unknown>;
    try {
      // OIDC Core §5.3.2: UserInfo's sub must be the ID token's.
      info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
    } catch (err) {
      throw classify(err, 'PORTAL_SIGNIN_REFUSED', 'PSC UserInfo refused the access token or answered for another subject');
    }
    // EX_LPS_0900 step 7 (the same rule as the API LPS): the IdNat is SubjectNameID, nothing else.
    const idNat = subjectNameIdOf(info);
    if (idNat === undefined) throw new MssError('PORTAL_SIGNIN_IDNAT', 'PSC UserInfo gave no usable SubjectNameID');
    const name = [info.given_name, info.family_name].filter((p): p is string => typeof p === 'string' && p.length > 0 && p.length <= 80).join(' ');
    return { idNat, idToken, acr, ...(name ? { name } : {}) };
  }

  /** PSC's end-session URL (RP-Initiated Logout), or undefined when PSC announces none. */
  async endSessionUrl(idTokenHint: string | undefined): Promise<URL | undefined> {
    let config: oidc.Configuration;
    try {
      config = await this.config();
    } catch {
      return undefined;
    }
    if (!config.serverMetadata().end_session_endpoint) return undefined;
    return oidc.buildEndSessionUrl(config, {
      post_logout_redirect_uri: this.o.postLogoutRedirectUri,
      client_id: config.clientMetadata().client_id,
      ...(idTokenHint ? { id_token_hint: idTokenHint } : {}),
    });
  }

  /** PSC's origin, for the Content-Security-Policy's form-action (the logout form is redirected there). */
  get origin(): string {
    return new URL(this.o.psc.issuer).origin;
  }

  private config(): Promise<oidc.Configuration> {
    const now = this.now();
    if (this.configuration && now - this.configuration.at < METADATA_MAX_AGE_MS) return this.configuration.value;
    const { psc } = this.o;
    if (!psc.clientId) return Promise.reject(new MssError('CONFIG_PORTAL', 'portal.psc.clientId is not set'));
    const auth = psc.clientAuthentication === 'client_secret_post' ? oidc.ClientSecretPost(this.o.clientSecret) : oidc.ClientSecretBasic(this.o.clientSecret);
    const value = oidc
      .discovery(new URL(psc.issuer), psc.clientId, { id_token_signed_response_alg: 'RS256' }, auth, {
        [oidc.customFetch]: pscFetch(this.o.ca, psc.timeoutMs),
        // Verify the ID token's signature with PSC's keys even though it comes over TLS.
        execute: [oidc.enableNonRepudiationChecks],
        timeout: Math.ceil(psc.timeoutMs / 1000),
      })
      .catch((err: unknown) => {
        this.configuration = undefined;
        throw classify(err, 'PORTAL_SIGNIN_REFUSED', `PSC discovery at ${psc.issuer} is not usable`);
      });
    this.configuration = { at: now, value };
    return value;
  }

  private now(): number {
    return this.o.now?.() ?? Date.now();
  }
}

/** openid-client's fetch, through the project's HTTPS client (configured CAs only, deadline, size cap). */
function pscFetch(ca: string, timeoutMs: number): oidc.CustomFetch {
  const fetchImpl = httpsFetch({ ca, timeoutMs, maxBytes: MAX_BYTES });
  return (url, options) =>
    fetchImpl(url, {
      method: options.method,
      headers: options.headers,
      ...(options.body !== undefined && options.body !== null ? { body: String(options.body) } : {}),
    });
}

/** PSC unreachable (ours to retry) or a refusal (the professional's sign-in fails). */
function classify(err: unknown, code: ErrorCode, what: string): MssError {
  for (let e: unknown = err; e; e = (e as { cause?: unknown }).cause) {
    if (isMssError(e) && /^HTTP_/.test(e.code)) return new MssError('PORTAL_PSC_UNAVAILABLE', `${what}: ${e.message}`, { cause: e.code }, { cause: err });
    if (isMssError(e)) return e;
  }
  const detail =
    err instanceof oidc.ResponseBodyError || err instanceof oidc.AuthorizationResponseError
      ? `${err.error}${err.error_description ? `: ${err.error_description}` : ''}`
      : (err as Error).message;
  return new MssError(code, `${what}: ${detail}`, { oauthCode: (err as { code?: string }).code }, { cause: err });
}
