// The sandbox Pro Santé Connect's HTTP contract (sandbox.json: issuer, mint endpoint).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { httpsRequest } from '../../src/net/https-request.js';
import { SandboxPsc } from '../../sandbox/psc/sandbox-psc.js';
import { selfSignedCert } from '../helpers/tls-cert.js';
import { tmpDir } from '../helpers/tmp.js';

const cert = selfSignedCert(tmpDir());
const psc = new SandboxPsc({ tls: cert });
before(() => psc.start());
after(() => psc.stop());

async function call(
  url: string,
  method = 'GET',
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await httpsRequest({
    url,
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
    ca: cert.cert,
    timeoutMs: 5000,
    maxBytes: 65_536,
  });
  return { status: res.status, json: JSON.parse(res.body.toString('utf8')) as Record<string, unknown> };
}

test('EX_LPS_0900: the sandbox PSC mints PSC-shaped access tokens on POST {"idNat","ttlSeconds"} and refuses bad requests', async () => {
  const r = await call(psc.mintUrl, 'POST', { idNat: '810000000001', ttlSeconds: 120 });
  assert.equal(r.status, 200);
  const token = String(r.json.access_token);
  const header = decodeProtectedHeader(token);
  const claims = decodeJwt(token);
  assert.equal(header.alg, 'RS256');
  assert.equal(header.kid, psc.keys.current.kid);
  assert.equal(claims.iss, psc.issuer);
  assert.equal(claims.typ, 'Bearer');
  assert.equal(claims.azp, psc.clientId);
  assert.equal((claims.exp ?? 0) - (claims.iat ?? 0), 120);
  assert.equal(claims.SubjectNameID, undefined, 'the IdNat comes from UserInfo, not from the token');
  for (const bad of [{ idNat: '' }, { idNat: 'x y' }, { idNat: '81', ttlSeconds: 0 }, { idNat: '81', ttlSeconds: 1.5 }, { idNat: '81', ttlSeconds: 100_000 }]) {
    assert.equal((await call(psc.mintUrl, 'POST', bad)).status, 400, JSON.stringify(bad));
  }
});

test('EX_LPS_0900 step 7: discovery names the JWKS and UserInfo; UserInfo answers SubjectNameID for a minted token, 401 otherwise, 503 when down', async () => {
  const d = await call(`${psc.issuer}/.well-known/openid-configuration`);
  assert.equal(d.json.issuer, psc.issuer);
  const jwks = await call(String(d.json.jwks_uri));
  assert.deepEqual(
    (jwks.json.keys as Array<{ kid: string }>).map((k) => k.kid),
    [psc.keys.current.kid],
  );
  const token = String((await call(psc.mintUrl, 'POST', { idNat: '810000000002', ttlSeconds: 60 })).json.access_token);
  const info = await call(String(d.json.userinfo_endpoint), 'GET', undefined, { authorization: `Bearer ${token}` });
  assert.equal(info.status, 200);
  assert.equal(info.json.SubjectNameID, '810000000002');
  assert.equal((await call(String(d.json.userinfo_endpoint), 'GET', undefined, { authorization: 'Bearer nope' })).status, 401);
  psc.setUserInfo('down');
  try {
    assert.equal((await call(String(d.json.userinfo_endpoint), 'GET', undefined, { authorization: `Bearer ${token}` })).status, 503);
  } finally {
    psc.setUserInfo('up');
  }
  const rotated = await call(`${psc.issuer}/sandbox/rotate`, 'POST');
  assert.equal(((await call(String(d.json.jwks_uri))).json.keys as unknown[]).length, 2, 'the previous key stays published');
  assert.equal(rotated.json.kid, psc.keys.current.kid);
});
