// How to reach Redis, from state.redis: one server (`url`), or the master of `masterName`
// as Redis Sentinel names it (`sentinels`), with ioredis' Sentinel support: it asks the
// sentinels for the master, checks the server it reached says it is one (ROLE), follows a
// failover (the sentinels' +switch-master, and any reconnection asks them again). Passwords
// are read from files (never in the configuration, never logged); TLS covers the servers
// and the sentinels alike.
import fs from 'node:fs';
import type { RedisOptions } from 'ioredis';
import type { z } from 'zod';
import type { redisSection } from '../config/core-sections.js';
import { MssError } from '../errors.js';

export type RedisConfig = z.output<typeof redisSection>;

/** What RedisStore connects with: a URL, or ioredis options (Sentinel). */
export interface RedisTarget {
  url?: string;
  options?: RedisOptions;
}

function secret(file: string, key: string): string {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new MssError('CONFIG_FILE_UNREADABLE', `state.redis.${key}: cannot read ${file}: ${(err as Error).message}`, { file });
  }
  const value = text.replace(/\r?\n$/, '');
  if (value === '') throw new MssError('CONFIG_FILE_EMPTY', `state.redis.${key}: ${file} is empty`, { file });
  return value;
}

export function redisTarget(r: RedisConfig): RedisTarget {
  const tls = r.tls
    ? {
        ca: fs.readFileSync(r.tls.caFile),
        ...(r.tls.certFile && r.tls.keyFile ? { cert: fs.readFileSync(r.tls.certFile), key: fs.readFileSync(r.tls.keyFile) } : {}),
        ...(r.tls.servername ? { servername: r.tls.servername } : {}),
      }
    : undefined;
  const auth = { ...(r.username ? { username: r.username } : {}), ...(r.passwordFile ? { password: secret(r.passwordFile, 'passwordFile') } : {}) };
  if (r.url) return { url: r.url, options: { ...auth, ...(tls ? { tls } : {}) } };
  return {
    options: {
      sentinels: (r.sentinels ?? []).map((s) => ({ host: s.host, port: s.port })),
      name: r.masterName as string,
      role: 'master',
      db: r.db,
      ...auth,
      ...(r.sentinelUsername ? { sentinelUsername: r.sentinelUsername } : {}),
      ...(r.sentinelPasswordFile ? { sentinelPassword: secret(r.sentinelPasswordFile, 'sentinelPasswordFile') } : {}),
      ...(tls ? { tls, sentinelTLS: tls, enableTLSForSentinelMode: true } : {}),
      // Subscribe to the sentinels' +switch-master: a failover is followed at once rather
      // than when a command to the old master fails.
      failoverDetector: true,
      // Ask the sentinels again soon after they all failed to answer (not ioredis' 10 s).
      sentinelRetryStrategy: (times: number) => Math.min(times * 200, 1000),
    },
  };
}

/** Where the store connects, for logs and `status` (no password). */
export function describeRedis(r: RedisConfig): string {
  if (r.url) return `Redis ${r.url.replace(/\/\/[^@/]*@/, '//***@')}`;
  return `Redis Sentinel master "${r.masterName}" via ${(r.sentinels ?? []).map((s) => `${s.host}:${s.port}`).join(', ')}`;
}
