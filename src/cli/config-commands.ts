import type { Command } from 'commander';
import type { CliContext } from './context.js';
import { action } from './run-action.js';

export function registerConfigCommands(program: Command, ctx: () => CliContext): void {
  const config = program.command('config').description('inspect the configuration file');
  config
    .command('check')
    .description('validate the configuration and print it with every default filled in')
    .option('--json', 'print JSON instead of a summary')
    .action(
      action((opts: { json?: boolean }) => {
        const c = ctx();
        const cfg = c.config();
        if (opts.json) process.stdout.write(`${JSON.stringify(cfg, null, 2)}\n`);
        else process.stdout.write(`configuration ${c.configPath} is valid (domains: ${cfg.operator.domains.join(', ')})\n`);
      }),
    );
}
