// A bounded in-process cache with per-entry expiry. It sits in front of the shared cache
// (Redis when configured) so that a warm login costs no network round trip; it is also the
// whole cache of a node without a shared one.
import type { TtlCache } from './ports.js';

interface Entry {
  value: string;
  expiresAt: number;
}

export class LocalTtlCache implements TtlCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  getSync(key: string): string | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  async get(key: string): Promise<string | undefined> {
    return this.getSync(key);
  }

  setSync(key: string, value: string, ttlSeconds: number): void {
    if (ttlSeconds <= 0) return;
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) this.evict();
    this.entries.set(key, { value, expiresAt: this.now() + ttlSeconds * 1000 });
  }

  async set(key: string, value: string, ttlSeconds: number): Promise<void> {
    this.setSync(key, value, ttlSeconds);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Drop expired entries; if none were, drop the oldest inserted (Map keeps insertion order). */
  private evict(): void {
    const now = this.now();
    for (const [key, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(key);
    if (this.entries.size < this.maxEntries) return;
    const oldest = this.entries.keys().next();
    if (!oldest.done) this.entries.delete(oldest.value);
  }
}
