import cluster from 'node:cluster';
import type { Command } from 'commander';
import type { CliContext } from './context.js';
import { action } from './run-action.js';
import { runDaemon } from '../daemon/run.js';
import { workerCount } from '../daemon/config.js';

export function registerServeCommand(program: Command, ctx: () => CliContext): void {
  program
    .command('serve')
    .description('run the enabled services (gates, milter, auth endpoint) until SIGTERM')
    .action(
      action(async () => {
        const c = ctx();
        const config = c.config();
        const workers = workerCount(config.serve);
        // serve.workers > 1: node:cluster (daemon/cluster.ts), loaded only then.
        if (cluster.isWorker) return (await import('../daemon/cluster.js')).runWorker(config, c.log, workers);
        if (workers > 1) return (await import('../daemon/cluster.js')).runPrimary(config, c.log, workers);
        await runDaemon(config, c.log);
      }),
    );
}
