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
  if (deferral?.deferring) {
    deferral.defer(op);
    return 'deferred';
  }
  try {
    await write();
    return 'written';
  } catch (err) {
    if (!deferral || !canDefer(err)) throw err;
    deferral.defer(op, err);
    return 'deferred';
  }
}
