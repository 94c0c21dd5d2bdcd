// The static import graph of the TypeScript sources, type-only and dynamic imports included:
// the boundary and cycle tests (test/unit/boundaries.test.ts) follow what ESLint's rules
// (tools/lint/eslint.config.js) do not: imports reached through other modules, `import type`.
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './cli.js';

/** The .ts file a relative specifier names (`./x.js` → `./x.ts`), or undefined for packages. */
export function resolveImport(from: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  const base = path.resolve(path.dirname(from), spec);
  for (const candidate of [base.replace(/\.js$/, '.ts'), `${base}.ts`, path.join(base, 'index.ts')]) if (fs.existsSync(candidate)) return candidate;
  throw new Error(`${path.relative(REPO_ROOT, from)} imports ${spec}, which does not resolve to a .ts file`);
}

/**
 * The module specifiers a file names: `import … from`, `export … from`, bare `import '…'`
 * and `import('…')` (type-only ones included). Comments are removed first; a dynamic import
 * of anything but a string literal cannot be followed: refused unless `computed` is 'skip'
 * (the cycle check: a module loaded by a computed name is not part of a static cycle).
 */
export function specifiers(file: string, computed: 'refuse' | 'skip' = 'refuse'): string[] {
  const text = fs
    .readFileSync(file, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/^\s*\/\/.*$/gm, '');
  const out: string[] = [];
  for (const re of [/\b(?:import|export)\b[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/g, /\bimport\s*['"]([^'"]+)['"]/g, /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g]) {
    for (const m of text.matchAll(re)) out.push(m[1] as string);
  }
  const dynamic = /\bimport\s*\(\s*(?!['"])/.exec(text);
  if (dynamic && computed === 'refuse') throw new Error(`${path.relative(REPO_ROOT, file)}: a dynamic import of a computed specifier cannot be followed`);
  return out;
}

/**
 * The .ts files a file imports directly. With 'skip' (the cycle check), a computed dynamic
 * import and a specifier that resolves to no file (an import written inside a string, as the
 * probes of the boundary tests are) are left out: tsc already refuses a real one.
 */
export function importsOf(file: string, mode: 'refuse' | 'skip' = 'refuse'): string[] {
  const resolveOrSkip = (s: string): string | undefined => {
    try {
      return resolveImport(file, s);
    } catch (err) {
      if (mode === 'skip') return undefined;
      throw err;
    }
  };
  return specifiers(file, mode)
    .map(resolveOrSkip)
    .filter((t): t is string => t !== undefined);
}

/** Every module reached from the roots, with the chain of imports that reaches it. */
export function importGraph(roots: readonly string[]): Map<string, string[]> {
  const reached = new Map<string, string[]>(roots.map((r) => [r, [r]]));
  const todo = [...roots];
  while (todo.length > 0) {
    const file = todo.pop() as string;
    for (const target of importsOf(file)) {
      if (reached.has(target)) continue;
      reached.set(target, [...(reached.get(file) ?? []), target]);
      todo.push(target);
    }
  }
  return reached;
}

/** The strongly connected components of more than one module (Tarjan): each is an import cycle. */
export function importCycles(files: readonly string[]): string[][] {
  const edges = new Map(files.map((f) => [f, importsOf(f, 'skip')]));
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next += 1;
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? importsOf(v, 'skip')) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) as number, index.get(w) as number));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop() as string;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1) cycles.push(component.sort());
  };
  for (const f of files) if (!index.has(f)) visit(f);
  return cycles;
}

/** The .ts files under a directory, recursively. */
export function tsFilesUnder(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}
