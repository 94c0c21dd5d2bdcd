// The sandbox PSC's authorization code flow, as a peer that refuses what a real OpenID
// provider refuses (RFC 6749 §4.1, RFC 7636, OIDC Core §3.1, RP-Initiated Logout): checked
// over HTTP by hand, without the portal's client, so that both sides are tested apart.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { createLocalJWKSet, decodeJwt, jwtVerify } from 'jose';
import { httpsRequest, type HttpsResponse } from '../../src/net/https-request.js';
import { SandboxPsc } from '../../sandbox/psc/sandbox-psc.js';
import type { RegisteredClient } from '../../sandbox/psc/code-flow.js';
import { selfSignedCert } from '../helpers/tls-cert.js';
import { tmpDir } from '../helpers/tmp.js';

const cert = selfSignedCert(tmpDir());
const psc = new SandboxPsc({ tls: cert });
let client: RegisteredClient;
const REDIRECT = 'https://portail.example.test/connexion/retour';
const AFTER_LOGOUT = 'https://portail.example.test/deconnecte';

before(async () => {
  await psc.start();
  client = psc.registerClient({ redirectUris: [REDIRECT], postLogoutRedirectUris: [AFTER_LOGOUT] });
});
after(() => psc.stop());

const call = (
  url: string,
  opts: { method?: string; form?: Record<string, string>; headers?: Record<string, string>; json?: unknown } = {},
): Promise<HttpsResponse> =>
  httpsRequest({
    url,
    method: opts.method ?? (opts.form || opts.json ? 'POST' : 'GET'),
    headers: {
      ...(opts.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      ...(opts.json ? { 'content-type': 'application/json' } : {}),
      ...opts.headers,
    },
    ...(opts.form ? { body: new URLSearchParams(opts.form).toString() } : opts.json ? { body: JSON.stringify(opts.json) } : {}),
    ca: cert.cert,
    timeoutMs: 5000,
    maxBytes: 256 * 1024,
  });

const basic = (id: string, secret: string) => ({
  authorization: `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`,
});

/** Authorization request, login page, choice: the code and the rest of the redirect. */
async function authorize(idNat: string, extra: Record<string, string> = {}): Promise<{ code: string; verifier: string; location: URL; cookie: string }> {
  const verifier = randomBytes(32).toString('base64url');
  const q = new URLSearchParams({
    response_type: 'code',
    client_id: client.clientId,
    redirect_uri: REDIRECT,
    scope: 'openid scope_all',
    state: 'st',
    nonce: 'no',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    acr_values: 'eidas1',
    ...extra,
  });
  const page = await call(`${psc.issuer}/protocol/openid-connect/auth?${q}`);
  assert.equal(page.status, 200);
  const requestId = /name="request_id" value="([^"]+)"/.exec(page.body.toString())?.[1] ?? '';
  const chosen = await call(`${psc.issuer}/protocol/openid-connect/auth/login`, { form: { request_id: requestId, idNat } });
  assert.equal(chosen.status, 302);
  const location = new URL(String(chosen.headers.location));
  return { code: location.searchParams.get('code') ?? '', verifier, location, cookie: String(chosen.headers['set-cookie']?.[0] ?? '').split(';')[0] ?? '' };
}

test('sandbox PSC: the login page leads back to the registered redirect URI with a code, the state and the issuer (RFC 9207); the token endpoint gives an ID token for the client and an access token UserInfo knows', async () => {
  const d = JSON.parse((await call(`${psc.issuer}/.well-known/openid-configuration`)).body.toString()) as Record<string, unknown>;
  assert.deepEqual(d.code_challenge_methods_supported, ['S256']);
  assert.equal(d.authorization_response_iss_parameter_supported, true);
  assert.equal(d.end_session_endpoint, `${psc.issuer}/protocol/openid-connect/logout`);
  const { code, verifier, location } = await authorize('810000000101');
  assert.equal(location.origin + location.pathname, REDIRECT);
  assert.equal(location.searchParams.get('state'), 'st');
  assert.equal(location.searchParams.get('iss'), psc.issuer);
  const tokens = await call(String(d.token_endpoint), {
    form: { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier },
    headers: basic(client.clientId, client.clientSecret),
  });
  assert.equal(tokens.status, 200);
  const body = JSON.parse(tokens.body.toString()) as { access_token: string; id_token: string };
  const { payload: id } = await jwtVerify(body.id_token, createLocalJWKSet(psc.keys.jwks()), { issuer: psc.issuer, audience: client.clientId });
  assert.deepEqual([id.nonce, id.acr, id.azp], ['no', 'eidas1', client.clientId]);
  const info = JSON.parse((await call(String(d.userinfo_endpoint), { headers: { authorization: `Bearer ${body.access_token}` } })).body.toString()) as Record<
    string,
    unknown
  >;
  assert.equal(info.SubjectNameID, '810000000101');
  assert.equal(info.sub, id.sub, "UserInfo answers for the ID token's subject");
  assert.equal(decodeJwt(body.access_token).sub, id.sub);
});

