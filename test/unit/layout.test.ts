// README.md's layout map names every top-level folder and every folder of src/ and sandbox/, and only
// folders that exist: a part added, moved or removed without its line fails here.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '../helpers/cli.js';

/** `folder/` → its description, from the fenced block under README.md's "## Layout". */
export function layoutMap(readme: string): Map<string, string> {
  const section = /^## Layout\n[\s\S]*?^```\n([\s\S]*?)^```$/m.exec(readme);
  assert.ok(section, 'README.md has a "## Layout" section with a fenced map');
  const map = new Map<string, string>();
  for (const line of (section[1] as string).split('\n').filter((l) => l.trim() !== '')) {
    const m = /^(\S+\/)\s+(\S.*)$/.exec(line);
    assert.ok(m, `README.md layout line "${line}": one folder (ending in /), then what it holds`);
    assert.ok(!map.has(m[1] as string), `README.md layout names ${m[1]} twice`);
    map.set(m[1] as string, m[2] as string);
  }
  return map;
}

/** The folders the map must name: each top-level folder of the tree git sees, each folder of src/ and of sandbox/. */
function treeFolders(): string[] {
  // Tracked files and untracked ones git does not ignore: dist/, node_modules/… are not the tree.
  const r = spawnSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { cwd: REPO_ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, `git ls-files: ${r.stderr}`);
  const files = r.stdout.split('\0').filter((f) => f !== '' && fs.existsSync(path.join(REPO_ROOT, f)));
  const folders = new Set<string>();
  for (const f of files) {
    const parts = f.split('/');
    if (parts.length > 1) folders.add(`${parts[0]}/`);
    if ((parts[0] === 'src' || parts[0] === 'sandbox') && parts.length > 2) folders.add(`${parts[0]}/${parts[1]}/`);
  }
  return [...folders].sort();
}

test('README.md names each top-level folder and each folder of src/ and sandbox/, and no folder that does not exist', () => {
  const map = layoutMap(fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8'));
  const folders = treeFolders();
  assert.ok(folders.includes('src/') && folders.includes('src/cli/') && folders.includes('sandbox/mta/'), `the tree is read: ${folders.join(' ')}`);
  const missing = folders.filter((f) => !map.has(f));
  const absent = [...map.keys()].filter((f) => !fs.statSync(path.join(REPO_ROOT, f), { throwIfNoEntry: false })?.isDirectory());
  assert.deepEqual(
    { missing, absent },
    { missing: [], absent: [] },
    `README.md's layout map (## Layout): add a line for each folder missing from it, remove the lines of folders that do not exist`,
  );
});

test('the layout map reader takes one folder per line and refuses a line without a description', () => {
  const readme = '# x\n\n## Layout\n\n```\nsrc/          the product\nsrc/cli/      command line\n```\n\n## Next\n';
  assert.deepEqual(
    [...layoutMap(readme)],
    [
      ['src/', 'the product'],
      ['src/cli/', 'command line'],
    ],
  );
  assert.throws(() => layoutMap(readme.replace('src/cli/      command line', 'src/cli/')), /one folder \(ending in \/\), then what it holds/);
  assert.throws(() => layoutMap('# x\n'), /has a "## Layout" section/);
});
