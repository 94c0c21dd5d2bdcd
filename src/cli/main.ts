// Entry point of the `mss-sidecar` command. Each command group lives in its own file and
// is listed in ./commands.ts.
import 'reflect-metadata';
import { Command } from 'commander';
import { commandGroups } from './commands.js';
import { contextFrom } from './context.js';
import { EXIT } from './run-action.js';

export function buildProgram(): Command {
  const program = new Command('mss-sidecar')
    .description('MSSanté operator sidecar for Postfix and Dovecot (Référentiel #1 v1.6.0)')
    .option('-c, --config <file>', 'configuration file (default: $MSS_SIDECAR_CONFIG or /etc/mss-sidecar/config.yaml)')
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent')
    .showHelpAfterError()
    .exitOverride((err) => {
      // Usage errors exit with EXIT.CONFIG; --help and --version exit 0.
      process.exit(err.exitCode === 0 ? EXIT.OK : EXIT.CONFIG);
    });
  const ctx = () => contextFrom(program);
  for (const register of commandGroups) register(program, ctx);
  return program;
}

// `mss-sidecar bal list | head`: the reader went away; that ends the output, not in a crash.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(EXIT.OK);
  throw err;
});

await buildProgram().parseAsync(process.argv);
