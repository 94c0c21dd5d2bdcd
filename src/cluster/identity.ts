// The cluster identity of this process (one process is one node): set once the
// configuration is loaded (CLI context, serve), so that jobs deep in the code take their
// leases with it without passing it around. No zod here: the CLI context imports it.
import os from 'node:os';

interface ClusterSettings {
  node?: string | undefined;
  leaseTtlMs: number;
  jobWaitMs: number;
}

export function nodeName(c: Pick<ClusterSettings, 'node'> | undefined): string {
  return c?.node ?? os.hostname();
}

let current: { node: string; leaseTtlMs: number; jobWaitMs: number } = { node: os.hostname(), leaseTtlMs: 30_000, jobWaitMs: 6 * 3_600_000 };

export function useClusterConfig(c: ClusterSettings): void {
  current = { node: nodeName(c), leaseTtlMs: c.leaseTtlMs, jobWaitMs: c.jobWaitMs };
}

export function clusterIdentity(): { node: string; holder: string; leaseTtlMs: number; jobWaitMs: number } {
  return { ...current, holder: `${current.node}/${process.pid}` };
}
