// The trace records (header and seal lines left out) written under a traces directory, for
// tests and the sandbox self-check (`traces verify` checks the chains; this only reads).
import fs from 'node:fs';
import path from 'node:path';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a parsed JSON line whose fields the callers read by name
export type TraceLine = Record<string, any>;

export function traceLines(tracesDir: string, category = 'functional'): TraceLine[] {
  const root = path.join(tracesDir, category);
  if (!fs.existsSync(root)) return [];
  return fs
    .readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .flatMap((e) => fs.readFileSync(path.join(e.parentPath, e.name), 'utf8').trim().split('\n'))
    .map((l) => JSON.parse(l) as TraceLine)
    .filter((r) => r.kind === undefined)
    .sort((a, b) => String(a.at).localeCompare(String(b.at))); // stable: a file's order is kept
}
