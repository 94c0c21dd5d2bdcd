// The sandbox's ANS peers (the Annuaire of src/sandbox/annuaire, the SIPIL of
// src/sandbox/sipil*) check our client: they must not share its reading of the Référentiel.
// Following every static import (type-only and dynamic ones included) from their files, no
// module of the client's Annuaire feed (src/annuaire) or statistics (src/stats) is reached.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '../helpers/cli.js';

const SRC = path.join(REPO_ROOT, 'src');
const FORBIDDEN = ['annuaire', 'stats'].map((d) => path.join(SRC, d) + path.sep);

/** The .ts file a relative specifier names (`./x.js` → `./x.ts`), or undefined for packages. */
function resolve(from: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  const base = path.resolve(path.dirname(from), spec);
  for (const candidate of [base.replace(/\.js$/, '.ts'), `${base}.ts`, path.join(base, 'index.ts')]) if (fs.existsSync(candidate)) return candidate;
  throw new Error(`${path.relative(REPO_ROOT, from)} imports ${spec}, which does not resolve to a .ts file`);
}

/**
 * The module specifiers a file names: `import … from`, `export … from`, bare `import '…'`
 * and `import('…')` (type-only ones included). Comments are removed first; a dynamic import
 * of anything but a string literal cannot be followed and is refused.
 */
function specifiers(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const out: string[] = [];
  for (const re of [/\b(?:import|export)\b[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/g, /\bimport\s*['"]([^'"]+)['"]/g, /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g]) {
    for (const m of text.matchAll(re)) out.push(m[1] as string);
  }
  const dynamic = /\bimport\s*\(\s*(?!['"])/.exec(text);
  if (dynamic) throw new Error(`${path.relative(REPO_ROOT, file)}: a dynamic import of a computed specifier cannot be followed`);
  return out;
}

/** Every module reached from the roots, with the chain of imports that reaches it. */
export function importGraph(roots: readonly string[]): Map<string, string[]> {
  const reached = new Map<string, string[]>(roots.map((r) => [r, [r]]));
  const todo = [...roots];
  while (todo.length > 0) {
    const file = todo.pop() as string;
    for (const spec of specifiers(file)) {
      const target = resolve(file, spec);
      if (!target || reached.has(target)) continue;
      reached.set(target, [...(reached.get(file) ?? []), target]);
      todo.push(target);
    }
  }
  return reached;
}

const peerRoots = (): string[] => [
  ...fs.readdirSync(path.join(SRC, 'sandbox', 'annuaire')).filter((f) => f.endsWith('.ts')).map((f) => path.join(SRC, 'sandbox', 'annuaire', f)),
  ...fs.readdirSync(path.join(SRC, 'sandbox')).filter((f) => /^sipil.*\.ts$/.test(f)).map((f) => path.join(SRC, 'sandbox', f)),
];

test('the sandbox Annuaire and SIPIL import nothing of the client\'s src/annuaire or src/stats, directly or through another module', () => {
  const roots = peerRoots();
  assert.ok(roots.some((r) => r.endsWith(path.join('annuaire', 'server.ts'))) && roots.some((r) => r.endsWith('sipil-server.ts')), 'the peers are found');
  const leaks = [...importGraph(roots).entries()].filter(([file]) => FORBIDDEN.some((f) => file.startsWith(f))).map(([, chain]) => chain.map((c) => path.relative(REPO_ROOT, c)).join(' → '));
  assert.deepEqual(leaks, []);
});

test('the import graph follows type-only, re-exported and dynamic imports (the boundary test cannot be gone around)', () => {
  const dir = fs.mkdtempSync(path.join(SRC, '.boundary-probe-'));
  try {
    const probe = (name: string, text: string): string => {
      const f = path.join(dir, name);
      fs.writeFileSync(f, text);
      return f;
    };
    probe('b.ts', "export * from '../annuaire/contract.js';\n");
    probe('c.ts', "export const load = () => import('../stats/format.js');\n");
    const root = probe('a.ts', "import type { X } from './b.js';\nimport { load } from './c.js';\n");
    const reached = [...importGraph([root]).keys()].map((f) => path.relative(SRC, f));
    assert.ok(reached.includes(path.join('annuaire', 'contract.ts')), reached.join(', '));
    assert.ok(reached.includes(path.join('stats', 'format.ts')), reached.join(', '));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
