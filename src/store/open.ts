// Choose the backend from the configuration: Redis when state.redis is set (several nodes:
// one server, or Redis Sentinel), otherwise files under state.dir/store (one node, nothing
// to run).
import path from 'node:path';
import type { Config } from '../config/schema.js';
import { EmbeddedStore } from './embedded.js';
import { RedisStore } from './redis.js';
import { redisTarget } from './redis-connection.js';
import type { StateStore } from './store.js';

export function openStore(state: Config['state']): StateStore {
  const redis = state.redis;
  if (redis) return new RedisStore({ ...redisTarget(redis), keyPrefix: redis.keyPrefix, waitReplicas: redis.waitReplicas, waitTimeoutMs: redis.waitTimeoutMs });
  return new EmbeddedStore(embeddedStoreDir(state));
}

/** Where the embedded store keeps its files (and the inbound gate its digest log, gate/inbound/digest-log.ts). */
export function embeddedStoreDir(state: Config['state']): string {
  return path.join(state.dir, 'store');
}