test('sandbox PSC: refuses an unregistered redirect URI (without redirecting), a missing or plain PKCE challenge, a wrong verifier, a code used twice, a wrong client secret', async () => {
  const q = (extra: Record<string, string>) =>
    `${psc.issuer}/protocol/openid-connect/auth?${new URLSearchParams({ response_type: 'code', client_id: client.clientId, redirect_uri: REDIRECT, scope: 'openid', ...extra })}`;
  const foreign = await call(q({ redirect_uri: 'https://evil.example/cb', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' }));
  assert.equal(foreign.status, 400);
  assert.equal(foreign.headers.location, undefined, 'never sent to an unregistered address');
  const plain = await call(q({ code_challenge: 'x'.repeat(43), code_challenge_method: 'plain', state: 's' }));
  assert.equal(plain.status, 302);
  assert.equal(new URL(String(plain.headers.location)).searchParams.get('error'), 'invalid_request');
  assert.equal(new URL(String((await call(q({}))).headers.location)).searchParams.get('error'), 'invalid_request', 'no PKCE');

  const token = (form: Record<string, string>, secret = client.clientSecret) =>
    call(`${psc.issuer}/protocol/openid-connect/token`, {
      form: { grant_type: 'authorization_code', redirect_uri: REDIRECT, ...form },
      headers: basic(client.clientId, secret),
    });
  const a = await authorize('810000000101');
  assert.equal((await token({ code: a.code, code_verifier: randomBytes(32).toString('base64url') })).status, 400, 'wrong verifier');
  const b = await authorize('810000000101');
  assert.equal((await token({ code: b.code, code_verifier: b.verifier }, 'wrong-secret')).status, 401);
  assert.equal((await token({ code: b.code, code_verifier: b.verifier })).status, 200);
  assert.equal((await token({ code: b.code, code_verifier: b.verifier })).status, 400, 'a code works once');
  const c = await authorize('810000000101');
  assert.equal(
    (await token({ code: c.code, code_verifier: c.verifier, redirect_uri: 'https://portail.example.test/other' })).status,
    400,
    "redirect_uri must be the authorization request's",
  );
});

test('sandbox PSC: an SSO session signs in again without the login page until logout, which redirects only to a registered address', async () => {
  const { cookie } = await authorize('810000000101');
  const verifier = randomBytes(32).toString('base64url');
  const q = new URLSearchParams({
    response_type: 'code',
    client_id: client.clientId,
    redirect_uri: REDIRECT,
    scope: 'openid',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  });
  const silent = await call(`${psc.issuer}/protocol/openid-connect/auth?${q}`, { headers: { cookie } });
  assert.equal(silent.status, 302, 'no login page while PSC has a session');
  assert.equal(
    (
      await call(
        `${psc.issuer}/protocol/openid-connect/logout?${new URLSearchParams({ client_id: client.clientId, post_logout_redirect_uri: 'https://evil.example/' })}`,
        { headers: { cookie } },
      )
    ).status,
    400,
  );
  const out = await call(
    `${psc.issuer}/protocol/openid-connect/logout?${new URLSearchParams({ client_id: client.clientId, post_logout_redirect_uri: AFTER_LOGOUT })}`,
    { headers: { cookie } },
  );
  assert.equal(out.headers.location, AFTER_LOGOUT);
  assert.equal((await call(`${psc.issuer}/protocol/openid-connect/auth?${q}`, { headers: { cookie } })).status, 200, 'the login page again');
});

test('sandbox PSC: clients register over RFC 7591 with https redirect URIs only', async () => {
  const ok = await call(`${psc.issuer}/clients-registrations/openid-connect`, { json: { redirect_uris: ['https://p.example.test/connexion/retour'] } });
  assert.equal(ok.status, 201);
  const reg = JSON.parse(ok.body.toString()) as Record<string, unknown>;
  assert.ok(reg.client_id && reg.client_secret);
  assert.equal((await call(`${psc.issuer}/clients-registrations/openid-connect`, { json: { redirect_uris: ['http://p.example.test/cb'] } })).status, 400);
  assert.equal((await call(`${psc.issuer}/clients-registrations/openid-connect`, { json: {} })).status, 400);
});
