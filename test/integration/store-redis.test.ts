import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { buildChecker } from '../../src/auth/build-checker.js';
import { tokenHash } from '../../src/auth/checker.js';
import { authSection } from '../../src/auth/config.js';
import { StoreTtlCache } from '../../src/auth/store-cache.js';
import { SandboxPsc } from '../../sandbox/psc/sandbox-psc.js';
import { RedisStore } from '../../src/store/redis.js';
import { startRedis } from '../helpers/redis.js';
import { captureLogger } from '../helpers/log.js';
import { MemoryMailboxAccess } from '../helpers/mailbox-access.js';
import { selfSignedCert } from '../helpers/tls-cert.js';
import { tmpDir } from '../helpers/tmp.js';
import { storeContract } from '../unit/store-contract.js';

// Started at module level: the server lives as long as this file's tests.
const server = await startRedis();
storeContract('redis store', () => ({ kind: 'redis', url: server.url, keyPrefix: 'mss-test:' }));

// The UserInfo cache of the XOAUTH2 checker, shared between nodes through this Redis
// (src/auth/store-cache.ts, as `serve` wires it): each "node" has its own connection, its
// own checker and its own in-process cache; only Redis is common.
describe('EX_LPS_0900 step 7: the UserInfo cache shared between nodes through Redis', () => {
  const HOLDER = '810000000001';
  const MAILBOX = 'jean.dupond@ch-exemple.mssante.fr';
  const PREFIX = 'mss-auth-test:';
  let psc: SandboxPsc;
  let ca: string;
  let raw: Redis;
  const stores: RedisStore[] = [];

  before(async () => {
    const cert = selfSignedCert(tmpDir());
    ca = cert.cert;
    psc = new SandboxPsc({ tls: cert });
    await psc.start();
    raw = new Redis(server.url);
  });
  after(async () => {
    await Promise.all(stores.map((s) => s.close()));
    raw.disconnect();
    await psc.stop();
  });

  function node() {
    const store = new RedisStore({ url: server.url, keyPrefix: PREFIX });
    stores.push(store);
    const access = new MemoryMailboxAccess().add(MAILBOX, { type: 'PER', holder: HOLDER });
    const cfg = authSection.parse({ psc: { issuer: psc.issuer, caFile: '/nonexistent', audience: psc.clientId } });
    return { access, ...buildChecker(cfg.psc, { access, log: captureLogger().log, ca, sharedCache: new StoreTtlCache(store) }) };
  }
  const attempt = (token: string, service: string) => ({ user: MAILBOX, token, service, mechanism: 'XOAUTH2', remoteIp: '192.0.2.10' });

  test('EX_LPS_0900 step 7: two nodes sharing Redis make one UserInfo call for one token; the key expires no later than the token (exp) and holds no token in clear', async () => {
    const [a, b] = [node(), node()];
    const token = await psc.mint({ idNat: HOLDER, ttlSeconds: 300 });
    const exp = (JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as { exp: number }).exp;
    const callsBefore = psc.counts.userInfo;

    assert.deepEqual(await a.checker.check(attempt(token, 'imap')), { verdict: 'OK', idNat: HOLDER, role: 'holder' });
    assert.deepEqual(await b.checker.check(attempt(token, 'smtp')), { verdict: 'OK', idNat: HOLDER, role: 'holder' });
    assert.deepEqual(await b.checker.check(attempt(token, 'imap')), { verdict: 'OK', idNat: HOLDER, role: 'holder' });
    assert.equal(psc.counts.userInfo - callsBefore, 1, 'one UserInfo call at PSC for both nodes');
    assert.deepEqual([a.userInfo.calls, b.userInfo.calls], [1, 0], 'node B answered from Redis');

    // The entry, named by the token's SHA-256 only.
    const keys = await raw.keys(`${PREFIX}*`);
    assert.deepEqual(keys, [`${PREFIX}cache:psc:userinfo:${tokenHash(token)}`]);
    const key = keys[0] ?? '';
    assert.equal(await raw.get(key), HOLDER);

    // Expiry set, and not later than the token's exp (PTTL read after `now`: now + pttl <= expiry).
    const now = Date.now();
    const pttl = await raw.pttl(key);
    assert.ok(pttl > 0, `the cache key must expire (PTTL ${pttl})`);
    assert.ok(now + pttl <= exp * 1000, `cache entry outlives the token by ${now + pttl - exp * 1000} ms`);
    assert.ok(now + pttl > exp * 1000 - 5000, 'cache entry lasts about as long as the token');

    // Nothing in Redis (any key, any value) holds the token or one of its parts.
    for (const k of await raw.keys('*')) {
      const type = await raw.type(k);
      const values = type === 'string' ? [(await raw.get(k)) ?? ''] : type === 'hash' ? Object.entries(await raw.hgetall(k)).flat() : [];
      for (const text of [k, ...values]) for (const segment of token.split('.')) assert.ok(!text.includes(segment), `token part found in Redis at ${k}`);
    }
  });

  test('EX_LPS_0900 step 7: a token about to expire is cached no longer than it lives', async () => {
    const a = node();
    const token = await psc.mint({ idNat: HOLDER, ttlSeconds: 3 });
    const exp = (JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as { exp: number }).exp;
    assert.equal((await a.checker.check(attempt(token, 'imap'))).verdict, 'OK');
    const key = `${PREFIX}cache:psc:userinfo:${tokenHash(token)}`;
    const now = Date.now();
    const pttl = await raw.pttl(key);
    // A token with under a second to live may not be cached at all (-2); otherwise it expires by exp.
    assert.ok(pttl === -2 || (pttl > 0 && now + pttl <= exp * 1000), `PTTL ${pttl} outlives exp ${exp}`);
  });
});

