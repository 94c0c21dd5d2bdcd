// Entry point of the `mss-sidecar` command (bin/mss-sidecar runs it). It loads only the
// command group the arguments name (./program.ts, ./commands.ts).
import { buildProgram, invokedCommand } from './program.js';
import { EXIT } from './run-action.js';

// `mss-sidecar bal list | head`: the reader went away; that ends the output, not in a crash.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(EXIT.OK);
  throw err;
});

const invoked = invokedCommand(process.argv.slice(2));
const program = await buildProgram(new Set(invoked === undefined ? [] : [invoked]));
await program.parseAsync(process.argv);
