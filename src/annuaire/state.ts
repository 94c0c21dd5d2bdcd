// What TM1.1.1P remembers between runs, in the state store (shared by the nodes when it is
// Redis, so two nodes' timers never publish twice): the last publication (date, feed
// digest, ticket), and every ticket with the certificate it was obtained with, until its
// report is processed (EX_1.1.1_5020, EX_1.1.1_5030). Reports themselves are files under
// state.dir/annuaire/reports.
import path from 'node:path';
import { MssError } from '../errors.js';
import { describeHolder, withLease } from '../cluster/lease.js';
import type { LeaseState, StateStore } from '../store/store.js';

export interface LastPublication {
  at: string;
  sha256: string;
  ticket: string;
  domains: string[];
}

export type TicketStatus = 'pending' | 'done' | 'lost';

export interface TicketRecord {
  ticket: string;
  /** ISO time the Annuaire acknowledged the feed. */
  sentAt: string;
  kind: 'feed' | 'withdraw';
  domains: string[];
  records: number;
  sha256: string;
  domainDigests: Record<string, string>;
  messageId: string;
  /** The certificate used: the report must be fetched with the same one (EX_1.1.1_5020). */
  certFingerprint: string;
  dn: string;
  status: TicketStatus;
  attempts: number;
  lastAttempt?: string;
  lastOutcome?: string;
  /** Once done: where the report is, and its summary. */
  reportJson?: string;
  summary?: { blocking: number; warnings: number; corrections: number };
}

const LAST = 'annuaire:last';
const WITHDRAWN = 'annuaire:withdrawn';
const TICKET = 'annuaire-ticket:';
export const ANNUAIRE_LEASE = 'annuaire';

export class AnnuaireState {
  constructor(readonly store: StateStore) {}

  async last(): Promise<LastPublication | undefined> {
    const v = await this.store.get(LAST);
    return v ? (JSON.parse(v) as LastPublication) : undefined;
  }

  async setLast(p: LastPublication): Promise<void> {
    await this.store.set(LAST, JSON.stringify(p));
  }

  /** Domains published empty by withdraw-domain (EX_GBM_6020): later feeds leave them out. */
  async withdrawn(): Promise<string[]> {
    const v = await this.store.get(WITHDRAWN);
    return v ? (JSON.parse(v) as string[]) : [];
  }

  async setWithdrawn(domains: readonly string[]): Promise<void> {
    if (domains.length === 0) await this.store.del(WITHDRAWN);
    else await this.store.set(WITHDRAWN, JSON.stringify([...new Set(domains)].sort()));
  }

  async putTicket(t: TicketRecord): Promise<void> {
    await this.store.set(`${TICKET}${t.ticket}`, JSON.stringify(t));
  }

  async tickets(): Promise<TicketRecord[]> {
    const out: TicketRecord[] = [];
    for await (const key of this.store.scan(TICKET)) {
      const v = await this.store.get(key);
      if (v) out.push(JSON.parse(v) as TicketRecord);
    }
    return out.sort((a, b) => a.sentAt.localeCompare(b.sentAt));
  }

  /**
   * Run `fn` as the only publish or report, across processes and nodes: the cluster lease
   * "annuaire" (cluster/lease.ts), renewed while `fn` runs, expiring soon after its holder
   * dies; the job's writes through a lease-aware store are fenced by it. `locked` false
   * (dry runs): no lease.
   */
  async exclusive<T>(locked: boolean, fn: () => Promise<T>): Promise<T> {
    if (!locked) return fn();
    const busy = (current: LeaseState | undefined) =>
      new MssError(
        'TEMPORARY_ANNUAIRE_RUNNING',
        `another annuaire publish/report is running (cluster lease ${ANNUAIRE_LEASE} ${describeHolder(current)}); try again later`,
      );
    return withLease(this.store, ANNUAIRE_LEASE, { busy }, fn);
  }
}

export function reportsDir(stateDir: string): string {
  return path.join(stateDir, 'annuaire', 'reports');
}
