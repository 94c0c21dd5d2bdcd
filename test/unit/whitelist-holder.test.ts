import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import { isMssError } from '../../src/errors.js';
import { silentLogger } from '../../src/log.js';
import type { TrustStore } from '../../src/pki/truststore.js';
import type { PkiManifest } from '../../sandbox/pki.js';
import { DEFAULT_ANS_SIGNER_SUBJECT } from '../../src/whitelist/config.js';
import { WhitelistHolder } from '../../src/whitelist/holder.js';
import { atomicWriteFileSync } from '../../src/util/atomic-write.js';
import { testPki, trustOf } from '../helpers/pki.js';
import { tmpDir } from '../helpers/tmp.js';
import { sandboxEntries, signedList } from '../helpers/whitelist.js';

let pki: PkiManifest;
let trust: TrustStore;
before(async () => {
  pki = await testPki();
  trust = trustOf(pki);
});

function holderOn(file: string, extra: Partial<ConstructorParameters<typeof WhitelistHolder>[0]> = {}): WhitelistHolder {
  return new WhitelistHolder({ file, policy: { trust, signer: DEFAULT_ANS_SIGNER_SUBJECT, maxBytes: 1_000_000 }, log: silentLogger, pollMs: 0, ...extra });
}

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('RE_2.2_5010: the holder verifies the local copy when it loads it and serves O(1) lookups', () => {
  const file = path.join(tmpDir(), 'whitelist', 'listeblanchemssante.xml');
  const h = holderOn(file, { watch: false });
  h.start();
  assert.equal(h.index, undefined);
  assert.throws(
    () => h.require(),
    (e: unknown) => isMssError(e, 'WL_NOT_AVAILABLE'),
  );
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, signedList(pki));
  assert.equal(h.reload(), true);
  const index = h.require();
  assert.equal(index.dnsOf('ght-sandbox.mssante.fr').length, 2);
  assert.equal(index.domainsOf(pki.operators[0]?.subject ?? '').length, 3);
  assert.equal(h.reload(), false, 'same bytes: nothing to do');
  h.close();
});

test('RE_2.2_5010 EX_2.2_5035: a local copy modified on disk is refused and the list in use is kept', () => {
  const file = path.join(tmpDir(), 'listeblanchemssante.xml');
  fs.writeFileSync(file, signedList(pki));
  const h = holderOn(file, { watch: false });
  h.start();
  const generated = h.require().generated;
  fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('ch-sandbox-a.mssante.fr', 'ch-sandbox-z.mssante.fr'));
  assert.equal(h.reload(), false);
  assert.equal(h.require().generated, generated);
  assert.ok(h.require().hasDomain('ch-sandbox-a.mssante.fr'));
  // A fresh holder (a daemon restart) refuses the modified copy outright: fail closed.
  const fresh = holderOn(file, { watch: false }).start();
  assert.equal(fresh.index, undefined);
  h.close();
  fresh.close();
});

test('EX_2.2_5035: the holder follows atomic replacements of the file and tells its listeners', async () => {
  const file = path.join(tmpDir(), 'listeblanchemssante.xml');
  fs.writeFileSync(file, signedList(pki, { generated: new Date(Date.now() - 60_000) }));
  const h = holderOn(file).start();
  const seen: string[] = [];
  h.onChange((index) => seen.push(index.generated));
  const more = [...sandboxEntries(pki), { domain: 'nouveau.mssante.fr', dn: pki.operators[1]?.subject ?? '', description: 'new' }];
  atomicWriteFileSync(file, signedList(pki, { entries: more }));
  await until(() => h.index?.hasDomain('nouveau.mssante.fr') === true);
  assert.equal(seen.length, 1);
  // A corrupt replacement is refused; the previous list stays.
  atomicWriteFileSync(file, 'garbage');
  await new Promise((r) => setTimeout(r, 300));
  assert.ok(h.require().hasDomain('nouveau.mssante.fr'));
  h.close();
});
