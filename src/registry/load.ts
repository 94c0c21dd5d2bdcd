// Load a registry file: from the compiled cache when the file's content was validated
// before, otherwise by parsing the YAML and validating everything. An invalid registry is
// refused as a whole, with every problem naming its file, line, key, mailbox and rule.
import fs from 'node:fs';
import { MssError } from '../errors.js';
import { contentHash, readCompiled, writeCompiled } from './cache.js';
import { Registry } from './registry.js';
import { formatProblem, validateEntries, validationContext, type RegistryProblem, type ValidationContext } from './rules.js';
import type { BalEntry } from './schema.js';
import { ASK_DOCUMENT, lineOf, parseRegistryFast, parseRegistryText, type Layout, type ParsedSource } from './source.js';

export interface LoadOptions extends ValidationContext {
  /** Where the compiled cache lives (state.dir); without it every load parses the YAML. */
  stateDir?: string;
}

export interface LoadedText {
  registry: Registry;
  text: string;
  layout: Layout | undefined;
  entries: BalEntry[];
  fromCache: boolean;
}

export function loadRegistry(file: string, opts: LoadOptions): Registry {
  const bytes = readRegistryBytes(file);
  // A cache hit needs only the content's hash, not the decoded text.
  const cached = opts.stateDir ? fromCache(file, contentHash(bytes), opts) : undefined;
  return cached ?? loadRegistryText(file, bytes.toString('utf8'), opts).registry;
}

/** The registry for this content hash from the compiled cache, if it is there. */
export function fromCache(file: string, hash: string, opts: LoadOptions): Registry | undefined {
  if (!opts.stateDir) return undefined;
  const ctx: ValidationContext = validationContext(opts);
  const c = readCompiled(opts.stateDir, hash, ctx);
  return c ? new Registry(c.entries, { file, hash, domains: ctx.domains, warnings: c.warnings }) : undefined;
}

export function readRegistryFile(file: string): string {
  return readRegistryBytes(file).toString('utf8');
}

export function readRegistryBytes(file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new MssError(
      code === 'ENOENT' ? 'REGISTRY_NOT_FOUND' : 'REGISTRY_UNREADABLE',
      code === 'ENOENT'
        ? `registry file ${file} does not exist (registry.file in the configuration; see examples/registry.yaml)`
        : `cannot read registry file ${file}: ${(err as Error).message}`,
      { file },
    );
  }
}

export function loadRegistryText(file: string, text: string, opts: LoadOptions): LoadedText {
  const hash = contentHash(text);
  const ctx: ValidationContext = validationContext(opts);
  if (opts.stateDir) {
    const c = readCompiled(opts.stateDir, hash, ctx);
    if (c) {
      return {
        registry: new Registry(c.entries, { file, hash, domains: ctx.domains, warnings: c.warnings }),
        text,
        layout: c.layout ?? undefined,
        entries: c.entries,
        fromCache: true,
      };
    }
  }
  // The fast reader when it can (the usual file); the Document API otherwise, and for the
  // lines of the few problems the fast reader cannot place exactly as it would.
  const fast = parseRegistryFast(text);
  let doc: ParsedSource | undefined;
  const slow = (): ParsedSource => (doc ??= parseRegistryText(text, file));
  const src = fast ?? slow();
  const v = validateEntries(src.raw, ctx);
  const at = (p: RegistryProblem): number | undefined => {
    const line = fast ? fast.line(p.index, p.path) : ASK_DOCUMENT;
    return line === ASK_DOCUMENT ? lineOf(slow(), p.index, p.path) : line;
  };
  const problems = [...(fast ? [] : slow().problems), ...v.problems].map((p) => (p.line !== undefined ? p : withLine(p, at(p))));
  const errors = problems.filter((p) => p.severity === 'error');
  if (errors.length > 0) throw invalid(file, errors);
  const entries = v.entries as BalEntry[];
  const warnings = problems.filter((p) => p.severity === 'warning');
  if (opts.stateDir) writeCompiled(opts.stateDir, ctx, { hash, entries, layout: src.layout ?? null, warnings });
  return { registry: new Registry(entries, { file, hash, domains: ctx.domains, warnings }), text, layout: src.layout, entries, fromCache: false };
}

export function withLine(p: RegistryProblem, line: number | undefined): RegistryProblem {
  return line === undefined ? p : { ...p, line };
}

export function invalid(file: string, errors: readonly RegistryProblem[], prefix = 'registry is invalid'): MssError {
  const shown = errors.slice(0, 50).map((p) => formatProblem(p, file));
  if (errors.length > 50) shown.push(`… and ${errors.length - 50} more`);
  return new MssError(
    'REGISTRY_INVALID',
    `${prefix} (${errors.length} problem${errors.length > 1 ? 's' : ''}; nothing was changed):\n  ${shown.join('\n  ')}`,
    { file, problems: errors },
  );
}
