// The CLI loads only the command group its arguments name: `mss-sidecar --help` lists the
// commands from src/cli/commands.ts without loading any group, and that table says exactly
// what the groups register.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { commandGroups, nameOf } from '../../src/cli/commands.js';
import { buildProgram, invokedCommand } from '../../src/cli/program.js';
import { modulesLoadedBy } from '../helpers/loaded-modules.js';
import path from 'node:path';
import { REPO_ROOT, runCli } from '../helpers/cli.js';

test('the command table has the term and description each group registers, in order', async () => {
  const eager = await buildProgram('all');
  assert.deepEqual(
    eager.commands.map((c) => c.name()),
    commandGroups.map(nameOf),
    'each group registers the one command its line in commands.ts names',
  );
  const expected = eager.helpInformation();
  assert.equal((await buildProgram(new Set())).helpInformation(), expected, 'mss-sidecar --help with no group loaded');
  for (const entry of commandGroups) {
    const one = await buildProgram(new Set([nameOf(entry)]));
    assert.equal(one.helpInformation(), expected, `mss-sidecar --help with only ${nameOf(entry)} loaded`);
  }
});

test('the invoked command is read with the global options and their values skipped', () => {
  assert.equal(invokedCommand(['whitelist', 'verify', 'x.xml']), 'whitelist');
  assert.equal(invokedCommand(['-c', 'whitelist', 'config', 'check']), 'config');
  assert.equal(invokedCommand(['-cbal', 'status']), 'status');
  assert.equal(invokedCommand(['--config=stats', '--log-level', 'crl', 'bal', 'list']), 'bal');
  assert.equal(invokedCommand(['help', 'crl']), 'crl');
  assert.equal(invokedCommand(['whitelist', 'lookup', '--file', 'f', '-c', 'cfg', 'x']), 'whitelist');
  assert.equal(invokedCommand(['--help']), undefined);
  assert.equal(invokedCommand([]), undefined);
  assert.equal(invokedCommand(['-c']), undefined, 'a usage error is left to the real parse');
});

test('mss-sidecar --help loads no command group, only the CLI skeleton', () => {
  assert.deepEqual(modulesLoadedBy(['--help']), [
    'cli/commands.js',
    'cli/io.js',
    'cli/main.js',
    'cli/program.js',
    'cli/run-action.js',
    'errors.js',
    'version.js',
  ]);
});

test('a command loads its own group and not the others', () => {
  const cli = modulesLoadedBy(['config', '--help']).filter((f) => f.startsWith('cli/'));
  assert.deepEqual(cli, ['cli/commands.js', 'cli/config-commands.js', 'cli/context.js', 'cli/io.js', 'cli/main.js', 'cli/program.js', 'cli/run-action.js']);
});

test('the process exits with the status its command set, as the same command in-process reports it: 0 done, 1 refused, 2 usage or configuration', async () => {
  const { runCliInProcess } = await import('../helpers/cli-in-process.js');
  const config = path.join(REPO_ROOT, 'examples', 'config.yaml');
  for (const [args, status] of [
    [['--config', config, 'bal', 'check'], 0],
    [['--config', config, 'bal', 'show', 'personne@ch-exemple.mssante.fr'], 1],
    [['--config', config, 'bal', 'set-liste-rouge', 'jean.dupont@ch-exemple.mssante.fr', 'maybe'], 2],
    [['bal', 'no-such-command'], 2],
  ] as const) {
    const process = runCli([...args]);
    const inProcess = await runCliInProcess([...args]);
    assert.deepEqual([process.status, inProcess.status], [status, status], `${args.join(' ')}: ${process.stderr}`);
    assert.equal(inProcess.stderr, process.stderr.replace(/^\{.*\}\n/gm, ''), 'the same words on stderr (but the JSON logs)');
  }
});