// Several writers of one journal in one Redis (a retry after a lost answer, the daemon's
// spool replayed twice, two nodes of one operator): each event is counted once.
test('EX_PSU_5830: a journal event written twice with its id (retry, replay, two nodes) is stored once; pruning a day removes its ids too', async () => {
  const prefix = 'mss-ids-test:';
  const [nodeA, nodeB] = [new RedisStore({ url: server.url, keyPrefix: prefix }), new RedisStore({ url: server.url, keyPrefix: prefix })];
  const raw = new Redis(server.url);
  try {
    const at = Date.UTC(2026, 0, 10, 12);
    const rec = (i: number) => ({ at: at + i, data: JSON.stringify({ type: 'received', mailId: `Q${i}` }), id: `00000000-0000-4000-8000-00000000000${i}` });
    await nodeA.journalAppend([rec(1), rec(2)]);
    await nodeA.journalAppend([rec(2)]); // a retry after a lost answer
    await nodeB.journalAppend([rec(1), rec(2), rec(3)]); // the spool of another node replayed
    await nodeB.journalAppend([{ at: at + 9, data: '{"type":"received","mailId":"no-id"}' }]); // no id: appended as before
    const seen: string[] = [];
    for await (const r of nodeA.journalRead(at, at + 60_000)) seen.push(JSON.parse(r.data).mailId);
    assert.deepEqual(seen, ['Q1', 'Q2', 'Q3', 'no-id']);
    assert.equal(await raw.scard(`${prefix}journal:2026-01-10:ids`), 3);
    assert.equal(await nodeA.journalPrune(Date.UTC(2026, 0, 12)), 1, 'one day pruned');
    assert.deepEqual(await raw.keys(`${prefix}journal:*`), [], 'the stream and its ids are gone');
  } finally {
    raw.disconnect();
    await Promise.all([nodeA.close(), nodeB.close()]);
  }
});

test('EX_PSU_5830: each serve worker spools in its own directory; worker 1 replays the spool a worker that no longer runs left (serve.workers lowered)', async () => {
  const { parseConfigText } = await import('../../src/config/load.js');
  const { SharedResources } = await import('../../src/daemon/shared.js');
  const { Spool, readNodeStats, spoolRoot } = await import('../../src/store/spool.js');
  const { silentLogger } = await import('../../src/log.js');
  const dir = tmpDir();
  const config = parseConfigText(
    `operator: { name: A, domains: [a.mssante.fr], structureId: "1130000001", certificate: c.pem, key: k.pem }
trust: { dir: t }
state: { dir: ${dir}/state, redis: { url: "${server.url}", keyPrefix: "mss-workers-test:", replayIntervalMs: 100 } }
serve: { workers: 2 }
`,
    `${dir}/config.yaml`,
  );
  const at = Date.UTC(2026, 0, 12, 9);
  // What a third worker left when serve.workers went from 3 to 2.
  new Spool(`${spoolRoot(config)}/3`, { maxBytes: 1 << 20 }).append([
    { kind: 'journal', records: [{ at, data: '{"type":"received","mailId":"W3"}', id: '00000000-0000-4000-8000-0000000000w3' }] } as never,
  ]);
  assert.equal(readNodeStats(spoolRoot(config)).operations, 1);
  const shared = new SharedResources(config, silentLogger);
  try {
    shared.journal(); // opens this process's spool (worker 1: spool/1) and starts the replays
    assert.ok(fs.existsSync(`${spoolRoot(config)}/1`));
    const deadline = Date.now() + 20_000;
    while (readNodeStats(spoolRoot(config)).operations > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(readNodeStats(spoolRoot(config)).operations, 0, "worker 1 replayed worker 3's spool");
    const seen: string[] = [];
    for await (const r of shared.store().journalRead(at, at + 1)) seen.push(JSON.parse(r.data).mailId);
    assert.deepEqual(seen, ['W3']);
  } finally {
    await shared.close();
  }
});
