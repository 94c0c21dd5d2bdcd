// The cluster view (view.ts) as supervision checks, in `status` and /health (with
// state.redis): cluster.nodes, cluster.leases, cluster.redis, cluster.registry.
import type { Config } from '../config/schema.js';
import type { CheckResult } from '../health/check-result.js';
import type { StateStore } from '../store/store.js';
import { clusterView, type ClusterView } from './view.js';

const ago = (iso: string | undefined, now: number): string => (iso ? `${Math.max(0, Math.round((now - Date.parse(iso)) / 1000))} s ago` : 'never');

export async function clusterChecks(config: Config, store: StateStore, now = Date.now()): Promise<CheckResult[]> {
  return checksOf(await clusterView(config, store), config, now);
}

export function checksOf(v: ClusterView, config: Config, now = Date.now()): CheckResult[] {
  return [nodesCheck(v, now), leasesCheck(v), redisCheck(v, config), registryCheck(v)];
}

function nodesCheck(v: ClusterView, now: number): CheckResult {
  if (v.errors.some((e) => e.startsWith('nodes'))) return { check: 'cluster.nodes', severity: 'unknown', detail: v.errors.join('; ') };
  const parts: string[] = [];
  let severity: CheckResult['severity'] = 'ok';
  let alive = 0;
  for (const m of v.members) {
    const me = m.node === v.node ? ' (this node)' : '';
    if (m.live) {
      alive++;
      const spool = m.live.spool.operations > 0 ? `, ${m.live.spool.operations} write(s) in its spool` : '';
      if (spool) severity = 'warning';
      parts.push(
        `${m.node}${me} alive (pid ${m.live.pid}, ${m.live.version}, seen ${ago(m.live.seenAt, now)}${m.live.redis ? `, writes to ${m.live.redis}` : ''}${m.live.registry ? `, registry ${m.live.registry.sync}` : ''}${spool})`,
      );
    } else if (m.record?.stopped && m.record.spool === 0) {
      parts.push(`${m.node}${me} stopped ${ago(m.record.lastSeen, now)}`);
    } else if (m.record) {
      severity = 'warning';
      parts.push(
        `${m.node}${me} NOT SEEN since ${m.record.lastSeen}${m.record.stopped ? ` (stopped with ${m.record.spool} write(s) in its spool)` : ' (did not stop cleanly)'}: statistics wait for it, or \`mss-sidecar cluster forget ${m.node}\``,
      );
    }
  }
  if (v.members.length === 0)
    return { check: 'cluster.nodes', severity: 'warning', detail: 'no node has said it is alive yet (is serve running with this state.redis?)', value: 0 };
  return { check: 'cluster.nodes', severity, detail: `${alive} of ${v.members.length} node(s) alive: ${parts.join('; ')}`, value: alive };
}

function leasesCheck(v: ClusterView): CheckResult {
  if (v.errors.some((e) => e.startsWith('leases'))) return { check: 'cluster.leases', severity: 'unknown', detail: v.errors.join('; ') };
  const held = v.leases.map((l) => `${l.name} held by ${l.holder} (token ${l.token}, ${Math.ceil(l.ttlMs / 1000)} s left unless renewed)`);
  return {
    check: 'cluster.leases',
    severity: 'ok',
    detail: held.length > 0 ? held.join('; ') : 'no job lease held: no nightly job is running',
    value: held.length,
  };
}

function redisCheck(v: ClusterView, config: Config): CheckResult {
  const r = v.redis;
  if (!r)
    return {
      check: 'cluster.redis',
      severity: 'warning',
      detail: `the Redis server does not answer: ${v.errors.filter((e) => e.startsWith('redis')).join('; ') || 'unknown'}`,
    };
  const parts = [`writes to ${r.address} (role ${r.role}), ${r.connectedReplicas} replica(s) online`];
  let severity: CheckResult['severity'] = 'ok';
  if (r.role !== 'master') severity = 'critical';
  if (r.waitReplicas > 0 && r.connectedReplicas < r.waitReplicas) {
    severity = severity === 'critical' ? severity : 'warning';
    parts.push(`fewer than state.redis.waitReplicas (${r.waitReplicas}): the shared state has a single copy until the replica is back`);
  }
  if (v.sentinels.length > 0) {
    const named = v.sentinels.filter((s) => s.master).map((s) => s.master as string);
    const agree = named.filter((m) => m === r.address).length;
    parts.push(`${agree} of ${v.sentinels.length} sentinel(s) name it the master of "${config.state.redis?.masterName}"`);
    const silent = v.sentinels.filter((s) => s.error).map((s) => `${s.address}: ${s.error}`);
    if (silent.length > 0) parts.push(`not answering: ${silent.join(', ')}`);
    if (agree <= v.sentinels.length / 2 && severity === 'ok') severity = 'warning';
  }
  return { check: 'cluster.redis', severity, detail: parts.join('; '), value: r.connectedReplicas };
}

function registryCheck(v: ClusterView): CheckResult {
  const s = v.registry;
  if (!s) return { check: 'cluster.registry', severity: 'unknown', detail: v.errors.filter((e) => e.startsWith('registry')).join('; ') || 'unknown' };
  const c = s.cluster;
  const cluster = c ? `cluster version ${c.hash.slice(0, 12)}… (seq ${c.seq}, from ${c.node} at ${c.at})` : 'no cluster version yet';
  switch (s.outcome) {
    case 'in-sync':
      return { check: 'cluster.registry', severity: 'ok', detail: `registry file = ${cluster}`, value: c?.seq ?? 0 };
    case 'conflict':
      return {
        check: 'cluster.registry',
        severity: 'critical',
        detail: `the registry file (${s.local.slice(0, 12)}…) and the ${cluster} both changed since they last agreed: nothing is overwritten; \`mss-sidecar cluster registry --take-cluster\` or \`--send-local\``,
      };
    case 'taken':
      return {
        check: 'cluster.registry',
        severity: 'warning',
        detail: `the registry file (${s.local.slice(0, 12)}…) is behind the ${cluster}: serve takes it within cluster.registrySyncMs (is it running?)`,
      };
    default:
      return {
        check: 'cluster.registry',
        severity: 'warning',
        detail: `the registry file (${s.local.slice(0, 12)}…) changed here and is not in the cluster yet (${cluster}): serve sends it within cluster.registrySyncMs (is it running?)`,
      };
  }
}
