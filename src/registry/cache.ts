// The compiled cache: the validated mailboxes of one registry text, stored as JSON under
// state.dir and keyed by the SHA-256 of the file's content and of what validation depends
// on (managed domains, FINESS registration, this code's schema version). Parsing and
// validating the YAML costs ~2 s for 50,000 mailboxes (source.ts); JSON.parse of the same
// data ~0.2 s. Only validated results are stored, so a cache hit needs no re-validation; a
// changed file, a changed configuration or a new version of the rules is a miss.
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { atomicWriteFileSync } from '../util/atomic-write.js';
import type { RegistryProblem, ValidationContext } from './rules.js';
import type { BalEntry } from './schema.js';
import type { Layout } from './source.js';

/** Bump when schema.ts or rules.ts change what a valid registry is. */
export const RULES_VERSION = 1;
const KEEP = 4;

export interface CompiledFile {
  format: 1;
  rules: number;
  hash: string;
  context: string;
  entries: BalEntry[];
  layout: Layout | null;
  warnings: RegistryProblem[];
}

export function contentHash(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex');
}

export function contextKey(ctx: ValidationContext): string {
  return contentHash(
    JSON.stringify({
      rules: RULES_VERSION,
      domains: [...ctx.domains].sort(),
      finess: ctx.finessRegistered,
      juridique: [...(ctx.finessJuridique ?? [])].sort(),
    }),
  ).slice(0, 16);
}

function cacheDir(stateDir: string): string {
  return path.join(stateDir, 'registry-cache');
}

function cacheFile(stateDir: string, hash: string, ctx: string): string {
  return path.join(cacheDir(stateDir), `${hash}-${ctx}.json`);
}

export function readCompiled(stateDir: string, hash: string, ctx: ValidationContext): CompiledFile | undefined {
  const key = contextKey(ctx);
  let text: string;
  try {
    text = fs.readFileSync(cacheFile(stateDir, hash, key), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const c = JSON.parse(text) as CompiledFile;
    if (c.format !== 1 || c.rules !== RULES_VERSION || c.hash !== hash || c.context !== key || !Array.isArray(c.entries)) return undefined;
    return c;
  } catch {
    return undefined;
  }
}

/** Best effort: a cache that cannot be written only costs time on the next load. */
export function writeCompiled(stateDir: string, ctx: ValidationContext, data: Omit<CompiledFile, 'format' | 'rules' | 'context'>): void {
  const key = contextKey(ctx);
  const file: CompiledFile = { format: 1, rules: RULES_VERSION, context: key, ...data };
  try {
    atomicWriteFileSync(cacheFile(stateDir, data.hash, key), JSON.stringify(file));
    const dir = cacheDir(stateDir);
    const old = fs
      .readdirSync(dir)
      .filter((n) => n.endsWith('.json'))
      .map((n) => ({ n, t: fs.statSync(path.join(dir, n)).mtimeMs }))
      .sort((a, b) => b.t - a.t)
      .slice(KEEP);
    for (const o of old) fs.rmSync(path.join(dir, o.n), { force: true });
  } catch {
    /* read-only state dir, disk full: the next load parses the YAML again */
  }
}
