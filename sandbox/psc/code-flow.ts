// The sandbox PSC's OpenID Connect authorization code flow, written from the specifications
// (RFC 6749 §4.1, RFC 7636 PKCE S256, OpenID Connect Core 1.0 §3.1, RFC 9207 `iss`, RFC 7591
// dynamic registration, OpenID Connect RP-Initiated Logout 1.0) and PSC's published shape
// (Keycloak paths, `acr` eidas1, SubjectNameID at UserInfo) — not from the portal's code,
// so that a misreading on either side shows up as a refusal:
//   GET  …/protocol/openid-connect/auth          checks the client, its redirect URI, PKCE;
//                                                 an SSO session answers at once, otherwise
//                                                 the test login page (choose a professional)
//   POST …/protocol/openid-connect/auth/login    the choice: SSO session cookie, one-time code
//   POST …/protocol/openid-connect/token         client authentication (Basic or body),
//                                                 code (60 s, once), redirect URI, PKCE verifier
//   GET  …/protocol/openid-connect/logout        ends the SSO session; registered redirect only
//   POST …/clients-registrations/openid-connect  registers a client (sandbox: no initial token)
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import escapeHtml from 'escape-html';
import { SignJWT, createLocalJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { newSigningKey, type KeyRing, type SigningKey } from './key-ring.js';
import { json, readText } from './http-util.js';
import { TEST_PROFESSIONALS, type TestProfessional } from './test-professionals.js';

export interface RegisteredClient {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  name?: string;
}

interface AuthRequest {
  clientId: string;
  redirectUri: string;
  state?: string;
  nonce?: string;
  codeChallenge: string;
  scope: string;
  expires: number;
}

interface Grant {
  request: AuthRequest;
  person: TestProfessional;
  authTime: number;
  sid: string;
  expires: number;
  used: boolean;
}

/** Forgeries a test can ask for on the next token response (the portal must refuse them). */
export type Forgery = 'id-token-foreign-key' | 'id-token-other-nonce' | 'userinfo-other-subject';

export interface CodeFlowHost {
  issuer: string;
  realmPath: string;
  ring: KeyRing;
  acr: string;
  /** Record an access token's subject for UserInfo. */
  issued(jti: string, info: { idNat: string; sub: string; givenName?: string; familyName?: string }): void;
}

const SSO_COOKIE = 'PSC_SANDBOX_SSO';
const CODE_TTL_MS = 60_000;
const REQUEST_TTL_MS = 600_000;
const ID_NAT = /^[0-9A-Za-z]{1,64}$/;
const MAX_ENTRIES = 10_000;

export class CodeFlow {
  private readonly clients = new Map<string, RegisteredClient>();
  private readonly requests = new Map<string, AuthRequest>();
  private readonly grants = new Map<string, Grant>();
  private readonly sso = new Map<string, { person: TestProfessional; authTime: number }>();
  private forgery: Forgery | undefined;
  private readonly subjectSalt = randomBytes(16).toString('hex');
  /** Counters for tests: login pages shown, codes issued, tokens issued, logouts. */
  readonly counts = { loginPage: 0, codes: 0, tokens: 0, logouts: 0, silent: 0 };

  constructor(
    private readonly host: CodeFlowHost,
    private readonly professionals: readonly TestProfessional[] = TEST_PROFESSIONALS,
  ) {}

  register(c: { redirectUris: string[]; postLogoutRedirectUris?: string[]; name?: string; clientId?: string; clientSecret?: string }): RegisteredClient {
    for (const u of [...c.redirectUris, ...(c.postLogoutRedirectUris ?? [])]) {
      const url = new URL(u);
      if (url.protocol !== 'https:' || url.hash) throw new Error(`${u}: redirect URIs are absolute https URLs without fragment`);
    }
    const client: RegisteredClient = {
      clientId: c.clientId ?? `sandbox-${randomBytes(6).toString('hex')}`,
      clientSecret: c.clientSecret ?? randomBytes(24).toString('base64url'),
      redirectUris: [...c.redirectUris],
      postLogoutRedirectUris: [...(c.postLogoutRedirectUris ?? [])],
      ...(c.name ? { name: c.name } : {}),
    };
    this.clients.set(client.clientId, client);
    return client;
  }

  /** The next token response carries this forgery (once). */
  forgeNext(f: Forgery): void {
    this.forgery = f;
  }

  metadata(): Record<string, unknown> {
    const p = `${this.host.issuer}/protocol/openid-connect`;
    return {
      authorization_endpoint: `${p}/auth`,
      token_endpoint: `${p}/token`,
      end_session_endpoint: `${p}/logout`,
      registration_endpoint: `${this.host.issuer}/clients-registrations/openid-connect`,
      grant_types_supported: ['authorization_code'],
      response_modes_supported: ['query'],
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      scopes_supported: ['openid', 'scope_all'],
      claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'acr', 'azp', 'SubjectNameID', 'given_name', 'family_name'],
      authorization_response_iss_parameter_supported: true,
    };
  }

  /** Routes under the realm; false when the path is not the code flow's. */
  async handle(path: string, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const r = this.host.realmPath;
    const method = req.method ?? 'GET';
    if (path === `${r}/protocol/openid-connect/auth` && method === 'GET') return (this.authorize(req, res), true);
    if (path === `${r}/protocol/openid-connect/auth/login` && method === 'POST') return (await this.login(req, res), true);
    if (path === `${r}/protocol/openid-connect/token` && method === 'POST') return (await this.token(req, res), true);
    if (path === `${r}/protocol/openid-connect/logout` && (method === 'GET' || method === 'POST')) return (await this.logout(req, res), true);
    if (path === `${r}/clients-registrations/openid-connect` && method === 'POST') return (await this.registration(req, res), true);
    if (path === `${r}/sandbox/forge` && method === 'POST') {
      const next = new URL(req.url ?? '', 'https://x').searchParams.get('next') as Forgery | null;
      if (next !== 'id-token-foreign-key' && next !== 'id-token-other-nonce' && next !== 'userinfo-other-subject')
        return (json(res, 400, { error: 'invalid_request', error_description: 'next=id-token-foreign-key|id-token-other-nonce|userinfo-other-subject' }), true);
      this.forgeNext(next);
      return (json(res, 200, { next }), true);
    }
    return false;
  }

  // RFC 6749 §4.1.1 / OIDC Core §3.1.2.1.
  private authorize(req: IncomingMessage, res: ServerResponse): void {
    this.prune();
    const q = new URL(req.url ?? '', this.host.issuer).searchParams;
    const client = this.clients.get(q.get('client_id') ?? '');
    const redirectUri = q.get('redirect_uri') ?? '';
    // §4.1.2.1: an unknown client or a redirect URI not registered exactly: never redirect.
    if (!client)
      return page(res, 400, 'Client inconnu', `<p>client_id ${escapeHtml(q.get('client_id') ?? '')} n'est pas enregistré auprès de ce Pro Santé Connect.</p>`);
    if (!client.redirectUris.includes(redirectUri))
      return page(res, 400, 'Redirection refusée', `<p>redirect_uri ${escapeHtml(redirectUri)} n'est pas enregistrée pour ce client.</p>`);
    const back = (params: Record<string, string>) =>
      redirect(res, redirectUri, { ...params, ...(q.get('state') ? { state: q.get('state') as string } : {}), iss: this.host.issuer });
    if (q.get('response_type') !== 'code') return back({ error: 'unsupported_response_type' });
    if (!(q.get('scope') ?? '').split(' ').includes('openid')) return back({ error: 'invalid_scope', error_description: 'openid is required' });
    // PKCE (RFC 7636) with S256 only: a plain challenge or none is refused.
    const challenge = q.get('code_challenge') ?? '';
    if (q.get('code_challenge_method') !== 'S256' || !/^[A-Za-z0-9_-]{43}$/.test(challenge))
      return back({ error: 'invalid_request', error_description: 'PKCE with code_challenge_method=S256 is required' });
    const request: AuthRequest = {
      clientId: client.clientId,
      redirectUri,
      codeChallenge: challenge,
      scope: q.get('scope') ?? 'openid',
      expires: Date.now() + REQUEST_TTL_MS,
    };
    if (q.get('state')) request.state = q.get('state') as string;
    if (q.get('nonce')) request.nonce = q.get('nonce') as string;
    const sso = this.sso.get(cookieOf(req, SSO_COOKIE) ?? '');
    if (sso && q.get('prompt') !== 'login') {
      this.counts.silent += 1;
      return this.issueCode(res, request, sso.person, sso.authTime, cookieOf(req, SSO_COOKIE) as string);
    }
    const id = randomBytes(16).toString('hex');
    this.requests.set(id, request);
    this.counts.loginPage += 1;
    page(res, 200, 'Pro Santé Connect — bac à sable', loginForm(this.host.realmPath, id, client, this.professionals));
  }

  private async login(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const form = new URLSearchParams(await readText(req));
    const request = this.requests.get(form.get('request_id') ?? '');
    if (!request || request.expires < Date.now())
      return page(res, 400, 'Demande expirée', "<p>Cette demande d'authentification a expiré. Retournez sur le service et recommencez.</p>");
    this.requests.delete(form.get('request_id') ?? '');
    const other = (form.get('other') ?? '').trim();
    const idNat = other || form.get('idNat') || '';
    if (!ID_NAT.test(idNat)) return page(res, 400, 'Identifiant invalide', '<p>Un identifiant national : lettres et chiffres.</p>');
    const person = this.professionals.find((p) => p.idNat === idNat) ?? { idNat, givenName: '', familyName: '', note: '' };
    const sid = randomUUID();
    const authTime = Math.floor(Date.now() / 1000);
    this.sso.set(sid, { person, authTime });
    res.setHeader('set-cookie', `${SSO_COOKIE}=${sid}; Path=${this.host.realmPath}/; Secure; HttpOnly; SameSite=Lax`);
    this.issueCode(res, request, person, authTime, sid);
  }

  private issueCode(res: ServerResponse, request: AuthRequest, person: TestProfessional, authTime: number, sid: string): void {
    const code = randomBytes(32).toString('base64url');
    this.grants.set(code, { request, person, authTime, sid, expires: Date.now() + CODE_TTL_MS, used: false });
    this.counts.codes += 1;
    redirect(res, request.redirectUri, { code, ...(request.state ? { state: request.state } : {}), iss: this.host.issuer });
  }

  // RFC 6749 §4.1.3 / §5.2, RFC 7636 §4.6, OIDC Core §3.1.3.
  private async token(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const form = new URLSearchParams(await readText(req));
    const client = this.authenticate(req, form);
    if (!client) {
      res.setHeader('www-authenticate', 'Basic realm="sandbox-psc"');
      return json(res, 401, { error: 'invalid_client' });
    }
    if (form.get('grant_type') !== 'authorization_code') return json(res, 400, { error: 'unsupported_grant_type' });
    const code = form.get('code') ?? '';
    const grant = this.grants.get(code);
    if (!grant || grant.expires < Date.now() || grant.request.clientId !== client.clientId)
      return json(res, 400, { error: 'invalid_grant', error_description: 'unknown, expired or foreign code' });
    if (grant.used) {
      // §4.1.2: a code used twice is an attack; refuse (and never issue again for it).
      this.grants.delete(code);
      return json(res, 400, { error: 'invalid_grant', error_description: 'code already used' });
    }
    grant.used = true;
    if (form.get('redirect_uri') !== grant.request.redirectUri)
      return json(res, 400, { error: 'invalid_grant', error_description: 'redirect_uri differs from the authorization request' });
    const verifier = form.get('code_verifier') ?? '';
    if (!/^[A-Za-z0-9._~-]{43,128}$/.test(verifier) || createHash('sha256').update(verifier).digest('base64url') !== grant.request.codeChallenge) {
      return json(res, 400, { error: 'invalid_grant', error_description: 'PKCE verification failed' });
    }
    const forgery = this.forgery;
    this.forgery = undefined;
    const now = Math.floor(Date.now() / 1000);
    const ttl = 300;
    const person = grant.person;
    const sub = this.subjectOf(person.idNat);
    const key = this.host.ring.current;
    const jti = randomUUID();
    const access = await sign(key, {
      exp: now + ttl,
      iat: now,
      auth_time: grant.authTime,
      jti,
      iss: this.host.issuer,
      sub,
      typ: 'Bearer',
      azp: client.clientId,
      session_state: grant.sid,
      sid: grant.sid,
      acr: this.host.acr,
      scope: grant.request.scope,
      preferred_username: person.idNat,
    });
    // UserInfo answers for this token; a forged subject shows whether the client compares it.
    this.host.issued(jti, {
      idNat: person.idNat,
      sub: forgery === 'userinfo-other-subject' ? this.subjectOf('someone-else') : sub,
      ...(person.givenName ? { givenName: person.givenName, familyName: person.familyName } : {}),
    });
    const idClaims: JWTPayload = {
      exp: now + ttl,
      iat: now,
      auth_time: grant.authTime,
      jti: randomUUID(),
      iss: this.host.issuer,
      aud: client.clientId,
      sub,
      typ: 'ID',
      azp: client.clientId,
      sid: grant.sid,
      acr: this.host.acr,
      ...(grant.request.nonce ? { nonce: forgery === 'id-token-other-nonce' ? 'not-the-nonce-you-sent' : grant.request.nonce } : {}),
    };
    const idToken = await sign(forgery === 'id-token-foreign-key' ? await newSigningKey() : key, idClaims);
    this.counts.tokens += 1;
    json(res, 200, { access_token: access, token_type: 'Bearer', expires_in: ttl, id_token: idToken, scope: grant.request.scope, session_state: grant.sid });
  }

  /** RFC 6749 §2.3.1: client_secret_basic (form-urlencoded id and secret), or both in the body. */
  private authenticate(req: IncomingMessage, form: URLSearchParams): RegisteredClient | undefined {
    let id: string | null = null;
    let secret: string | null = null;
    const basic = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (basic) {
      const text = Buffer.from(basic, 'base64').toString('utf8');
      const i = text.indexOf(':');
      if (i < 0) return undefined;
      id = decodeURIComponent(text.slice(0, i).replace(/\+/g, ' '));
      secret = decodeURIComponent(text.slice(i + 1).replace(/\+/g, ' '));
      if (form.get('client_secret') !== null) return undefined; // one method per request
    } else {
      id = form.get('client_id');
      secret = form.get('client_secret');
    }
    const client = this.clients.get(id ?? '');
    if (!client || secret === null) return undefined;
    const a = Buffer.from(secret);
    const b = Buffer.from(client.clientSecret);
    return a.length === b.length && timingSafeEqual(a, b) ? client : undefined;
  }

  // OpenID Connect RP-Initiated Logout 1.0 §2–3.
  private async logout(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const q = req.method === 'POST' ? new URLSearchParams(await readText(req)) : new URL(req.url ?? '', this.host.issuer).searchParams;
    let clientId = q.get('client_id') ?? undefined;
    const hint = q.get('id_token_hint');
    if (hint) {
      try {
        const { payload } = await jwtVerify(hint, createLocalJWKSet(this.host.ring.jwks()), {
          issuer: this.host.issuer,
          algorithms: ['RS256'],
          clockTolerance: 24 * 3600,
        });
        const aud = Array.isArray(payload.aud) ? payload.aud[0] : payload.aud;
        if (clientId && clientId !== aud) return page(res, 400, 'Déconnexion refusée', '<p>client_id et id_token_hint ne désignent pas le même client.</p>');
        clientId = aud;
      } catch {
        return page(res, 400, 'Déconnexion refusée', "<p>id_token_hint n'est pas un jeton émis par ce Pro Santé Connect.</p>");
      }
    }
    const target = q.get('post_logout_redirect_uri');
    const client = this.clients.get(clientId ?? '');
    if (target && (!client || !client.postLogoutRedirectUris.includes(target)))
      return page(res, 400, 'Redirection refusée', "<p>post_logout_redirect_uri n'est pas enregistrée pour ce client.</p>");
    const sid = cookieOf(req, SSO_COOKIE);
    if (sid) this.sso.delete(sid);
    res.setHeader('set-cookie', `${SSO_COOKIE}=; Path=${this.host.realmPath}/; Secure; HttpOnly; SameSite=Lax; Max-Age=0`);
    this.counts.logouts += 1;
    if (target) return redirect(res, target, q.get('state') ? { state: q.get('state') as string } : {});
    page(res, 200, 'Déconnecté', '<p>Vous êtes déconnecté(e) de Pro Santé Connect.</p>');
  }

  // RFC 7591 §3 (the sandbox asks no initial access token).
  private async registration(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body: { redirect_uris?: unknown; post_logout_redirect_uris?: unknown; client_name?: unknown };
    try {
      body = JSON.parse(await readText(req)) as typeof body;
    } catch {
      return json(res, 400, { error: 'invalid_client_metadata', error_description: 'the body must be JSON' });
    }
    const list = (v: unknown): string[] | undefined => (Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : undefined);
    const redirectUris = list(body.redirect_uris);
    if (!redirectUris || redirectUris.length === 0) return json(res, 400, { error: 'invalid_redirect_uri', error_description: 'redirect_uris is required' });
    let client: RegisteredClient;
    try {
      client = this.register({
        redirectUris,
        postLogoutRedirectUris: list(body.post_logout_redirect_uris) ?? [],
        ...(typeof body.client_name === 'string' ? { name: body.client_name } : {}),
      });
    } catch (err) {
      return json(res, 400, { error: 'invalid_redirect_uri', error_description: (err as Error).message });
    }
    json(res, 201, {
      client_id: client.clientId,
      client_secret: client.clientSecret,
      client_id_issued_at: Math.floor(Date.now() / 1000),
      client_secret_expires_at: 0,
      redirect_uris: client.redirectUris,
      post_logout_redirect_uris: client.postLogoutRedirectUris,
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['authorization_code'],
      response_types: ['code'],
    });
  }

  /** A pairwise-looking stable subject per person, PSC's `f:<uuid>:<IdNat>` shape. */
  private subjectOf(idNat: string): string {
    const h = createHash('sha256').update(`${this.subjectSalt}:${idNat}`).digest('hex');
    return `f:${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}:${idNat}`;
  }

  private prune(): void {
    const now = Date.now();
    for (const [k, v] of this.requests) if (v.expires < now) this.requests.delete(k);
    for (const [k, v] of this.grants) if (v.expires < now) this.grants.delete(k);
    // Bounded whatever a caller does: the oldest go first.
    for (const m of [this.requests, this.grants, this.sso] as Array<Map<string, unknown>>) {
      while (m.size > MAX_ENTRIES) m.delete(m.keys().next().value as string);
    }
  }
}

