// The modules one run of the CLI loads, recorded by a module loader hook: what a command
// costs at start is what it imports (test/unit/cli-lazy.test.ts, stats-build-loads.test.ts).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { CLI, cliEnv, REPO_ROOT } from './cli.js';
import { tmpDir } from './tmp.js';

/** The file URLs of every module one run of `mss-sidecar <args>` loads (it must exit 0). */
export function urlsLoadedBy(args: string[]): string[] {
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
  return fs.readFileSync(trace, 'utf8').split('\n').filter(Boolean);
}

/** The dist/src modules one run loads, relative to dist/src, sorted. */
export function modulesLoadedBy(args: string[]): string[] {
  const src = pathToFileURL(path.join(REPO_ROOT, 'dist', 'src')).href + '/';
  return urlsLoadedBy(args)
    .filter((u) => u.startsWith(src))
    .map((u) => u.slice(src.length))
    .sort();
}
