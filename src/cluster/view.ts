// The cluster as one node sees it, for `status`, `cluster status` and /health: the nodes
// (alive, or last seen), the leases and their holders, the Redis server written to (its
// role, its replicas) and what each sentinel names as the master, and this node's registry
// against the cluster's.
import type { Config } from '../config/schema.js';
import { redisTarget } from '../store/redis-connection.js';
import { loadIoredis, RedisStore, type RedisReplication } from '../store/redis.js';
import type { LeaseState, StateStore } from '../store/store.js';
import { nodeName } from './identity.js';
import { members, type MemberView } from './members.js';
import { RegistrySync, type SyncState } from './registry-sync.js';

export interface SentinelView {
  address: string;
  /** host:port it names as master, or why it did not answer. */
  master?: string;
  error?: string;
}

export interface ClusterView {
  node: string;
  members: MemberView[];
  leases: LeaseState[];
  redis?: RedisReplication;
  sentinels: SentinelView[];
  registry?: SyncState;
  errors: string[];
}

export async function clusterView(config: Config, store: StateStore): Promise<ClusterView> {
  const errors: string[] = [];
  const attempt = async <T>(what: string, fn: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await fn();
    } catch (err) {
      errors.push(`${what}: ${(err as Error).message}`);
      return undefined;
    }
  };
  const [m, leases, redis, sentinels, registry] = await Promise.all([
    attempt('nodes', () => members(store)),
    attempt('leases', () => store.leases()),
    store instanceof RedisStore ? attempt('redis', () => store.replication()) : Promise.resolve(undefined),
    askSentinels(config),
    attempt('registry', () => new RegistrySync(store, config.registry.file, config.state.dir).state()),
  ]);
  return {
    node: nodeName(config.cluster),
    members: m ?? [],
    leases: leases ?? [],
    ...(redis ? { redis } : {}),
    sentinels,
    ...(registry ? { registry } : {}),
    errors,
  };
}

/** Each sentinel's answer to "who is the master of masterName" (a short connection each). */
export async function askSentinels(config: Config): Promise<SentinelView[]> {
  const r = config.state.redis;
  if (!r?.sentinels || !r.masterName) return [];
  const opts = redisTarget(r).options ?? {};
  return Promise.all(
    r.sentinels.map(async (s) => {
      const address = `${s.host}:${s.port}`;
      // ioredis loaded only here (store/redis.ts says why).
      const RedisClient = loadIoredis();
      const c = new RedisClient({
        host: s.host,
        port: s.port,
        ...(opts.sentinelUsername ? { username: opts.sentinelUsername } : {}),
        ...(opts.sentinelPassword ? { password: opts.sentinelPassword } : {}),
        ...(opts.sentinelTLS ? { tls: opts.sentinelTLS } : {}),
        lazyConnect: true,
        connectTimeout: 1500,
        commandTimeout: 1500,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      });
      c.on('error', () => undefined);
      try {
        await c.connect();
        const addr = (await c.call('SENTINEL', 'get-master-addr-by-name', r.masterName as string)) as [string, string] | null;
        return addr ? { address, master: `${addr[0]}:${addr[1]}` } : { address, error: `does not monitor "${r.masterName}"` };
      } catch (err) {
        return { address, error: (err as Error).message };
      } finally {
        c.disconnect();
      }
    }),
  );
}
