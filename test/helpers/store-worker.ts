// Child process for the store contract suite: opens the store described in argv[2] (JSON)
// and runs argv[3] increments of key argv[4], so that several processes race on one key.
import { EmbeddedStore } from '../../src/store/embedded.js';
import { RedisStore } from '../../src/store/redis.js';
import type { StateStore } from '../../src/store/store.js';

export type StoreSpec = { kind: 'embedded'; dir: string } | { kind: 'redis'; url: string; keyPrefix: string };

export function openSpec(spec: StoreSpec): StateStore {
  return spec.kind === 'embedded' ? new EmbeddedStore(spec.dir) : new RedisStore({ url: spec.url, keyPrefix: spec.keyPrefix });
}

const [, , specJson, countText, key, mode] = process.argv;
if (specJson && countText && key) {
  const store = openSpec(JSON.parse(specJson) as StoreSpec);
  const n = Number(countText);
  for (let i = 0; i < n; i++) {
    if (mode === 'journal') await store.journalAppend([{ at: Date.UTC(2025, 0, 1, 12) + i, data: JSON.stringify({ pid: process.pid, i }) }]);
    else await store.incr(key);
  }
  await store.close();
}
