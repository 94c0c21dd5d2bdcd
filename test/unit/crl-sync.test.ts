// EX_OPE_5050: `crl sync` downloads full and delta CRLs (http or https), verifies and stores
// them atomically, refuses an older one and a forged one; delta CRLs apply to their base;
// the gates' holder reloads new files and says loudly when a CA has no current CRL.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { stringify } from 'yaml';
import { createLogger } from '../../src/log.js';
import { certInfo } from '../../src/pki/certificate.js';
import { RevocationStore } from '../../src/pki/crl.js';
import { crlFileName, syncCrls } from '../../src/pki/crl-sync.js';
import { RevocationHolder } from '../../src/pki/revocation-holder.js';
import { createCrl, type PkiManifest } from '../../sandbox/pki.js';
import { generateRsaKey, issueCertificate } from '../../sandbox/cert-factory.js';
import { REPO_ROOT, runCliAsync } from '../helpers/cli.js';
import { intermediateIssuer, testPki, trustOf } from '../helpers/pki.js';
import { tmpDir } from '../helpers/tmp.js';

const log = createLogger({ level: 'silent', pretty: false });
const DAY = 86_400_000;
let pki: PkiManifest;
let server: http.Server;
let base = '';
const files = new Map<string, Buffer>();

before(async () => {
  pki = await testPki();
  server = http.createServer((req, res) => {
    const body = files.get(req.url ?? '');
    if (!body) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/pkix-crl' }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
after(() => new Promise<void>((r) => server.close(() => r())));

const inter = () => intermediateIssuer(pki);

test('EX_OPE_5050: crl sync stores verified full and delta CRLs over http, atomically, and reports unchanged ones', async () => {
  const now = new Date();
  files.set('/full.crl', await createCrl(inter(), [], now, { number: 10 }));
  files.set('/delta.crl', await createCrl(inter(), [], now, { number: 11, deltaOf: 10 }));
  const dir = tmpDir();
  const urls = [`${base}/full.crl`, `${base}/delta.crl`];
  const first = await syncCrls({ urls, dir, trust: trustOf(pki), timeoutMs: 5000, maxBytes: 1_000_000, log });
  assert.deepEqual(
    first.map((i) => i.outcome),
    ['updated', 'updated'],
  );
  assert.equal(first[1]?.outcome !== 'failed' && first[1]?.delta, true);
  assert.ok(fs.existsSync(path.join(dir, crlFileName(urls[0] as string))));
  const again = await syncCrls({ urls, dir, trust: trustOf(pki), timeoutMs: 5000, maxBytes: 1_000_000, log });
  assert.deepEqual(
    again.map((i) => i.outcome),
    ['unchanged', 'unchanged'],
  );
});

test('EX_OPE_5050: an older CRL (a replay) and a CRL signed by another key are refused; the stored one stays', async () => {
  const dir = tmpDir();
  const now = new Date();
  files.set('/roll.crl', await createCrl(inter(), [], now, { thisUpdate: new Date(now.getTime() - 1000), number: 5 }));
  assert.equal((await syncCrls({ urls: [`${base}/roll.crl`], dir, trust: trustOf(pki), timeoutMs: 5000, maxBytes: 1_000_000, log }))[0]?.outcome, 'updated');
  const stored = fs.readFileSync(path.join(dir, crlFileName(`${base}/roll.crl`)));
  files.set('/roll.crl', await createCrl(inter(), [], now, { thisUpdate: new Date(now.getTime() - DAY), number: 4 }));
  const replay = (await syncCrls({ urls: [`${base}/roll.crl`], dir, trust: trustOf(pki), timeoutMs: 5000, maxBytes: 1_000_000, log }))[0];
  assert.equal(replay?.outcome === 'failed' && replay.error.code, 'CRL_ROLLBACK');
  const forger = issueCertificate({
    subject: [
      ['C', 'FR'],
      ['O', 'ASIP-SANTE'],
      ['OU', '0002 187512751'],
      ['OU', 'IGC-SANTE SANDBOX'],
      ['CN', 'SANDBOX AC IGC-SANTE ELEMENTAIRE ORGANISATIONS'],
    ],
    keyPair: await generateRsaKey(),
    notBefore: new Date(now.getTime() - DAY),
    notAfter: new Date(now.getTime() + DAY),
    ca: {},
    keyUsage: ['keyCertSign', 'cRLSign'],
  });
  files.set('/roll.crl', await createCrl(forger, [], now, { number: 99 }));
  const forged = (await syncCrls({ urls: [`${base}/roll.crl`], dir, trust: trustOf(pki), timeoutMs: 5000, maxBytes: 1_000_000, log }))[0];
  assert.equal(forged?.outcome === 'failed' && forged.error.code, 'CRL_SIGNATURE_INVALID');
  assert.ok(fs.readFileSync(path.join(dir, crlFileName(`${base}/roll.crl`))).equals(stored));
});

test('EX_OPE_5050 delta CRLs: a delta revokes on top of its base, removeFromCRL releases a hold, and a delta for a newer base is ignored', async () => {
  const now = new Date();
  const trust = trustOf(pki);
  const revoked = certInfo(fs.readFileSync(pki.revoked.cert));
  const rogue = certInfo(fs.readFileSync(pki.rogue.cert));
  const issuer = trust.issuersOf(rogue)[0];
  assert.ok(issuer);
  const store = new RevocationStore(trust);
  await store.add(await createCrl(inter(), [revoked.serial], now, { number: 20 }), 'base');
  assert.equal(store.status(rogue, issuer, now), 'good');
  await store.add(await createCrl(inter(), [rogue.serial], now, { number: 21, deltaOf: 20, removed: [revoked.serial] }), 'delta');
  assert.equal(store.status(rogue, issuer, now), 'revoked', 'revoked by the delta');
  assert.equal(store.status(revoked, issuer, now), 'good', 'released by removeFromCRL');
  const other = new RevocationStore(trust);
  await other.add(await createCrl(inter(), [], now, { number: 20 }), 'base');
  await other.add(await createCrl(inter(), [rogue.serial], now, { number: 31, deltaOf: 30 }), 'delta for base 30');
  assert.equal(other.status(rogue, issuer, now), 'good', 'a delta whose base is newer than ours does not apply');
  // A base past nextUpdate is still current with a fresh delta that applies to it.
  const late = new RevocationStore(trust);
  await late.add(
    await createCrl(inter(), [], now, { thisUpdate: new Date(now.getTime() - 3 * DAY), nextUpdate: new Date(now.getTime() - DAY), number: 40 }),
    'old base',
  );
  assert.equal(late.status(rogue, issuer, now), 'unknown');
  await late.add(await createCrl(inter(), [], now, { number: 41, deltaOf: 40 }), 'fresh delta');
  assert.equal(late.status(rogue, issuer, now), 'good');
});

test('EX_OPE_5050: the gates reload a CRL directory when a file changes, and report a CA without current CRL loudly', async () => {
  const dir = tmpDir();
  const lines: string[] = [];
  const { pino } = await import('pino');
  const loud = pino({ level: 'info' }, { write: (l: string) => lines.push(l) });
  const holder = await RevocationHolder.open({ trust: trustOf(pki), dir, requireCurrent: true, log: loud, pollMs: 50 });
  try {
    assert.ok(
      lines.some((l) => /"code":"CRL_MISSING"/.test(l) && /REFUSED/.test(l)),
      lines.join('\n'),
    );
    const generation = holder.generation;
    fs.copyFileSync(pki.crls.intermediate, path.join(dir, 'inter.crl'));
    const deadline = Date.now() + 5000;
    while (holder.generation === generation && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    assert.ok(holder.generation > generation, 'reloaded');
    const revoked = certInfo(fs.readFileSync(pki.revoked.cert));
    assert.ok(holder.current.isRevoked(revoked));
  } finally {
    holder.close();
  }
});

test('EX_OPE_5050: `crl sync` from the CLI exits 0 when stored, 3 when a server is unreachable, 1 when a CRL is refused; the timer runs it daily', async () => {
  const dir = tmpDir();
  const now = new Date();
  files.set('/cli.crl', await createCrl(inter(), [], now, { number: 1 }));
  const write = (urls: string[]): string => {
    const file = path.join(dir, `config-${urls.length}-${Math.random()}.yaml`);
    fs.writeFileSync(
      file,
      stringify({
        operator: {
          name: 'CH',
          domains: ['ch-sandbox-a.mssante.fr'],
          structureId: '1130099991',
          certificate: pki.operators[0]?.cert,
          key: pki.operators[0]?.key,
        },
        trust: { dir: pki.trustDir, crlDir: path.join(dir, 'crl') },
        state: { dir: path.join(dir, 'state') },
        crl: { urls, timeoutMs: 3000 },
      }),
    );
    return file;
  };
  const ok = await runCliAsync(['--config', write([`${base}/cli.crl`]), 'crl', 'sync', '--json']);
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(JSON.parse(ok.stdout)[0].outcome, 'updated');
  const down = await runCliAsync(['--config', write(['http://127.0.0.1:1/x.crl']), 'crl', 'sync']);
  assert.equal(down.status, 3, down.stdout + down.stderr);
  files.set('/junk.crl', Buffer.from('not a crl'));
  const junk = await runCliAsync(['--config', write([`${base}/junk.crl`]), 'crl', 'sync']);
  assert.equal(junk.status, 1, junk.stdout);
  assert.match(junk.stdout, /CRL_MALFORMED/);
  const timer = fs.readFileSync(path.join(REPO_ROOT, 'systemd', 'mss-sidecar-crl-sync.timer'), 'utf8');
  assert.match(timer, /^OnCalendar=daily$/m);
  assert.match(timer, /^Persistent=true$/m);
});
