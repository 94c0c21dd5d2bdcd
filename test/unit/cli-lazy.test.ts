// The CLI loads only the command group its arguments name: `mss-sidecar --help` lists the
// commands from src/cli/commands.ts without loading any group, and that table says exactly
// what the groups register.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { commandGroups, nameOf } from '../../src/cli/commands.js';
import { buildProgram, invokedCommand } from '../../src/cli/program.js';
import { CLI, cliEnv, REPO_ROOT } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';
import { spawnSync } from 'node:child_process';

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

/** The dist/src modules one run of the CLI loads, recorded by a module loader hook. */
function modulesLoadedBy(args: string[]): string[] {
  const dir = tmpDir();
  const trace = path.join(dir, 'loaded.txt');
  fs.writeFileSync(
    path.join(dir, 'hooks.mjs'),
    `import fs from 'node:fs';\nexport async function load(url, context, next) {\n  fs.appendFileSync(${JSON.stringify(trace)}, url + '\\n');\n  return next(url, context);\n}\n`,
  );
  fs.writeFileSync(
    path.join(dir, 'register.mjs'),
    `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(path.join(dir, 'hooks.mjs')).href)});\n`,
  );
  const r = spawnSync(process.execPath, ['--import', pathToFileURL(path.join(dir, 'register.mjs')).href, CLI, ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    env: cliEnv(),
  });
  assert.equal(r.status, 0, r.stderr);
  const src = pathToFileURL(path.join(REPO_ROOT, 'dist', 'src')).href + '/';
  return fs
    .readFileSync(trace, 'utf8')
    .split('\n')
    .filter((u) => u.startsWith(src))
    .map((u) => u.slice(src.length))
    .sort();
}

test('mss-sidecar --help loads no command group, only the CLI skeleton', () => {
  assert.deepEqual(modulesLoadedBy(['--help']), ['cli/commands.js', 'cli/main.js', 'cli/program.js', 'cli/run-action.js', 'errors.js', 'version.js']);
});

test('a command loads its own group and not the others', () => {
  const cli = modulesLoadedBy(['config', '--help']).filter((f) => f.startsWith('cli/'));
  assert.deepEqual(cli, ['cli/commands.js', 'cli/config-commands.js', 'cli/context.js', 'cli/main.js', 'cli/program.js', 'cli/run-action.js']);
});
