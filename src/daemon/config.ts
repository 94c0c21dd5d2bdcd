// The `serve` section: how many processes `mss-sidecar serve` runs (docs/performance.md).
import os from 'node:os';
import { z } from 'zod';

export const serveSection = z.strictObject({
  /**
   * Worker processes (node:cluster). 1: everything in one process, as always. N > 1: the
   * gates and the milter run in every worker, their listeners shared (one core each); the
   * API LPS (checker, fronts: one-time tickets live in memory), the supervision endpoint and
   * the portal in worker 1. `auto`: one per core.
   */
  workers: z.union([z.literal('auto'), z.number().int().min(1).max(64)]).default(1),
});

export type ServeConfig = z.output<typeof serveSection>;

/** The number of worker processes the setting asks for. */
export const workerCount = (c: ServeConfig): number => (c.workers === 'auto' ? Math.max(1, os.availableParallelism()) : c.workers);
