// The XOAUTH2 checker against a sandbox PSC on loopback HTTPS and an in-memory registry:
// every step of EX_LPS_0900 from 5 to 8, with the forgeries each step must refuse.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { buildChecker, type BuiltChecker } from '../../src/auth/build-checker.js';
import { authSection } from '../../src/auth/config.js';
import type { LoginAttempt } from '../../src/auth/checker.js';
import { LocalTtlCache } from '../../src/auth/local-ttl-cache.js';
import { SANDBOX_PSC_CLIENT_ID, SandboxPsc } from '../../sandbox/psc/sandbox-psc.js';
import { captureLogger } from '../helpers/log.js';
import { MemoryMailboxAccess } from '../helpers/mailbox-access.js';
import { hmacWithPublicKeyToken, signedNotIssued, tamperedToken, unsignedToken } from '../helpers/psc-tokens.js';
import { selfSignedCert } from '../helpers/tls-cert.js';
import { tmpDir } from '../helpers/tmp.js';

const HOLDER = '810000000001';
const DELEGATE = '810000000002';
const STRANGER = '810000000003';
const COHOLDER = '810000000004';

let psc: SandboxPsc;
let other: SandboxPsc;
let ca: string;
const access = new MemoryMailboxAccess()
  .add('jean.dupond@ch-exemple.mssante.fr', { type: 'PER', holder: HOLDER, delegates: [{ idNat: DELEGATE, of: HOLDER }] })
  .add('cardio@ch-exemple.mssante.fr', { type: 'ORG', responsible: HOLDER, coholders: [COHOLDER] })
  .add('suspendu@ch-exemple.mssante.fr', { type: 'PER', holder: HOLDER, status: 'suspended' })
  .add('dpi@ch-exemple.mssante.fr', { type: 'APP' });

function checkerWith(psc: Record<string, unknown> = {}): BuiltChecker & { lines: string[] } {
  const cfg = authSection.parse({ psc: { issuer: issuerOf(), caFile: '/nonexistent', audience: SANDBOX_PSC_CLIENT_ID, ...psc } });
  const { log, lines } = captureLogger();
  return { ...buildChecker(cfg.psc, { access, log, ca }), lines };
}
const issuerOf = (): string => psc.issuer;

function attempt(token: string, user = 'jean.dupond@ch-exemple.mssante.fr', extra: Partial<LoginAttempt> = {}): LoginAttempt {
  return { user, token, service: 'imap', mechanism: 'XOAUTH2', remoteIp: '192.0.2.10', session: 'sess1', ...extra };
}

before(async () => {
  const cert = selfSignedCert(tmpDir());
  ca = cert.cert;
  psc = new SandboxPsc({ tls: cert });
  other = new SandboxPsc({ tls: cert, realm: 'another-realm' });
  await Promise.all([psc.start(), other.start()]);
});
after(async () => {
  await Promise.all([psc.stop(), other.stop()]);
});

