// The shared UserInfo cache on the state store (Redis when several nodes share it): keys
// under `cache:`, expiring with the token (docs/registry.md, "State store").
import type { StateStore } from '../store/store.js';
import type { TtlCache } from './ports.js';

export class StoreTtlCache implements TtlCache {
  constructor(private readonly store: Pick<StateStore, 'get' | 'set'>) {}

  get(key: string): Promise<string | undefined> {
    return this.store.get(`cache:${key}`);
  }

  async set(key: string, value: string, ttlSeconds: number): Promise<void> {
    if (ttlSeconds > 0) await this.store.set(`cache:${key}`, value, { ttlMs: ttlSeconds * 1000 });
  }
}
