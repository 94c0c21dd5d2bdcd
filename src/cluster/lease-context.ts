// The leases the current asynchronous context holds (node:async_hooks): what a job deep in
// its call stack acts under. A store write made in that context is fenced by the outermost
// lease (lease-aware-store.ts), and an action outside the store — an HTTPS call to the ANS,
// a command, a notice — first confirms every lease (confirmLeases), so that a node whose
// lease expired while it was paused or cut off does nothing more. Small on purpose: the
// HTTPS client and the command runner import it.
import { AsyncLocalStorage } from 'node:async_hooks';

export interface ContextLease {
  readonly name: string;
  readonly token: number;
  /** Throws LEASE_LOST when this process can no longer count on the lease (local clock). */
  assertHeld(): void;
  /** Ask the store: renew now; throws LEASE_LOST when it was lost. */
  confirm(): Promise<void>;
}

const context = new AsyncLocalStorage<readonly ContextLease[]>();

/** Run `fn` with `lease` added to the leases of the context. */
export function runUnderLease<T>(lease: ContextLease, fn: () => Promise<T>): Promise<T> {
  return context.run([...(context.getStore() ?? []), lease], fn);
}

export function heldLeases(): readonly ContextLease[] {
  return context.getStore() ?? [];
}

export function leaseInContext(name: string): ContextLease | undefined {
  return heldLeases().find((l) => l.name === name);
}

/** Before an action outside the store: every lease of the context is still ours (a store round trip each). */
export async function confirmLeases(): Promise<void> {
  for (const lease of heldLeases()) await lease.confirm();
}
