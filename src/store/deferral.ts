// Writes that may wait: when a shared store (Redis) does not answer, what the daemon must
// not lose — journal events, logins — is handed to a Deferral (the daemon's spool,
// spool.ts) instead of failing, and applied later, in order. Callers use it like this:
//   if (deferral?.deferring) deferral.defer(op)            // earlier writes wait: go behind them
//   else try { write } catch (err) { if (canDefer(err)) deferral.defer(op) else throw err }
import { isMssError } from '../errors.js';

export interface Deferral<Op> {
  /** True while earlier writes wait to be applied: later ones must go behind them. */
  readonly deferring: boolean;
  /** Keep `op` (durably) for later; throws when it cannot (SPOOL_FULL). */
  defer(op: Op, cause?: unknown): void;
}

/** Only a store that did not answer is waited for; a refused write (bad key…) is an error. */
export function canDefer(err: unknown): boolean {
  return isMssError(err, 'TEMPORARY_STORE_UNAVAILABLE');
}

/** Run `write`, or defer `op` when the store is unreachable (or earlier writes wait). */
export async function writeOrDefer<Op>(deferral: Deferral<Op> | undefined, op: Op, write: () => Promise<void>): Promise<'written' | 'deferred'> {
  if (deferral?.deferring) return deferBehind(deferral, op);
  try {
    await write();
    return 'written';
  } catch (err) {
    return deferOrThrow(deferral, op, err);
  }
}

/**
 * writeOrDefer for a write done before it returns (a store's journalAppendSync): the same
 * rule, answered without a promise (issue 20: the milter's end of message).
 */
export function writeOrDeferSync<Op>(deferral: Deferral<Op> | undefined, op: Op, write: () => void): 'written' | 'deferred' {
  if (deferral?.deferring) return deferBehind(deferral, op);
  try {
    write();
    return 'written';
  } catch (err) {
    return deferOrThrow(deferral, op, err);
  }
}

/** Earlier writes wait: this one goes behind them. */
function deferBehind<Op>(deferral: Deferral<Op>, op: Op): 'deferred' {
  deferral.defer(op);
  return 'deferred';
}

/** A failed write: kept for later when the store did not answer, else the error. */
function deferOrThrow<Op>(deferral: Deferral<Op> | undefined, op: Op, err: unknown): 'deferred' {
  if (!deferral || !canDefer(err)) throw err;
  deferral.defer(op, err);
  return 'deferred';
}