describe('EX_LPS_0900 steps 5–8 and EX_GBM_5414: who gets in', () => {
  const c = () => shared;
  let shared: ReturnType<typeof checkerWith>;
  before(() => {
    shared = checkerWith();
  });

  test('EX_LPS_0900 EX_LPS_0600: the holder of a PER mailbox with a valid PSC token is accepted and the login recorded (EX_GDT_5060)', async () => {
    const before = access.logins.length;
    const outcome = await c().checker.check(attempt(await psc.mint({ idNat: HOLDER }), 'Jean.Dupond@ch-exemple.mssante.fr', { client: 'LPS Exemple 1.0' }));
    assert.deepEqual(outcome, { verdict: 'OK', idNat: HOLDER, role: 'holder' });
    await new Promise((r) => setImmediate(r));
    const login = access.logins[before];
    assert.ok(login);
    assert.equal(login.mailbox, 'jean.dupond@ch-exemple.mssante.fr');
    assert.equal(login.authType, 'PSC-XOAUTH2');
    assert.equal(login.author, HOLDER);
    assert.equal(login.service, 'imap');
    assert.equal(login.client, 'LPS Exemple 1.0');
    assert.equal(login.remoteIp, '192.0.2.10');
    assert.equal(login.session, 'sess1');
  });

  test("EX_LPS_0900 EX_GDT_5060: evaluate decides as check does but hands a success's record to its caller (the submission front records it when Postfix redeems the ticket); refusals are traced at once (EX_GDT_5040)", async () => {
    const [logins, failures] = [access.logins.length, access.failures.length];
    const ok = await c().checker.evaluate(attempt(await psc.mint({ idNat: DELEGATE }), undefined, { service: 'smtp', session: 'front1' }));
    assert.deepEqual(ok.outcome, { verdict: 'OK', idNat: DELEGATE, role: 'delegate', delegateOf: HOLDER });
    assert.deepEqual(
      [ok.login?.mailbox, ok.login?.authType, ok.login?.author, ok.login?.delegateOf, ok.login?.service],
      ['jean.dupond@ch-exemple.mssante.fr', 'PSC-XOAUTH2', DELEGATE, HOLDER, 'smtp'],
    );
    const refused = await c().checker.evaluate(attempt(await psc.mint({ idNat: STRANGER }), undefined, { service: 'smtp' }));
    assert.deepEqual(refused, { outcome: { verdict: 'FAIL', reason: 'not-authorised' } });
    await new Promise((r) => setImmediate(r));
    assert.equal(access.logins.length, logins, 'nothing recorded by evaluate');
    assert.deepEqual(
      access.failures.slice(failures).map((f) => [f.author, f.reason, f.service]),
      [[STRANGER, 'not-authorised', 'smtp']],
    );
  });

  test('EX_GBM_5414: a delegate is accepted on the delegated mailbox, acting for the holder', async () => {
    const outcome = await c().checker.check(attempt(await psc.mint({ idNat: DELEGATE })));
    assert.deepEqual(outcome, { verdict: 'OK', idNat: DELEGATE, role: 'delegate', delegateOf: HOLDER });
  });

  test('EX_LPS_0900 step 8: the responsible and a co-holder of an ORG mailbox are accepted', async () => {
    assert.equal((await c().checker.check(attempt(await psc.mint({ idNat: HOLDER }), 'cardio@ch-exemple.mssante.fr'))).verdict, 'OK');
    assert.deepEqual(await c().checker.check(attempt(await psc.mint({ idNat: COHOLDER }), 'cardio@ch-exemple.mssante.fr')), {
      verdict: 'OK',
      idNat: COHOLDER,
      role: 'coholder',
    });
  });

  test('EX_LPS_0900 step 8: an IdNat with no right on the mailbox is refused', async () => {
    assert.deepEqual(await c().checker.check(attempt(await psc.mint({ idNat: STRANGER }))), { verdict: 'FAIL', reason: 'not-authorised' });
  });

  test('EX_LPS_0900 step 8: a suspended mailbox, an unknown one and an APP mailbox are refused to a PSC token', async () => {
    const token = await psc.mint({ idNat: HOLDER });
    assert.deepEqual(await c().checker.check(attempt(token, 'suspendu@ch-exemple.mssante.fr')), { verdict: 'FAIL', reason: 'suspended' });
    assert.deepEqual(await c().checker.check(attempt(token, 'nobody@ch-exemple.mssante.fr')), { verdict: 'FAIL', reason: 'unknown-mailbox' });
    assert.deepEqual(await c().checker.check(attempt(token, 'dpi@ch-exemple.mssante.fr')), { verdict: 'FAIL', reason: 'application-mailbox' });
  });

  test('EX_LPS_0900: only XOAUTH2 (and OAUTHBEARER) are PSC mechanisms; PLAIN is refused here', async () => {
    const token = await psc.mint({ idNat: HOLDER });
    assert.deepEqual(await c().checker.check(attempt(token, undefined, { mechanism: 'PLAIN' })), { verdict: 'FAIL', reason: 'mechanism' });
    assert.equal((await c().checker.check(attempt(token, undefined, { mechanism: 'OAUTHBEARER' }))).verdict, 'OK');
  });

  test('EX_LPS_0900 step 8: a registry that cannot answer gives a temporary failure, never a success', async () => {
    access.unavailable = true;
    try {
      assert.deepEqual(await c().checker.check(attempt(await psc.mint({ idNat: HOLDER }))), { verdict: 'TEMPFAIL', reason: 'registry-unavailable' });
    } finally {
      access.unavailable = false;
    }
  });

  test('EX_LPS_0900: the token never appears in the log, only a prefix of its hash', async () => {
    const token = await psc.mint({ idNat: STRANGER });
    await c().checker.check(attempt(token));
    const text = c().lines.join('');
    assert.ok(text.length > 0);
    for (const segment of token.split('.')) assert.ok(!text.includes(segment), 'a token segment was logged');
    assert.match(text, /"tokenHash":"[0-9a-f]{12}"/);
  });
});

