// The cluster part of `serve` (with state.redis only): first, before the other services
// read the registry, agree with the cluster's registry (registry-sync.ts); then, every
// cluster.registrySyncMs, send this node's registry changes or take the others' (and reload
// at once), and every cluster.heartbeatMs say this node is alive, with its spool and its
// registry version (members.ts). On SIGTERM it says it stopped, with what its spool holds.
import type { Config } from '../config/schema.js';
import type { Service, ServiceFactory } from '../daemon/service.js';
import type { SharedResources } from '../daemon/shared.js';
import type { Logger } from '../log.js';
import { RedisStore } from '../store/redis.js';
import { readOtherWorkersStats, spoolRoot } from '../store/spool.js';
import { workerIndex } from '../daemon/worker-index.js';
import { softwareVersion } from '../version.js';
import { nodeName } from './identity.js';
import { beat, stopped, type NodeHeartbeat } from './members.js';
import type { RegistrySync, SyncState } from './registry-sync.js';

export class ClusterService implements Service {
  readonly name = 'cluster';
  private readonly node: string;
  private readonly startedAt = new Date().toISOString();
  private timers: NodeJS.Timeout[] = [];
  private lastSync: SyncState | undefined;
  private syncing: Promise<void> | undefined;

  constructor(
    private readonly config: Config,
    private readonly log: Logger,
    private readonly shared: SharedResources,
    private readonly sync: RegistrySync,
  ) {
    this.node = nodeName(config.cluster);
  }

  async start(): Promise<void> {
    // Before anything reads the registry: a node starting with an old file takes the
    // cluster's (or sends its own if it is the newer); Redis down: it starts with its file.
    await this.syncOnce();
    // The registry the services share, opened now (they would open it next): a change taken
    // from another node is then reloaded at once, and the reload is logged.
    await this.shared.registry();
    await this.heartbeat();
    const every = (ms: number, fn: () => Promise<void>): void => {
      const t = setInterval(() => void fn(), ms);
      t.unref();
      this.timers.push(t);
    };
    every(this.config.cluster.registrySyncMs, () => this.syncOnce());
    every(this.config.cluster.heartbeatMs, () => this.heartbeat());
  }

  /** The last registry sync (status, tests). */
  get registryState(): SyncState | undefined {
    return this.lastSync;
  }

  syncOnce(): Promise<void> {
    this.syncing ??= (async () => {
      try {
        const s = await this.sync.sync();
        this.lastSync = s;
        // Another node's change is on disk: use it now rather than at the next file event.
        if (s.outcome === 'taken') await (await this.shared.registry()).reload();
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, 'registry sync with the cluster failed; next time');
      }
    })().finally(() => (this.syncing = undefined));
    return this.syncing;
  }

  /** What waits in this node's spools: this worker's (in memory), and the other serve workers' (on disk). */
  private nodeSpool(): { operations: number; oldest?: string } {
    const own = this.shared.spool()?.snapshot();
    const others = readOtherWorkersStats(spoolRoot(this.config), workerIndex());
    const oldest = [own?.oldest, others.oldest].filter((o): o is string => o !== undefined).sort()[0];
    return { operations: (own?.operations ?? 0) + others.operations, ...(oldest ? { oldest } : {}) };
  }

  private heartbeatRecord(): NodeHeartbeat {
    const spool = this.nodeSpool();
    const store = this.shared.store();
    const stream = store instanceof RedisStore ? (store.client.stream as { remoteAddress?: string; remotePort?: number } | undefined) : undefined;
    return {
      node: this.node,
      pid: process.pid,
      version: softwareVersion(),
      startedAt: this.startedAt,
      seenAt: new Date().toISOString(),
      spool: { operations: spool?.operations ?? 0, ...(spool?.oldest ? { oldest: spool.oldest } : {}) },
      ...(this.lastSync ? { registry: { hash: this.lastSync.local, sync: this.lastSync.outcome } } : {}),
      ...(stream?.remoteAddress ? { redis: `${stream.remoteAddress}:${stream.remotePort}` } : {}),
    };
  }

  private async heartbeat(): Promise<void> {
    try {
      await beat(this.shared.store(), this.heartbeatRecord(), this.config.cluster.heartbeatMs);
    } catch {
      /* Redis down: the others see this node's heartbeat expire; the spool check says why */
    }
  }

  async stop(): Promise<void> {
    for (const t of this.timers.splice(0)) clearInterval(t);
    await this.syncing;
    const spool = this.nodeSpool();
    await stopped(this.shared.store(), this.node, { operations: spool?.operations ?? 0, ...(spool?.oldest ? { oldest: spool.oldest } : {}) }).catch(
      (err: unknown) =>
        this.log.warn({ err: (err as Error).message }, 'could not tell the cluster this node stopped; it will look dead until it is back or forgotten'),
    );
  }
}

export const clusterServiceFactory: ServiceFactory = {
  name: 'cluster',
  create(config: Config, log: Logger, shared: SharedResources) {
    const sync = shared.registrySync();
    return sync ? new ClusterService(config, log, shared, sync) : undefined;
  },
};
