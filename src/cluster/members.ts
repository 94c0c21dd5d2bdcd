// Who is in the cluster. Every `serve` says it is alive every cluster.heartbeatMs:
//   cluster-node:<node>   what it is doing now (expires after three missed heartbeats)
//   cluster:members       hash, one field per node ever seen: when it was last seen, what
//                         its spool held then, whether it stopped cleanly (kept until
//                         `mss-sidecar cluster forget NODE`)
// `status` reads both (the cluster view), and the statistics read the members: a node that
// has events in its spool, or that died without saying its spool was empty, may hold events
// of the month that the shared journal does not have yet (EX_PSU_5830), so the month is not
// built until they are replayed or the node is forgotten.
import { MssError } from '../errors.js';
import type { Month } from '../stats/month.js';
import { monthRange } from '../stats/month.js';
import type { StateStore } from '../store/store.js';

export interface NodeHeartbeat {
  node: string;
  pid: number;
  version: string;
  startedAt: string;
  seenAt: string;
  /** Writes waiting in its spool for the store, and since when. */
  spool: { operations: number; oldest?: string };
  /** Its registry file's hash, and how it stands with the cluster's (registry-sync.ts). */
  registry?: { hash: string; sync: string };
  /** The Redis server it writes to. */
  redis?: string;
}

export interface MemberRecord {
  lastSeen: string;
  spool: number;
  spoolOldest?: string;
  /** Stopped by SIGTERM with this spool (a node that died has no such mark). */
  stopped?: boolean;
}

const MEMBERS = 'cluster:members';
const liveKey = (node: string): string => `cluster-node:${node}`;

export async function beat(store: StateStore, hb: NodeHeartbeat, heartbeatMs: number): Promise<void> {
  await store.set(liveKey(hb.node), JSON.stringify(hb), { ttlMs: 3 * heartbeatMs });
  const m: MemberRecord = { lastSeen: hb.seenAt, spool: hb.spool.operations, ...(hb.spool.oldest ? { spoolOldest: hb.spool.oldest } : {}) };
  await store.hset(MEMBERS, { [hb.node]: JSON.stringify(m) });
}

/** A clean stop: the node is gone on purpose, with what its spool still holds. */
export async function stopped(store: StateStore, node: string, spool: { operations: number; oldest?: string }): Promise<void> {
  await store.del(liveKey(node));
  const m: MemberRecord = {
    lastSeen: new Date().toISOString(),
    spool: spool.operations,
    ...(spool.oldest ? { spoolOldest: spool.oldest } : {}),
    stopped: true,
  };
  await store.hset(MEMBERS, { [node]: JSON.stringify(m) });
}

/** The heartbeat of `node` while it is alive (expired three heartbeats after it stopped beating). */
export async function liveNode(store: StateStore, node: string): Promise<NodeHeartbeat | undefined> {
  const v = await store.get(liveKey(node));
  return v ? (JSON.parse(v) as NodeHeartbeat) : undefined;
}

export async function forget(store: StateStore, node: string): Promise<boolean> {
  const had = (await store.hget(MEMBERS, node)) !== undefined;
  await store.hdel(MEMBERS, [node]);
  await store.del(liveKey(node));
  return had;
}

export interface MemberView {
  node: string;
  live?: NodeHeartbeat;
  record?: MemberRecord;
}

export async function members(store: StateStore): Promise<MemberView[]> {
  const records = await store.hgetall(MEMBERS);
  const names = new Set(Object.keys(records));
  const live = new Map<string, NodeHeartbeat>();
  for await (const key of store.scan('cluster-node:')) {
    const v = await store.get(key);
    if (!v) continue;
    const hb = JSON.parse(v) as NodeHeartbeat;
    live.set(hb.node, hb);
    names.add(hb.node);
  }
  return [...names].sort().map((node) => ({
    node,
    ...(live.has(node) ? { live: live.get(node) as NodeHeartbeat } : {}),
    ...(records[node] ? { record: JSON.parse(records[node] as string) as MemberRecord } : {}),
  }));
}

/**
 * EX_PSU_5830: the shared journal has every node's events of `month`, as far as the cluster
 * knows; otherwise TEMPORARY_STATS_NODE_SPOOL naming the nodes and what to do.
 */
export async function assertJournalComplete(store: StateStore, month: Month, timeZone: string): Promise<void> {
  const range = monthRange(month, timeZone);
  const missing: string[] = [];
  for (const m of await members(store)) {
    if (m.live) {
      if (m.live.spool.operations > 0)
        missing.push(`${m.node} has ${m.live.spool.operations} write(s) in its spool since ${m.live.spool.oldest ?? '?'} (being replayed)`);
      continue;
    }
    const r = m.record;
    if (!r) continue;
    if (Date.parse(r.lastSeen) < range.startMs) continue; // gone before the month began
    if (r.stopped && r.spool === 0) continue;
    missing.push(
      r.stopped
        ? `${m.node} stopped on ${r.lastSeen} with ${r.spool} write(s) in its spool`
        : `${m.node} has not been seen since ${r.lastSeen} and did not stop cleanly: its spool may hold events`,
    );
  }
  if (missing.length > 0) {
    throw new MssError(
      'TEMPORARY_STATS_NODE_SPOOL',
      `the month's events may not all be in the shared journal: ${missing.join('; ')}. Start that node's serve with Redis reachable (it replays its spool), or, if it is gone for good with its spool, \`mss-sidecar cluster forget NODE\`; the next run builds the month`,
      { nodes: missing },
    );
  }
}