describe('EX_LPS_0900 steps 5–6: the token must be PSC-signed and current', () => {
  let shared: ReturnType<typeof checkerWith>;
  before(() => {
    shared = checkerWith();
  });
  const refused = async (token: string, reason: string) => assert.deepEqual(await shared.checker.check(attempt(token)), { verdict: 'FAIL', reason });
  const now = () => Math.floor(Date.now() / 1000);

  test('EX_LPS_0900 step 6: an expired token is refused', async () => {
    await refused(await psc.mint({ idNat: HOLDER, claims: { iat: now() - 700, exp: now() - 100 } }), 'token-expired');
  });

  test('EX_LPS_0900 step 6: exp/iat/nbf tolerate the configured clock skew, no more', async () => {
    // Our side tolerates it (PSC's UserInfo may still refuse an expired token, as it should).
    assert.equal((await shared.verifier.verify(await psc.mint({ idNat: HOLDER, claims: { iat: now() - 600, exp: now() - 10 } }))).ok, true);
    await refused(await psc.mint({ idNat: HOLDER, claims: { iat: now() + 120, exp: now() + 600 } }), 'token-issued-in-future');
    await refused(await psc.mint({ idNat: HOLDER, claims: { nbf: now() + 120 } }), 'token-not-yet-valid');
  });

  test('EX_LPS_0900 step 5: a token from another issuer is refused (other keys, or our keys with another iss)', async () => {
    await refused(await other.mint({ idNat: HOLDER }), 'token-unknown-key');
    await refused(await psc.mint({ idNat: HOLDER, claims: { iss: 'https://auth.bas.esw.esante.gouv.fr/auth/realms/esante-wallet' } }), 'token-issuer');
  });

  test('EX_LPS_0900 step 5: a bad signature is refused', async () => {
    await refused(tamperedToken(await psc.mint({ idNat: HOLDER })), 'token-signature');
  });

  test('EX_LPS_0900 step 5: alg none is refused', async () => {
    await refused(unsignedToken(await psc.mint({ idNat: HOLDER })), 'token-algorithm');
  });

  test('EX_LPS_0900 step 5: HS256 signed with the PSC public key (algorithm confusion) is refused', async () => {
    await refused(await hmacWithPublicKeyToken(psc, await psc.mint({ idNat: HOLDER })), 'token-algorithm');
  });

  test('EX_LPS_0900 step 5: garbage and oversized tokens are refused before any key is fetched', async () => {
    await refused('not-a-jwt', 'token-malformed');
    await refused('a.b.c', 'token-malformed');
    const small = checkerWith({ maxTokenBytes: 2048 });
    assert.deepEqual(await small.checker.check(attempt(await psc.mint({ idNat: HOLDER, claims: { pad: 'x'.repeat(3000) } }))), {
      verdict: 'FAIL',
      reason: 'token-too-large',
    });
    assert.equal(small.verifier.jwksFetches, 0);
  });

  test('EX_LPS_0900 step 5: a token longer than 4 KB is accepted', async () => {
    const token = await psc.mint({ idNat: HOLDER, claims: { pad: 'x'.repeat(4500) } });
    assert.ok(token.length > 4096);
    assert.equal((await shared.checker.check(attempt(token))).verdict, 'OK');
  });

  test('EX_LPS_0900 step 5: an unknown kid after a key rotation costs one JWKS refresh, then the token is accepted', async () => {
    const c = checkerWith({ jwksCooldownSeconds: 1 });
    assert.equal((await c.checker.check(attempt(await psc.mint({ idNat: HOLDER })))).verdict, 'OK');
    assert.equal(c.verifier.jwksFetches, 1);
    await new Promise((r) => setTimeout(r, 1100));
    const rotated = await psc.rotate();
    try {
      const outcome = await c.checker.check(attempt(await psc.mint({ idNat: HOLDER })));
      assert.equal(outcome.verdict, 'OK');
      assert.equal(c.verifier.jwksFetches, 2);
      // Warm again: no further fetch, for old-key and new-key tokens alike.
      for (let i = 0; i < 5; i += 1) assert.equal((await c.checker.check(attempt(await psc.mint({ idNat: HOLDER })))).verdict, 'OK');
      assert.equal(c.verifier.jwksFetches, 2);
    } finally {
      psc.keys.retire(psc.keys.published[0]?.kid ?? '');
      void rotated;
    }
  });

  test('EX_LPS_0900 step 5: unknown kids do not make the checker hammer the JWKS (one refresh per cooldown)', async () => {
    const c = checkerWith({ jwksCooldownSeconds: 60 });
    assert.equal((await c.checker.check(attempt(await psc.mint({ idNat: HOLDER })))).verdict, 'OK');
    for (let i = 0; i < 5; i += 1) assert.equal((await c.checker.check(attempt(await other.mint({ idNat: HOLDER })))).verdict, 'FAIL');
    assert.equal(c.verifier.jwksFetches, 1);
  });

  test('EX_LPS_0800 EX_LPS_0900: a token issued for another PSC client is refused (token-audience): its aud names another client, or it has no aud and another azp', async () => {
    const c = checkerWith();
    const refused = async (claims: Record<string, unknown>) =>
      assert.deepEqual(
        await c.checker.check(attempt(await psc.mint({ idNat: HOLDER, claims }))),
        { verdict: 'FAIL', reason: 'token-audience' },
        JSON.stringify(claims),
      );
    // The audit's case: azp is the sandbox client, aud another audience.
    await refused({ aud: 'another-service' });
    await refused({ aud: ['another-service', 'account'] });
    await refused({ azp: 'another-client' });
    // PSC's own form (§6.8.4.2): no aud, azp the client; or aud naming us among others.
    assert.equal((await c.checker.check(attempt(await psc.mint({ idNat: HOLDER })))).verdict, 'OK');
    assert.equal((await c.checker.check(attempt(await psc.mint({ idNat: HOLDER, claims: { aud: ['account', SANDBOX_PSC_CLIENT_ID] } })))).verdict, 'OK');
  });

  test('EX_LPS_0800: the checker does not start without the client ID of the PSC raccordement (auth.psc.audience)', () => {
    const parsed = authSection.safeParse({ psc: { issuer: issuerOf(), caFile: '/x' } });
    assert.equal(parsed.success, false);
    assert.match(JSON.stringify(parsed.error?.issues), /audience.*raccordement/);
    assert.deepEqual(authSection.parse({ psc: { authorizedParty: 'ours' } }).psc.audience, ['ours']);
  });

  test('EX_LPS_0900: optional audience, azp and minimum acr are enforced when configured', async () => {
    const strict = checkerWith({ audience: 'mss-operator', authorizedParty: 'mss-sidecar-sandbox', minAcr: 'eidas2' });
    const refusedBy = async (claims: Record<string, unknown>, reason: string) =>
      assert.deepEqual(await strict.checker.check(attempt(await psc.mint({ idNat: HOLDER, claims }))), { verdict: 'FAIL', reason });
    await refusedBy({ aud: 'someone-else', acr: 'eidas2' }, 'token-audience');
    await refusedBy({ aud: 'mss-operator', acr: 'eidas2', azp: 'other-client' }, 'token-authorized-party');
    await refusedBy({ aud: 'mss-operator', acr: 'eidas1' }, 'token-acr');
    await refusedBy({ aud: 'mss-operator', acr: 'eidas3', typ: 'ID' }, 'token-type');
    assert.equal((await strict.checker.check(attempt(await psc.mint({ idNat: HOLDER, claims: { aud: ['x', 'mss-operator'], acr: 'eidas3' } })))).verdict, 'OK');
  });
});

