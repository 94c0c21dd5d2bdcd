// The CLI loads only the command group its arguments name: `mss-sidecar --help` lists the
// commands from src/cli/commands.ts without loading any group, and that table says exactly
// what the groups register.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { commandGroups, nameOf } from '../../src/cli/commands.js';
import { buildProgram, invokedCommand } from '../../src/cli/program.js';
import { modulesLoadedBy } from '../helpers/loaded-modules.js';

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
  assert.deepEqual(modulesLoadedBy(['--help']), ['cli/commands.js', 'cli/main.js', 'cli/program.js', 'cli/run-action.js', 'errors.js', 'version.js']);
});

test('a command loads its own group and not the others', () => {
  const cli = modulesLoadedBy(['config', '--help']).filter((f) => f.startsWith('cli/'));
  assert.deepEqual(cli, ['cli/commands.js', 'cli/config-commands.js', 'cli/context.js', 'cli/main.js', 'cli/program.js', 'cli/run-action.js']);
});
