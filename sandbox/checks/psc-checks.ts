// Self-check steps for the sandbox Pro Santé Connect against the checker's own PSC client
// (the configuration of operator A): mint, signature and claims, UserInfo, key rotation.
import { silentLogger } from '../../src/log.js';
import { httpsRequest } from '../../src/net/https-request.js';
import { LocalTtlCache } from '../../src/auth/local-ttl-cache.js';
import { PscDiscovery } from '../../src/auth/psc/discovery.js';
import { PscTokenVerifier } from '../../src/auth/psc/token-verifier.js';
import { PscUserInfo } from '../../src/auth/psc/userinfo.js';
import { tokenHash } from '../../src/auth/checker.js';
import fs from 'node:fs';
import { fail, pass, type CheckContext, type SelfCheckStep } from './check.js';

const ID_NAT = '899700000001';

interface PscClient {
  verifier: PscTokenVerifier;
  userInfo: PscUserInfo;
}

function client(ctx: CheckContext): PscClient {
  const cached = ctx.facts.get('psc-client') as PscClient | undefined;
  if (cached) return cached;
  const psc = ctx.config.auth?.psc;
  if (!psc) throw new Error('the sandbox configuration has no auth.psc section');
  const http = { ca: fs.readFileSync(psc.caFile, 'utf8'), timeoutMs: psc.timeoutMs };
  const discovery = new PscDiscovery(psc.issuer, http, psc.jwksMaxAgeSeconds * 1000);
  // A one-second cooldown so that the rotation step can refresh right away.
  const made = {
    verifier: new PscTokenVerifier({ ...psc, jwksCooldownSeconds: 1 }, discovery, http),
    userInfo: new PscUserInfo(discovery, http, new LocalTtlCache(100), undefined, silentLogger),
  };
  ctx.facts.set('psc-client', made);
  return made;
}

async function mint(ctx: CheckContext, idNat: string, ttlSeconds = 300): Promise<string> {
  const psc = ctx.sandbox.endpoints.psc;
  if (!psc) throw new Error('the sandbox has no PSC endpoint');
  const res = await httpsRequest({
    url: psc.mint,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ idNat, ttlSeconds }),
    ca: fs.readFileSync(psc.ca, 'utf8'),
    timeoutMs: 5000,
    maxBytes: 65_536,
  });
  const body = JSON.parse(res.body.toString('utf8')) as { access_token?: string };
  if (res.status !== 200 || !body.access_token) throw new Error(`mint answered ${res.status}`);
  return body.access_token;
}

export const pscChecks: SelfCheckStep[] = [
  {
    name: "psc: a token from the mint endpoint passes the checker's signature and claim checks (discovery, JWKS)",
    async run(ctx) {
      const token = await mint(ctx, ID_NAT);
      const r = await client(ctx).verifier.verify(token);
      ctx.facts.set('psc-token', token);
      return r.ok
        ? pass(`${token.length}-byte RS256 token for ${ID_NAT} verified; JWKS fetched ${client(ctx).verifier.jwksFetches} time(s)`)
        : fail(`${r.reason}: ${r.detail}`);
    },
  },
  {
    name: 'psc: UserInfo gives the minted identity as SubjectNameID, once per token',
    async run(ctx) {
      const token = ctx.facts.get('psc-token') as string | undefined;
      if (!token) return fail('no token from the previous step');
      const c = client(ctx);
      const exp = Math.floor(Date.now() / 1000) + 300;
      const first = await c.userInfo.idNat(token, tokenHash(token), exp);
      const second = await c.userInfo.idNat(token, tokenHash(token), exp);
      if (!first.ok || !second.ok) return fail(`UserInfo: ${first.ok ? '' : first.reason} ${second.ok ? '' : second.reason}`);
      return first.idNat === ID_NAT && second.cached && c.userInfo.calls === 1
        ? pass(`SubjectNameID ${first.idNat}; second lookup from the cache`)
        : fail(`got ${first.idNat}, calls ${c.userInfo.calls}`);
    },
  },
  {
    name: 'psc: after a key rotation, a new-key token costs one JWKS fetch and is accepted',
    async run(ctx) {
      const psc = ctx.sandbox.endpoints.psc;
      if (!psc) return fail('the sandbox has no PSC endpoint');
      const c = client(ctx);
      await new Promise((r) => setTimeout(r, 1100));
      const before = c.verifier.jwksFetches;
      const res = await httpsRequest({ url: psc.rotate, method: 'POST', ca: fs.readFileSync(psc.ca, 'utf8'), timeoutMs: 5000, maxBytes: 4096 });
      if (res.status !== 200) return fail(`rotate answered ${res.status}`);
      const r = await c.verifier.verify(await mint(ctx, ID_NAT));
      const fetches = c.verifier.jwksFetches - before;
      return r.ok && fetches === 1
        ? pass(`new key ${JSON.parse(res.body.toString('utf8')).kid}: accepted after ${fetches} JWKS fetch`)
        : fail(`${r.ok ? 'accepted' : r.reason} after ${fetches} JWKS fetches`);
    },
  },
];
