// The portal's session limits and its session store on the state store.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import type { Session } from 'fastify';
import { portalSection } from '../../src/portal/config.js';
import { ENDED_SESSION_KEPT_MS, sessionTtlMs, sessionVerdict } from '../../src/portal/session/policy.js';
import { StateSessionStore, keyOf } from '../../src/portal/session/store.js';
import { EmbeddedStore } from '../../src/store/embedded.js';
import { tmpDir } from '../helpers/tmp.js';

const limits = portalSection.parse({}).sessions;

test('portal sessions: off by default, 15 minutes idle and 4 hours in all by default, bounded by the schema', () => {
  const p = portalSection.parse({});
  assert.equal(p.enabled, false);
  assert.deepEqual([limits.idleSeconds, limits.maxSeconds, limits.signInSeconds], [900, 14_400, 600]);
  assert.equal(portalSection.safeParse({ sessions: { idleSeconds: 7200 } }).success, false);
  assert.equal(portalSection.safeParse({ sessions: { idleSeconds: 600, maxSeconds: 300 } }).success, false);
  const enabledWithout = portalSection.safeParse({ enabled: true });
  assert.equal(enabledWithout.success, false);
  assert.deepEqual(enabledWithout.error?.issues.map((i) => i.path.join('.')).sort(), ['psc.clientId', 'psc.clientSecretFile', 'publicUrl']);
  assert.equal(portalSection.safeParse({ publicUrl: 'https://mss.example.fr:8443/portail' }).success, false, 'an origin, no path');
  assert.equal(portalSection.parse({ publicUrl: 'https://mss.example.fr:8443/' }).publicUrl, 'https://mss.example.fr:8443');
});

test('portal sessions: idle and absolute limits, and how long the store keeps a session', () => {
  const t0 = 1_000_000_000_000;
  const user = { since: t0, lastSeen: t0 };
  assert.equal(sessionVerdict(user, t0 + 899_999, limits), 'live');
  assert.equal(sessionVerdict(user, t0 + 900_000, limits), 'idle');
  assert.equal(sessionVerdict({ since: t0, lastSeen: t0 + 14_399_000 }, t0 + 14_399_999, limits), 'live');
  assert.equal(sessionVerdict({ since: t0, lastSeen: t0 + 14_399_000 }, t0 + 14_400_000, limits), 'expired', 'however active');
  assert.equal(sessionTtlMs({ user: { idNat: 'x', since: t0, lastSeen: t0 } }, t0, limits), 900_000 + ENDED_SESSION_KEPT_MS);
  assert.equal(sessionTtlMs({ user: { idNat: 'x', since: t0, lastSeen: t0 + 14_000_000 } }, t0 + 14_000_000, limits), 400_000 + ENDED_SESSION_KEPT_MS);
  assert.equal(sessionTtlMs({ signIn: { state: 's', nonce: 'n', codeVerifier: 'v', startedAt: t0 } }, t0 + 1000, limits), 599_000);
});

test('portal sessions in the state store: kept under the hash of the session ID, expiring, removed on destroy', async () => {
  const kv = new EmbeddedStore(tmpDir());
  let ttl = 60_000;
  const store = new StateSessionStore(kv, () => ttl);
  const call = <T>(fn: (cb: (err?: unknown, v?: T) => void) => void) =>
    new Promise<T | undefined>((resolve, reject) => fn((err, v) => (err ? reject(err) : resolve(v))));
  const session = { user: { idNat: '810000000101', since: 1, lastSeen: 2 }, cookie: { originalMaxAge: null } } as unknown as Session;
  await call((cb) => store.set('the-session-id', session, cb));
  assert.equal(keyOf('the-session-id'), `portal-session:${createHash('sha256').update('the-session-id').digest('hex')}`);
  assert.equal(await kv.get('portal-session:the-session-id'), undefined);
  assert.deepEqual(await call<Session | null>((cb) => store.get('the-session-id', cb)), session);
  await call((cb) => store.destroy('the-session-id', cb));
  assert.equal(await call<Session | null>((cb) => store.get('the-session-id', cb)), null);
  ttl = 40;
  await call((cb) => store.set('short', session, cb));
  await new Promise((r) => setTimeout(r, 80));
  assert.equal(await call<Session | null>((cb) => store.get('short', cb)), null, 'expired with the session');
  ttl = 0;
  await call((cb) => store.set('ended', session, cb));
  assert.equal(await kv.get(keyOf('ended')), undefined, 'an ended session is not written');
  await kv.close();
});