describe('EX_LPS_0900 step 7: the IdNat comes from UserInfo, cached until the token expires', () => {
  test('EX_LPS_0900 step 7: one UserInfo call per token, shared by concurrent and later logins', async () => {
    const c = checkerWith();
    const token = await psc.mint({ idNat: HOLDER });
    const outcomes = await Promise.all([1, 2, 3, 4].map(() => c.checker.check(attempt(token))));
    assert.ok(outcomes.every((o) => o.verdict === 'OK'));
    assert.equal((await c.checker.check(attempt(token, undefined, { service: 'smtp' }))).verdict, 'OK');
    assert.equal(c.userInfo.calls, 1);
  });

  test('EX_LPS_0900 step 7: a second node finds the IdNat in the shared cache and does not call UserInfo', async () => {
    const shared = new LocalTtlCache(100);
    const { log } = captureLogger();
    const cfg = authSection.parse({ psc: { issuer: psc.issuer, caFile: '/x', audience: SANDBOX_PSC_CLIENT_ID } });
    const nodeA = buildChecker(cfg.psc, { access, log, ca, sharedCache: shared });
    const nodeB = buildChecker(cfg.psc, { access, log, ca, sharedCache: shared });
    const token = await psc.mint({ idNat: HOLDER, ttlSeconds: 120 });
    assert.equal((await nodeA.checker.check(attempt(token))).verdict, 'OK');
    assert.equal((await nodeB.checker.check(attempt(token, undefined, { service: 'smtp' }))).verdict, 'OK');
    assert.equal(nodeA.userInfo.calls + nodeB.userInfo.calls, 1);
    assert.equal(shared.size, 1);
  });

  test('EX_LPS_0900 step 7: UserInfo down gives a temporary failure, never a success', async () => {
    const c = checkerWith();
    psc.setUserInfo('down');
    try {
      assert.deepEqual(await c.checker.check(attempt(await psc.mint({ idNat: HOLDER }))), { verdict: 'TEMPFAIL', reason: 'userinfo-unavailable' });
    } finally {
      psc.setUserInfo('up');
    }
  });

  test('EX_LPS_910 EX_LPS_0900: PSC unreachable (discovery) gives a temporary failure, never a success', async () => {
    const token = await psc.mint({ idNat: HOLDER });
    const cfg = authSection.parse({ psc: { issuer: 'https://127.0.0.1:1/auth/realms/gone', caFile: '/x', timeoutMs: 500, audience: SANDBOX_PSC_CLIENT_ID } });
    const { log } = captureLogger();
    const c = buildChecker(cfg.psc, { access, log, ca });
    assert.deepEqual(await c.checker.check(attempt(token)), { verdict: 'TEMPFAIL', reason: 'psc-discovery-unavailable' });
  });

  test('EX_LPS_0900 step 7: a token UserInfo does not know is refused', async () => {
    const c = checkerWith();
    // Signed with PSC's published key, valid, but PSC never issued it: UserInfo refuses it.
    const unknown = await signedNotIssued(psc, { iss: psc.issuer, sub: 'f:x', typ: 'Bearer', azp: psc.clientId });
    assert.deepEqual(await c.checker.check(attempt(unknown)), { verdict: 'FAIL', reason: 'userinfo-refused' });
  });
});
