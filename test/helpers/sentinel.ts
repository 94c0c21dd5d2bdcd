// A Redis Sentinel set for a test file, as a GHT runs one for its two nodes: one master,
// one replica, three sentinels (quorum 2), each a foreground child process on a free port,
// stopped by PID when the file ends (processes.ts). Failure detection is fast
// (down-after-milliseconds 1000) so that a failover takes seconds, not the default 30 s.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Redis } from 'ioredis';
import { freePorts } from './ports.js';
import { spawnTracked, type Spawned } from './processes.js';
import { tmpDir } from './tmp.js';

export interface RedisProcess {
  host: string;
  port: number;
  process: Spawned;
}

export interface SentinelSet {
  masterName: string;
  /** Where the servers and sentinels listen (127.0.0.1, or an address a network namespace reaches). */
  host: string;
  servers: RedisProcess[];
  sentinels: RedisProcess[];
  /** For state.redis.sentinels. */
  sentinelAddresses: Array<{ host: string; port: number }>;
  /** host:port of the master, as the sentinels say. */
  master(): Promise<string>;
  /** The server process that is the master now. */
  masterProcess(): Promise<RedisProcess>;
  /** Resolve once the sentinels name another master than `old` and it says it is one; returns it. */
  waitForNewMaster(old: string, timeoutMs?: number): Promise<string>;
  stop(): Promise<void>;
}

const BIN = fs.existsSync('/usr/bin/redis-sentinel') ? 'redis-sentinel' : 'redis-server';

export async function startSentinelSet(opts: { host?: string; masterName?: string; downAfterMs?: number } = {}): Promise<SentinelSet> {
  const host = opts.host ?? '127.0.0.1';
  const masterName = opts.masterName ?? 'mss';
  const dir = tmpDir('mss-sentinel-');
  const [masterPort, replicaPort, ...sentinelPorts] = (await freePorts(5)) as [number, number, number, number, number];
  // --dir: a replica writes the RDB of its full sync there (not into the test's working directory).
  const common = ['--bind', host, '--save', '', '--appendonly', 'no', '--protected-mode', 'no', '--dir', dir];
  const servers: RedisProcess[] = [];
  const sentinels: RedisProcess[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all([...sentinels, ...servers].map((p) => p.process.stop('SIGKILL')));
  };
  try {
    servers.push({ host, port: masterPort, process: spawnTracked('redis-server', ['--port', String(masterPort), ...common]) });
    await listening(servers[0] as RedisProcess);
    servers.push({
      host,
      port: replicaPort,
      process: spawnTracked('redis-server', ['--port', String(replicaPort), ...common, '--replicaof', host, String(masterPort)]),
    });
    await listening(servers[1] as RedisProcess);
    for (const port of sentinelPorts) {
      const conf = path.join(dir, `sentinel-${port}.conf`);
      fs.writeFileSync(
        conf,
        [
          `port ${port}`,
          `bind ${host}`,
          'protected-mode no',
          `dir ${dir}`,
          `sentinel monitor ${masterName} ${host} ${masterPort} 2`,
          `sentinel down-after-milliseconds ${masterName} ${opts.downAfterMs ?? 1000}`,
          `sentinel failover-timeout ${masterName} 10000`,
          `sentinel parallel-syncs ${masterName} 1`,
          '',
        ].join('\n'),
      );
      const p: RedisProcess = { host, port, process: spawnTracked(BIN, BIN === 'redis-server' ? [conf, '--sentinel'] : [conf]) };
      sentinels.push(p);
      await listening(p);
    }
    // Ready when every sentinel knows the replica and the two other sentinels (a failover needs them).
    await until(
      async () => {
        const views = await Promise.all(
          sentinels.map((s) =>
            ask(s, async (c) => [
              (await c.call('SENTINEL', 'replicas', masterName)) as unknown[],
              (await c.call('SENTINEL', 'sentinels', masterName)) as unknown[],
            ]),
          ),
        );
        return views.every((v) => (v?.[0]?.length ?? 0) >= 1 && (v?.[1]?.length ?? 0) >= 2);
      },
      30_000,
      'the sentinels to discover the replica and each other',
    );
  } catch (err) {
    await stop();
    throw err;
  }
  const master = async (): Promise<string> => {
    for (const s of sentinels) {
      const addr = await ask(s, async (c) => (await c.call('SENTINEL', 'get-master-addr-by-name', masterName)) as [string, string] | null);
      if (addr) return `${addr[0]}:${addr[1]}`;
    }
    throw new Error('no sentinel answers');
  };
  return {
    masterName,
    host,
    servers,
    sentinels,
    sentinelAddresses: sentinels.map((s) => ({ host: s.host, port: s.port })),
    master,
    async masterProcess() {
      const addr = await master();
      const found = servers.find((s) => `${s.host}:${s.port}` === addr);
      if (!found) throw new Error(`the master ${addr} is none of this set's servers`);
      return found;
    },
    async waitForNewMaster(old, timeoutMs = 30_000) {
      let now = old;
      await until(
        async () => {
          now = await master().catch(() => old);
          if (now === old) return false;
          const server = servers.find((s) => `${s.host}:${s.port}` === now);
          return server ? (await ask(server, async (c) => String(await c.info('replication')).includes('role:master'))) === true : false;
        },
        timeoutMs,
        `a failover away from ${old}`,
      );
      return now;
    },
    stop,
  };
}

async function listening(p: RedisProcess, timeoutMs = 10_000): Promise<void> {
  await until(
    () =>
      new Promise<boolean>((resolve) => {
        if (p.process.child.exitCode !== null) throw new Error(`${p.port} exited:\n${p.process.output()}`);
        const s = net.connect(p.port, p.host);
        s.once('connect', () => (s.destroy(), resolve(true)));
        s.once('error', () => resolve(false));
      }),
    timeoutMs,
    `redis on ${p.host}:${p.port}`,
  );
}

async function ask<T>(p: RedisProcess, fn: (c: Redis) => Promise<T>): Promise<T | undefined> {
  const c = new Redis({
    host: p.host,
    port: p.port,
    lazyConnect: true,
    connectTimeout: 1000,
    commandTimeout: 2000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  c.on('error', () => undefined);
  try {
    await c.connect();
    return await fn(c);
  } catch {
    return undefined;
  } finally {
    c.disconnect();
  }
}

export async function until(check: () => Promise<boolean> | boolean, timeoutMs: number, what: string, everyMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
