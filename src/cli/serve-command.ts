import type { Command } from 'commander';
import type { CliContext } from './context.js';
import { action } from './run-action.js';
import { runDaemon } from '../daemon/run.js';

export function registerServeCommand(program: Command, ctx: () => CliContext): void {
  program
    .command('serve')
    .description('run the enabled services (gates, milter, auth endpoint) until SIGTERM')
    .action(
      action(async () => {
        const c = ctx();
        await runDaemon(c.config(), c.log);
      }),
    );
}
