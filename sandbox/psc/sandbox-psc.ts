// A Pro Santé Connect look-alike on loopback HTTPS for the sandbox and the tests: OpenID
// discovery, a JWKS with key rotation, a UserInfo endpoint answering `SubjectNameID`, and a
// mint endpoint that issues access tokens for test identities:
//   POST <issuer>/sandbox/mint {"idNat": "…", "ttlSeconds": N} → {"access_token": "…"}
// Tokens look like PSC's (the example of §6.8.4.2): RS256, typ Bearer, azp, acr, scope.
// The authorization code flow (login page, token, logout, client registration) is in
// ./code-flow.ts.
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { createLocalJWKSet, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import { closeServerNow } from '../../src/util/close-server.js';
import { MssError } from '../../src/errors.js';
import { mssTlsOptions } from '../../src/pki/tls-profile.js';
import { CodeFlow, type Forgery, type RegisteredClient } from './code-flow.js';
import { json, readText } from './http-util.js';
import { KeyRing, type SigningKey } from './key-ring.js';
import type { TestProfessional } from './test-professionals.js';

export interface SandboxPscOptions {
  /** PEM certificate and key of the loopback HTTPS server. */
  tls: { cert: string; key: string };
  host?: string;
  port?: number;
  realm?: string;
  /** `azp` of minted tokens: the client ID an operator gets at its PSC raccordement. */
  clientId?: string;
  acr?: string;
  /** The people the test login page offers (default: TEST_PROFESSIONALS). */
  professionals?: readonly TestProfessional[];
}

export interface MintOptions {
  idNat: string;
  ttlSeconds?: number;
  /** Claims added to or replacing the defaults (tests: other issuer, padding, acr...). */
  claims?: JWTPayload;
  /** Sign with this key instead of the current one (tests: a key PSC never published). */
  key?: SigningKey;
}

export type UserInfoMode = 'up' | 'down';

/** The client ID the sandbox PSC issues tokens for (`azp`), unless told another. */
export const SANDBOX_PSC_CLIENT_ID = 'mss-sidecar-sandbox';

const ID_NAT = /^[0-9A-Za-z]{1,64}$/;
const MAX_TTL = 24 * 3600;

export class SandboxPsc {
  private server: https.Server | undefined;
  private ring!: KeyRing;
  private userInfoMode: UserInfoMode = 'up';
  /** What UserInfo answers per access token (jti): PSC knows the IdNat server-side. */
  private readonly subjects = new Map<string, { idNat: string; sub?: string; givenName?: string; familyName?: string }>();
  private flow!: CodeFlow;
  /** Request counters, for tests and the benchmark. */
  readonly counts = { discovery: 0, jwks: 0, userInfo: 0, mint: 0 };

  constructor(private readonly opts: SandboxPscOptions) {}

  async start(): Promise<void> {
    this.ring = await KeyRing.create();
    const self = this;
    this.flow = new CodeFlow(
      {
        get issuer() {
          return self.issuer;
        },
        get realmPath() {
          return new URL(self.issuer).pathname;
        },
        ring: this.ring,
        acr: this.opts.acr ?? 'eidas1',
        issued: (jti, info) => this.subjects.set(jti, info),
      },
      this.opts.professionals,
    );
    const server = https.createServer({ ...mssTlsOptions(), cert: this.opts.tls.cert, key: this.opts.tls.key }, (req, res) => void this.route(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) => reject(new MssError('SANDBOX_PSC_LISTEN', `sandbox PSC cannot listen: ${err.message}`, {}, { cause: err })));
      server.listen(this.opts.port ?? 0, this.opts.host ?? '127.0.0.1', () => resolve());
    });
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await closeServerNow(server);
  }

  get port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? 0;
  }

  get issuer(): string {
    return `https://${this.opts.host ?? '127.0.0.1'}:${this.port}/auth/realms/${this.opts.realm ?? 'esante-wallet-sandbox'}`;
  }

  get mintUrl(): string {
    return `${this.issuer}/sandbox/mint`;
  }

  get clientId(): string {
    return this.opts.clientId ?? SANDBOX_PSC_CLIENT_ID;
  }

  get keys(): KeyRing {
    return this.ring;
  }

  /** Rotate the signing key; the previous keys stay published. */
  rotate(): Promise<SigningKey> {
    return this.ring.rotate();
  }

  /** Register a client of the authorization code flow (the portal's PSC raccordement). */
  registerClient(c: { redirectUris: string[]; postLogoutRedirectUris?: string[]; name?: string }): RegisteredClient {
    return this.flow.register(c);
  }

  /** The next token response carries this forgery (tests of the client's checks). */
  forgeNext(f: Forgery): void {
    this.flow.forgeNext(f);
  }

  /** Login pages shown, codes, tokens, logouts at PSC, silent (SSO) sign-ins. */
  get flowCounts(): CodeFlow['counts'] {
    return this.flow.counts;
  }

  /** `down`: UserInfo answers 503, as when PSC is unavailable. */
  setUserInfo(mode: UserInfoMode): void {
    this.userInfoMode = mode;
  }

  async mint(opts: MintOptions): Promise<string> {
    const key = opts.key ?? this.ring.current;
    const now = Math.floor(Date.now() / 1000);
    const ttl = opts.ttlSeconds ?? 600;
    const claims: JWTPayload = {
      exp: now + ttl,
      iat: now,
      auth_time: now,
      jti: randomUUID(),
      iss: this.issuer,
      sub: `f:${randomUUID()}:${opts.idNat}`,
      typ: 'Bearer',
      azp: this.clientId,
      acr: this.opts.acr ?? 'eidas1',
      scope: 'openid scope_all',
      preferred_username: opts.idNat,
      ...opts.claims,
    };
    // Like PSC, the IdNat is known server-side and given by UserInfo, not read from the token.
    this.subjects.set(String(claims.jti), { idNat: opts.idNat });
    return new SignJWT(claims).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' }).sign(key.privateKey);
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', this.issuer).pathname;
    const realm = new URL(this.issuer).pathname;
    try {
      if (path === `${realm}/.well-known/openid-configuration` && req.method === 'GET') {
        this.counts.discovery += 1;
        return json(res, 200, this.discoveryDocument());
      }
      if (path === `${realm}/protocol/openid-connect/certs` && req.method === 'GET') {
        this.counts.jwks += 1;
        return json(res, 200, this.ring.jwks());
      }
      if (path === `${realm}/protocol/openid-connect/userinfo` && (req.method === 'GET' || req.method === 'POST')) {
        this.counts.userInfo += 1;
        return await this.userInfo(req, res);
      }
      if (path === `${realm}/sandbox/mint` && req.method === 'POST') {
        this.counts.mint += 1;
        return await this.mintEndpoint(req, res);
      }
      if (path === `${realm}/sandbox/rotate` && req.method === 'POST') {
        const key = await this.rotate();
        return json(res, 200, { kid: key.kid });
      }
      if (await this.flow.handle(path, req, res)) return;
      return json(res, 404, { error: 'not_found' });
    } catch (err) {
      return json(res, 500, { error: 'server_error', error_description: (err as Error).message });
    }
  }

  private discoveryDocument(): Record<string, unknown> {
    return {
      issuer: this.issuer,
      userinfo_endpoint: `${this.issuer}/protocol/openid-connect/userinfo`,
      jwks_uri: `${this.issuer}/protocol/openid-connect/certs`,
      id_token_signing_alg_values_supported: ['RS256'],
      subject_types_supported: ['public'],
      response_types_supported: ['code'],
      acr_values_supported: ['eidas1'],
      ...this.flow.metadata(),
    };
  }

  private async userInfo(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.userInfoMode === 'down') return json(res, 503, { error: 'temporarily_unavailable' });
    const auth = req.headers.authorization ?? '';
    const token = /^Bearer (\S+)$/i.exec(auth)?.[1];
    if (!token) return bearerError(res, 'invalid_request');
    try {
      const { payload } = await jwtVerify(token, createLocalJWKSet(this.ring.jwks()), { issuer: this.issuer, algorithms: ['RS256'] });
      const known = this.subjects.get(String(payload.jti));
      if (known === undefined) return bearerError(res, 'invalid_token');
      return json(res, 200, {
        sub: known.sub ?? payload.sub,
        SubjectNameID: known.idNat,
        preferred_username: payload.preferred_username,
        ...(known.givenName ? { given_name: known.givenName, family_name: known.familyName } : {}),
      });
    } catch {
      return bearerError(res, 'invalid_token');
    }
  }

  private async mintEndpoint(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body: { idNat?: unknown; ttlSeconds?: unknown };
    try {
      body = JSON.parse(await readText(req)) as typeof body;
    } catch {
      return json(res, 400, { error: 'invalid_request', error_description: 'the body must be JSON: {"idNat": "…", "ttlSeconds": N}' });
    }
    const ttl = body.ttlSeconds ?? 600;
    if (typeof body.idNat !== 'string' || !ID_NAT.test(body.idNat))
      return json(res, 400, { error: 'invalid_request', error_description: 'idNat must be 1 to 64 letters or digits' });
    if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 1 || ttl > MAX_TTL)
      return json(res, 400, { error: 'invalid_request', error_description: `ttlSeconds must be an integer from 1 to ${MAX_TTL}` });
    const token = await this.mint({ idNat: body.idNat, ttlSeconds: ttl });
    return json(res, 200, { access_token: token, token_type: 'Bearer', expires_in: ttl });
  }
}

function bearerError(res: ServerResponse, error: string): void {
  res.setHeader('www-authenticate', `Bearer error="${error}"`);
  json(res, 401, { error });
}
