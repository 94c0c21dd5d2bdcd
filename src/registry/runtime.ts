// Run-time facts about mailboxes, kept in the state store (never in the YAML the IT team
// versions): last login (Connexions statistics, inactivity), last exchange (APP BALs,
// RE_SSU_5800), and depublication for inactivity (EX_GBM_4440). One store hash per BAL,
// `bal:<address>`, with ISO 8601 UTC values.
import type { StateStore } from '../store/store.js';
import { historyOf, historyUpdate, type LoginHistory } from './login-history.js';

export interface BalRuntime {
  lastLogin?: Date;
  /** Identity of the last login (IdNat or structure of an application certificate). */
  lastLoginBy?: string;
  lastExchange?: Date;
  /** Set by the lifecycle job: published with ListeRouge=O for inactivity (EX_GBM_4440). */
  depublishedAt?: Date;
  /** The latest login of each recent month (login-history.ts). */
  logins?: LoginHistory;
}

const key = (address: string): string => `bal:${address.toLowerCase()}`;
const LOGINS_SINCE_KEY = 'activity:logins-recorded-since';

function toRuntime(h: Record<string, string>): BalRuntime {
  const r: BalRuntime = {};
  if (h.lastLogin) r.lastLogin = new Date(h.lastLogin);
  if (h.lastLoginBy) r.lastLoginBy = h.lastLoginBy;
  if (h.lastExchange) r.lastExchange = new Date(h.lastExchange);
  if (h.depublishedAt) r.depublishedAt = new Date(h.depublishedAt);
  const logins = historyOf(h);
  if (logins.months.size > 0) r.logins = logins;
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

  /**
   * Record a login; an older date than the one stored (events out of order) is ignored.
   * With `timeZone` (operator.timeZone), also the month's latest login of the per-month
   * history the Connexions statistics read (login-history.ts, EX_PSU_5840).
   */
  async setLastLogin(address: string, at: Date, by?: string, timeZone?: string): Promise<void> {
    const h = await this.store.hgetall(key(address));
    const newer = !h.lastLogin || Date.parse(h.lastLogin) < at.getTime();
    const history = timeZone ? historyUpdate(h, at, timeZone) : { set: {}, del: [] };
    const fields = { ...history.set, ...(newer ? { lastLogin: at.toISOString(), ...(by ? { lastLoginBy: by } : {}) } : {}) };
    if (Object.keys(fields).length > 0) await this.store.hset(key(address), fields);
    if (history.del.length > 0) await this.store.hdel(key(address), history.del);
  }

  /**
   * EX_SSU_5800: the day (YYYY-MM-DD) logins started being recorded on this installation,
   * set once by the first service that records them. A mailbox created before it with no
   * recorded login has an unknown last connection (migrated mailboxes), not "never".
   */
  async markLoginsRecordedSince(day: string): Promise<void> {
    await this.store.set(LOGINS_SINCE_KEY, day, { ifAbsent: true });
  }

  async loginsRecordedSince(): Promise<string | undefined> {
    return this.store.get(LOGINS_SINCE_KEY);
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
