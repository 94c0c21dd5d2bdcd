// `mss-sidecar cluster status | registry | forget` (docs/cluster.md): the nodes sharing one
// Redis (or Redis Sentinel set), their leases, the Redis servers, the shared registry.
import type { Command } from 'commander';
import { checksOf } from '../cluster/checks.js';
import { forget } from '../cluster/members.js';
import { RegistrySync } from '../cluster/registry-sync.js';
import { clusterView } from '../cluster/view.js';
import type { Config } from '../config/schema.js';
import { MssError } from '../errors.js';
import { openStore } from '../store/open.js';
import type { StateStore } from '../store/store.js';
import type { CliContext } from './context.js';
import { EXIT, action } from './run-action.js';

const MARK = { ok: 'OK  ', warning: 'WARN', critical: 'CRIT', unknown: '??  ' } as const;

async function withClusterStore<T>(cfg: Config, fn: (store: StateStore) => Promise<T>): Promise<T> {
  if (!cfg.state.redis)
    throw new MssError('CONFIG_NO_CLUSTER', 'state.redis is not set: this node keeps its state to itself (embedded store), there is no cluster to show');
  const store = openStore(cfg.state);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

export function registerClusterCommands(program: Command, ctx: () => CliContext): void {
  const cluster = program.command('cluster').description('several nodes behind one MX: nodes, leases, Redis, shared registry');

  cluster
    .command('status')
    .description(
      'the nodes seen (alive or last seen), the job leases and their holders, the Redis master and replicas as the sentinels name them, the registry against the cluster',
    )
    .option('--json', 'print JSON')
    .action(
      action(async (opts: { json?: boolean }) => {
        const cfg = ctx().config();
        return withClusterStore(cfg, async (store) => {
          const view = await clusterView(cfg, store);
          const checks = checksOf(view, cfg);
          if (opts.json) ctx().out.write(`${JSON.stringify({ view, checks }, null, 2)}\n`);
          else {
            ctx().out.write(`this node: ${view.node}\n`);
            for (const c of checks) ctx().out.write(`${MARK[c.severity]}  ${c.check.padEnd(18)} ${c.detail}\n`);
            for (const s of view.sentinels) ctx().out.write(`      sentinel ${s.address}: ${s.master ? `master ${s.master}` : `no answer (${s.error})`}\n`);
          }
          return checks.some((c) => c.severity === 'critical') ? EXIT.FAILED : EXIT.OK;
        });
      }),
    );

  cluster
    .command('registry')
    .description("agree with the cluster's registry now (what serve does every cluster.registrySyncMs); after a conflict, keep one side")
    .option('--take-cluster', "keep the cluster's version (this node's file is saved beside it as registry.yaml.conflict-<time>)")
    .option('--send-local', "keep this node's file: it becomes the cluster's version")
    .option('--json', 'print JSON')
    .action(
      action(async (opts: { takeCluster?: boolean; sendLocal?: boolean; json?: boolean }) => {
        if (opts.takeCluster && opts.sendLocal) throw new MssError('USAGE_REGISTRY_SIDE', '--take-cluster or --send-local, not both');
        const cfg = ctx().config();
        return withClusterStore(cfg, async (store) => {
          const sync = new RegistrySync(store, cfg.registry.file, cfg.state.dir, ctx().log);
          const s = opts.takeCluster ? await sync.resolve('take-cluster') : opts.sendLocal ? await sync.resolve('send-local') : await sync.sync();
          if (opts.json) ctx().out.write(`${JSON.stringify(s, null, 2)}\n`);
          else
            ctx().out.write(
              `${s.outcome}: registry file ${s.local.slice(0, 16)}…, cluster ${s.cluster ? `${s.cluster.hash.slice(0, 16)}… (seq ${s.cluster.seq}, from ${s.cluster.node} at ${s.cluster.at})` : 'none'}\n`,
            );
          return s.outcome === 'conflict' ? EXIT.FAILED : s.outcome === 'busy' ? EXIT.TEMPORARY : EXIT.OK;
        });
      }),
    );

  cluster
    .command('forget')
    .description('remove a node gone for good from the cluster view (its spool, if any, is given up: the statistics stop waiting for it)')
    .argument('<node>')
    .action(
      action(async (node: string) => {
        const cfg = ctx().config();
        return withClusterStore(cfg, async (store) => {
          const had = await forget(store, node);
          ctx().out.write(had ? `${node} forgotten\n` : `${node} was not a known node\n`);
          return had ? EXIT.OK : EXIT.FAILED;
        });
      }),
    );
}
