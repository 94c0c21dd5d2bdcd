// Choose the backend from the configuration: Redis when state.redis is set (several nodes),
// otherwise files under state.dir/store (one node, nothing to run).
import path from 'node:path';
import type { Config } from '../config/schema.js';
import { EmbeddedStore } from './embedded.js';
import { RedisStore } from './redis.js';
import type { StateStore } from './store.js';

export function openStore(state: Config['state']): StateStore {
  if (state.redis) return new RedisStore({ url: state.redis.url, keyPrefix: state.redis.keyPrefix });
  return new EmbeddedStore(path.join(state.dir, 'store'));
}
