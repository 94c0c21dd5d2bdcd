// `cluster`: how the nodes of one operator (several `serve` behind one MX, sharing one Redis
// or Redis Sentinel set) name themselves and coordinate. Read only with state.redis: a single
// node with the embedded store is a cluster of one (its leases still keep a timer's job and
// a run by hand from overlapping). docs/cluster.md.
import { z } from 'zod';

export const clusterSection = z.strictObject({
  /** This node's name in `status`, in lease holders and in the registry's history (default: the host name). */
  node: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, dot, underscore and hyphen, at most 64')
    .optional(),
  /**
   * A job's lease expires this long after its holder last renewed it (every third of it):
   * how long the other node waits before taking over a job whose node died. Longer than any
   * pause of the event loop (a registry compile: seconds).
   */
  leaseTtlMs: z.number().int().min(1000).max(600_000).default(30_000),
  /** How often `serve` tells the others it is alive (and its spool, registry version). */
  heartbeatMs: z.number().int().min(200).max(60_000).default(5000),
  /** How often `serve` compares its registry file with the cluster's and takes or sends the newer one. */
  registrySyncMs: z.number().int().min(200).max(600_000).default(2000),
  /** A scheduled job (`--once-per`) waits at most this long for another node's run of it to end. */
  jobWaitMs: z
    .number()
    .int()
    .min(0)
    .max(86_400_000)
    .default(6 * 3_600_000),
});

export type ClusterConfig = z.output<typeof clusterSection>;