function sign(key: SigningKey, claims: JWTPayload): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' }).sign(key.privateKey);
}

function loginForm(realmPath: string, requestId: string, client: RegisteredClient, people: readonly TestProfessional[]): string {
  const options = people
    .map(
      (p, i) =>
        `<div><input type="radio" name="idNat" id="p${i}" value="${escapeHtml(p.idNat)}"${i === 0 ? ' checked' : ''}><label for="p${i}"> ${escapeHtml(`${p.givenName} ${p.familyName}`)} — ${escapeHtml(p.idNat)} <small>(${escapeHtml(p.note)})</small></label></div>`,
    )
    .join('\n');
  return `<p>Service : <strong>${escapeHtml(client.name ?? client.clientId)}</strong></p>
<p>Bac à sable : choisissez le professionnel de test à authentifier (aucune carte CPS n'est demandée).</p>
<form method="post" action="${escapeHtml(realmPath)}/protocol/openid-connect/auth/login">
<input type="hidden" name="request_id" value="${escapeHtml(requestId)}">
<fieldset><legend>Professionnel de test</legend>
${options}
<div><label for="other">Autre identifiant national : </label><input type="text" id="other" name="other" maxlength="64"></div>
</fieldset>
<button type="submit" id="psc-login">Se connecter</button>
</form>`;
}

function page(res: ServerResponse, status: number, title: string, body: string): void {
  const text = `<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body style="font-family: sans-serif; max-width: 48rem; margin: 2rem auto"><h1>${escapeHtml(title)}</h1>${body}</body></html>`;
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

function redirect(res: ServerResponse, to: string, params: Record<string, string>): void {
  const url = new URL(to);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  res.writeHead(302, { location: url.href, 'cache-control': 'no-store' });
  res.end();
}

function cookieOf(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return undefined;
}
