// Removes from a production node_modules what its modules carry for their own development
// (lint and npm configuration, CI and git hook directories, tests, integration tests,
// benchmarks, examples, documentation sites), and gives an execute bit exactly to the files that start with `#!`.
// The Debian package ships the rest: nothing here is loaded at run time, and lintian refuses
// these files in a package (package-contains-eslint-config-file, package-contains-npm-ignore-file,
// privacy-breach-generic for pino's documentation page loading scripts from CDNs, …).
//   node dist/scripts/prune-node-modules.js NODE_MODULES_DIR
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundledModules } from './bundled-modules.js';

/** Anywhere in the tree: development configuration files. */
const DEV_FILES =
  /^(?:\.eslintrc(?:\..*)?|eslint\.config\.[cm]?js|\.[a-z]*ignore|\.gitattributes|\.editorconfig|\.prettierrc(?:\..*)?|\.travis\.yml|\.nycrc(?:\..*)?|\.taprc|\.nojekyll)$/;
/** Anywhere in the tree: CI, editor and git hook directories. */
const DEV_DIRS = new Set(['.github', '.husky', '.vscode']);
/** Only at the top of a module (e.g. yaml/dist/doc is code, pino/docs is not). */
const MODULE_TOP = new Set(['test', 'tests', '__tests__', 'integration', 'benchmarks', 'bench', 'example', 'examples', 'docs', 'index.html', 'example.html']);

export interface PruneResult {
  removed: string[];
  modesFixed: number;
}

function walk(dir: string, result: PruneResult): void {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (DEV_DIRS.has(entry.name)) {
        fs.rmSync(p, { recursive: true });
        result.removed.push(p);
      } else walk(p, result);
    } else if (entry.isFile()) {
      if (DEV_FILES.test(entry.name)) {
        fs.rmSync(p);
        result.removed.push(p);
        continue;
      }
      const fd = fs.openSync(p, 'r');
      const head = Buffer.alloc(2);
      const n = fs.readSync(fd, head, 0, 2, 0);
      fs.closeSync(fd);
      const mode = n === 2 && head.toString('latin1') === '#!' ? 0o755 : 0o644;
      if ((fs.statSync(p).mode & 0o777) !== mode) {
        fs.chmodSync(p, mode);
        result.modesFixed += 1;
      }
    }
  }
}

export function pruneNodeModules(root: string): PruneResult {
  const result: PruneResult = { removed: [], modesFixed: 0 };
  for (const m of bundledModules(root)) {
    for (const name of MODULE_TOP) {
      const p = path.join(root, m.dir, name);
      if (fs.existsSync(p)) {
        fs.rmSync(p, { recursive: true });
        result.removed.push(p);
      }
    }
  }
  walk(root, result);
  return result;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const dir = process.argv[2];
  if (!dir || !fs.existsSync(dir)) {
    process.stderr.write('usage: node dist/scripts/prune-node-modules.js NODE_MODULES_DIR\n');
    process.exit(2);
  }
  const r = pruneNodeModules(dir);
  process.stdout.write(`pruned ${dir}: ${r.removed.length} development files and directories removed, ${r.modesFixed} modes fixed\n`);
}
