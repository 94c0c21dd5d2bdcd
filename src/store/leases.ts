// Leases: what makes a nightly job run on one node of a cluster at a time, and lets
// another node take it over when its holder dies (src/cluster/lease.ts holds and renews
// them). Both backends keep a lease as the key `lease:<name>` = "<token>|<holder>" that
// expires after its time to live unless renewed, and a counter `lease-seq:<name>` that
// never expires: each acquisition takes the next value as its fencing token. A holder
// renews, releases, and writes (fencedWrite) only with the token it was given, checked
// atomically with the operation: once its lease expired and someone else took it, a holder
// that was paused (SIGSTOP, a long GC, a frozen VM) or cut off from the store cannot act
// on the shared state, whatever it still believes (Kleppmann, "How to do distributed
// locking", 2016: the check is done by the resource, not by the client).
import { MssError } from '../errors.js';
import { LEASE_NAME, type LeaseState } from './store.js';

export function leaseKey(name: string): string {
  if (!LEASE_NAME.test(name)) throw new MssError('STORE_BAD_KEY', `invalid lease name "${name.slice(0, 80)}" (expected [a-z0-9_-]{1,64})`);
  return `lease:${name}`;
}

export function leaseSeqKey(name: string): string {
  return `lease-seq:${leaseKey(name).slice(6)}`;
}

export function leaseValue(token: number, holder: string): string {
  return `${token}|${holder}`;
}

/** The state of a lease from its stored value; undefined for a value not shaped like one. */
export function leaseStateOf(name: string, value: string, ttlMs: number): LeaseState | undefined {
  const m = /^(\d+)\|(.*)$/s.exec(value);
  if (!m) return undefined;
  return { name, token: Number(m[1]), holder: m[2] ?? '', ttlMs: Math.max(0, ttlMs) };
}

export function leaseLost(name: string, token: number): MssError {
  return new MssError(
    'LEASE_LOST',
    `the cluster lease "${name}" (token ${token}) is no longer held by this process: it expired (paused or cut off from the state store longer than its time to live) and may be held by another node; nothing more is done`,
    { lease: name, token },
  );
}
