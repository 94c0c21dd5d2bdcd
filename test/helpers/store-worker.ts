// Child process for the store contract suite: opens the store described in argv[2] (JSON)
// and runs argv[3] increments of key argv[4], so that several processes race on one key
// (or appends journal records, or tries once to take lease argv[4]).
import { EmbeddedStore } from '../../src/store/embedded.js';
import { RedisStore } from '../../src/store/redis.js';
import type { StateStore } from '../../src/store/store.js';

export type StoreSpec =
  | { kind: 'embedded'; dir: string }
  | { kind: 'redis'; url: string; keyPrefix: string }
  | { kind: 'redis-sentinel'; sentinels: Array<{ host: string; port: number }>; masterName: string; keyPrefix: string };

export function openSpec(spec: StoreSpec): StateStore {
  if (spec.kind === 'embedded') return new EmbeddedStore(spec.dir);
  if (spec.kind === 'redis') return new RedisStore({ url: spec.url, keyPrefix: spec.keyPrefix });
  return new RedisStore({ options: { sentinels: spec.sentinels, name: spec.masterName }, keyPrefix: spec.keyPrefix, waitReplicas: 1 });
}

const [, , specJson, countText, key, mode] = process.argv;
if (specJson && countText && key) {
  const store = openSpec(JSON.parse(specJson) as StoreSpec);
  const n = Number(countText);
  for (let i = 0; i < n; i++) {
    if (mode === 'lease') {
      const got = await store.leaseAcquire(key, `worker/${process.pid}`, 60_000);
      if (got.acquired) await store.fencedWrite({ name: key, token: got.token }, { op: 'incr', key: `count:lease-${key}` });
    } else if (mode === 'journal') await store.journalAppend([{ at: Date.UTC(2025, 0, 1, 12) + i, data: JSON.stringify({ pid: process.pid, i }) }]);
    else await store.incr(key);
  }
  await store.close();
}
