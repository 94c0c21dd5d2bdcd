// The `mss-sidecar` program: the global options, and the command groups of ./commands.ts.
// Only the group the command line names is loaded (its file, its imports, and the CLI
// context with the configuration loader and the logger); the others are light stand-ins
// that give `--help` their term and description.
import { Command, Help } from 'commander';
import { commandGroups, nameOf, type CommandEntry } from './commands.js';
import { attachIo, PROCESS_IO, type CliIo } from './io.js';
import { EXIT } from './run-action.js';
import { softwareVersion } from '../version.js';

function rootProgram(io: CliIo = PROCESS_IO): Command {
  const program = new Command('mss-sidecar')
    .description('MSSanté operator sidecar for Postfix and Dovecot (Référentiel #1 v1.6.0)')
    .version(softwareVersion(), '-V, --version', 'print the version (package.json) and exit')
    .option('-c, --config <file>', 'configuration file (default: $MSS_SIDECAR_CONFIG or /etc/mss-sidecar/config.yaml)')
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent')
    .showHelpAfterError()
    .configureOutput({ writeOut: (s) => void io.stdout.write(s), writeErr: (s) => void io.stderr.write(s) })
    .exitOverride((err) => {
      // Usage errors exit with EXIT.CONFIG; --help and --version exit 0.
      const status = err.exitCode === 0 ? EXIT.OK : EXIT.CONFIG;
      if (io.exitOnParseEnd) process.exit(status);
      io.setStatus(status);
      throw err;
    });
  attachIo(program, io);
  return program;
}

/**
 * The top-level command the arguments (without node and the script) run, or whose help
 * they ask (`help NAME`), read with commander's own option parser so that `-c FILE` and
 * `--log-level LEVEL` values are never taken for a command. Undefined when none is named.
 */
export function invokedCommand(args: readonly string[]): string | undefined {
  const probe = rootProgram()
    .exitOverride()
    .configureOutput({ writeOut: () => {}, writeErr: () => {} });
  let operands: string[];
  try {
    operands = probe.parseOptions([...args]).operands;
  } catch {
    return undefined; // a usage error: the real parse reports it
  }
  return operands[0] === 'help' ? operands[1] : operands[0];
}

/**
 * `load`: the groups to load for real (bin/mss-sidecar: the one its command line names,
 * main.ts); 'all' for tests that compare them with the table. `io`: where the commands write
 * and their exit status goes (./io.ts): the process's, or a test's.
 */
export async function buildProgram(load: ReadonlySet<string> | 'all', io: CliIo = PROCESS_IO): Promise<Command> {
  const program = rootProgram(io);
  const stubTerms = new WeakMap<Command, string>();
  program.configureHelp({
    subcommandTerm(this: Help, cmd: Command): string {
      return stubTerms.get(cmd) ?? Help.prototype.subcommandTerm.call(this, cmd);
    },
  });
  const loaded = commandGroups.filter((e) => load === 'all' || load.has(nameOf(e)));
  if (loaded.length > 0) {
    const { contextFrom, needsPreparedContext, prepareContext } = await import('./context.js');
    const ctx = () => contextFrom(program);
    program.hook('preAction', async (_program, actionCommand) => {
      if (needsPreparedContext(actionCommand)) await prepareContext();
    });
    const registers = await Promise.all(loaded.map((e) => e.load()));
    const byEntry = new Map<CommandEntry, (typeof registers)[number]>(loaded.map((e, i) => [e, registers[i] as (typeof registers)[number]]));
    for (const entry of commandGroups) {
      const register = byEntry.get(entry);
      if (register) register(program, ctx);
      else stubTerms.set(stub(program, entry), entry.term);
    }
  } else {
    for (const entry of commandGroups) stubTerms.set(stub(program, entry), entry.term);
  }
  return program;
}

/** A stand-in listed by `--help`; never run, since the command line that names it loads the real group. */
function stub(program: Command, entry: CommandEntry): Command {
  return program.command(nameOf(entry)).description(entry.description);
}
