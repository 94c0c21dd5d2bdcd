// Run-time facts about mailboxes, kept in the state store (never in the YAML the IT team
// versions): last login (Connexions statistics, inactivity), last exchange (APP BALs,
// RE_SSU_5800), and depublication for inactivity (EX_GBM_4440). One store hash per BAL,
// `bal:<address>`, with ISO 8601 UTC values.
import type { StateStore } from '../store/store.js';

export interface BalRuntime {
  lastLogin?: Date;
  /** Identity of the last login (IdNat or structure of an application certificate). */
  lastLoginBy?: string;
  lastExchange?: Date;
  /** Set by the lifecycle job: published with ListeRouge=O for inactivity (EX_GBM_4440). */
  depublishedAt?: Date;
}

const key = (address: string): string => `bal:${address.toLowerCase()}`;

function toRuntime(h: Record<string, string>): BalRuntime {
  const r: BalRuntime = {};
  if (h.lastLogin) r.lastLogin = new Date(h.lastLogin);
  if (h.lastLoginBy) r.lastLoginBy = h.lastLoginBy;
  if (h.lastExchange) r.lastExchange = new Date(h.lastExchange);
  if (h.depublishedAt) r.depublishedAt = new Date(h.depublishedAt);
  return r;
}

export class RuntimeFields {
  constructor(private readonly store: StateStore) {}

  async get(address: string): Promise<BalRuntime> {
    return toRuntime(await this.store.hgetall(key(address)));
  }

  /** For many BALs at once (statistics, lifecycle), in the order given. */
  async getMany(addresses: readonly string[], batch = 1000): Promise<BalRuntime[]> {
    const out: BalRuntime[] = [];
    for (let i = 0; i < addresses.length; i += batch) {
      const hashes = await this.store.hgetallMany(addresses.slice(i, i + batch).map(key));
      for (const h of hashes) out.push(toRuntime(h));
    }
    return out;
  }

  /** Record a login; an older date than the one stored (events out of order) is ignored. */
  async setLastLogin(address: string, at: Date, by?: string): Promise<void> {
    const current = await this.store.hget(key(address), 'lastLogin');
    if (current && Date.parse(current) >= at.getTime()) return;
    await this.store.hset(key(address), { lastLogin: at.toISOString(), ...(by ? { lastLoginBy: by } : {}) });
  }

  async setLastExchange(address: string, at: Date): Promise<void> {
    const current = await this.store.hget(key(address), 'lastExchange');
    if (current && Date.parse(current) >= at.getTime()) return;
    await this.store.hset(key(address), { lastExchange: at.toISOString() });
  }

  async setDepublished(address: string, at: Date | undefined): Promise<void> {
    if (at) await this.store.hset(key(address), { depublishedAt: at.toISOString() });
    else await this.store.hdel(key(address), ['depublishedAt']);
  }
}
