// Editing the registry file safely, for the CLI and the jobs:
//   - under a lock file, so two commands never interleave their read-modify-write;
//   - through the `yaml` Document API on the entry concerned, so the comments and layout
//     the IT team wrote survive (and everything outside that entry stays byte-identical);
//   - the whole result is validated before anything is written: on any problem the file,
//     the cache and the store are left exactly as they were;
//   - written with an atomic rename (a crash leaves the old or the new file, never half).
// Big files are not re-parsed: the entry's lines are located from the layout kept with
// the compiled cache, edited alone, and spliced back (a full Document parse of 50,000
// mailboxes takes ~13 s). Files whose layout is unusual fall back to a full Document edit.
import fs from 'node:fs';
import { Document, LineCounter, isMap, isScalar, isSeq, parseDocument, type YAMLMap } from 'yaml';
import { MssError } from '../errors.js';
import { atomicWriteFileSync } from '../util/atomic-write.js';
import { withFileLockSync } from '../util/file-lock.js';
import { contentHash, writeCompiled } from './cache.js';
import { invalid, loadRegistryText, readRegistryFile, withLine, type LoadOptions } from './load.js';
import { Registry } from './registry.js';
import { CROSS_ENTRY_RULES, validateEntries, validationContext, type RegistryProblem } from './rules.js';
import type { BalEntry } from './schema.js';
import { lineOf, parseRegistryText, type Layout } from './source.js';

/** Change one mailbox's YAML node in place. */
export type EntryOp = (item: YAMLMap, doc: Document) => void;

export type EditPlan = { kind: 'modify'; index: number; op: EntryOp } | { kind: 'append'; entry: Record<string, unknown> };

export interface EditResult {
  registry: Registry;
  /** Warnings of the new registry (errors refuse the edit). */
  warnings: readonly RegistryProblem[];
  changed: boolean;
}

const STRINGIFY = { lineWidth: 0, minContentWidth: 0 } as const;

/**
 * Apply the plan returned by `plan(current registry)` to `file`. `plan` may throw (unknown
 * BAL, refused permission): nothing is written then either.
 */
export function editRegistryFile(file: string, opts: LoadOptions, plan: (current: Registry) => EditPlan): EditResult {
  return withFileLockSync(`${file}.lock`, () => {
    const text = readRegistryFile(file);
    let current;
    try {
      current = loadRegistryText(file, text, opts);
    } catch (err) {
      if (err instanceof MssError && err.code === 'REGISTRY_INVALID') {
        throw new MssError('REGISTRY_INVALID', `${err.message}\nFix the registry file before changing it with a command.`, err.details);
      }
      throw err;
    }
    const p = plan(current.registry);
    const next = (current.layout && splice(text, current.layout, current.entries, p)) || fullEdit(text, file, p);
    const ctx = validationContext(opts);
    // Entries the splice did not touch come from the validated cache: only the changed
    // one is checked alone, and everything is checked across entries.
    const trusted = (i: number): boolean => next.changed !== undefined && i !== next.changed && i < current.entries.length;
    const v = validateEntries(next.raw, ctx, trusted);
    // Single-entry warnings of the entries not re-checked carry over from the cache.
    for (const w of current.registry.warnings) if (w.index >= 0 && trusted(w.index) && !CROSS_ENTRY_RULES.has(w.rule)) v.problems.push(w);
    const errors = v.problems.filter((x) => x.severity === 'error');
    if (errors.length > 0) {
      const located = errors.map((x) => withLine(x, locate(next.text, next.layout, file, x)));
      throw invalid(file, located, 'change refused');
    }
    const entries = v.entries as BalEntry[];
    const warnings = v.problems.filter((x) => x.severity === 'warning').map((x) => withLine(x, locate(next.text, next.layout, file, x)));
    const hash = contentHash(next.text);
    if (next.text !== text) {
      // Someone editing the file by hand meanwhile: never overwrite their change.
      if (contentHash(fs.readFileSync(file, 'utf8')) !== current.registry.hash) {
        throw new MssError('TEMPORARY_REGISTRY_CHANGED', `${file} changed while the command ran; nothing was written, run the command again`, { file });
      }
      writePreservingOwner(file, next.text);
    }
    if (opts.stateDir) writeCompiled(opts.stateDir, ctx, { hash, entries, layout: next.layout ?? null, warnings });
    return { registry: new Registry(entries, { file, hash, domains: ctx.domains, warnings }), warnings, changed: next.text !== text };
  });
}

interface NextText {
  text: string;
  raw: unknown[];
  layout: Layout | undefined;
  /** Index of the only entry changed (splice); undefined: anything may have changed. */
  changed?: number;
}

function splice(text: string, layout: Layout, entries: readonly BalEntry[], plan: EditPlan): NextText | undefined {
  const lines = text.split('\n');
  const pad = ' '.repeat(layout.indent);
  if (plan.kind === 'append') {
    const added = reindent(new Document([plan.entry]).toString(STRINGIFY), pad);
    const parsed = parseSlice(added, layout.indent);
    if (!parsed) return undefined;
    const out = [...lines.slice(0, layout.end), ...added, ...lines.slice(layout.end)];
    return {
      text: out.join('\n'),
      changed: entries.length,
      raw: [...entries, parsed.value],
      layout: { starts: [...layout.starts, layout.end], end: layout.end + added.length, indent: layout.indent },
    };
  }
  const from = layout.starts[plan.index];
  if (from === undefined) return undefined;
  const to = layout.starts[plan.index + 1] ?? layout.end;
  const slice = lines.slice(from, to);
  let blank = 0;
  while (blank < slice.length && (slice[slice.length - 1 - blank] ?? '').trim() === '') blank++;
  const parsed = parseSlice(slice.slice(0, slice.length - blank), layout.indent);
  if (!parsed) return undefined;
  plan.op(parsed.item, parsed.doc);
  const edited = [...keepOriginalLines(slice, reindent(parsed.doc.toString(STRINGIFY), pad)), ...slice.slice(slice.length - blank)];
  const check = parseSlice(edited.slice(0, edited.length - blank), layout.indent);
  if (!check) return undefined;
  const delta = edited.length - slice.length;
  const raw: unknown[] = [...entries];
  raw[plan.index] = check.value;
  return {
    text: [...lines.slice(0, from), ...edited, ...lines.slice(to)].join('\n'),
    changed: plan.index,
    raw,
    layout: { starts: layout.starts.map((s, k) => (k > plan.index ? s + delta : s)), end: layout.end + delta, indent: layout.indent },
  };
}

/** Parse the lines of one sequence item (at `indent`) as a one-item document. */
function parseSlice(lines: readonly string[], indent: number): { doc: Document.Parsed; item: YAMLMap; value: unknown } | undefined {
  const pad = ' '.repeat(indent);
  const dedented: string[] = [];
  for (const l of lines) {
    if (l.startsWith(pad)) dedented.push(l.slice(indent));
    else if (/^\s*(#.*)?$/.test(l)) dedented.push(l.trimStart());
    else return undefined;
  }
  const doc = parseDocument(dedented.join('\n'), { uniqueKeys: true });
  if (doc.errors.length > 0 || !isSeq(doc.contents) || doc.contents.items.length !== 1) return undefined;
  const item = doc.contents.items[0];
  if (!isMap(item) || item.flow) return undefined;
  const value = (doc.toJS() as unknown[])[0];
  return { doc, item, value };
}

// The Document API re-renders the whole entry; where a rendered line says the same as an
// original line (only the spacing before a comment differs), keep the original so that
// aligned comments stay aligned.
function keepOriginalLines(original: readonly string[], rendered: string[]): string[] {
  const norm = (l: string): string => l.replace(/\s+(#.*)$/, ' $1').trimEnd();
  const pool = new Map<string, string[]>();
  for (const l of original) pool.set(norm(l), [...(pool.get(norm(l)) ?? []), l]);
  return rendered.map((l) => pool.get(norm(l))?.shift() ?? l);
}

function reindent(yamlText: string, pad: string): string[] {
  return yamlText
    .replace(/\n+$/, '')
    .split('\n')
    .map((l) => (l === '' ? l : pad + l));
}

function fullEdit(text: string, file: string, plan: EditPlan): NextText {
  const doc = parseDocument(text, { uniqueKeys: true });
  if (plan.kind === 'append') {
    const seq = isMap(doc.contents) ? doc.contents.get('mailboxes', true) : undefined;
    if (isSeq(seq)) seq.add(doc.createNode(plan.entry));
    else if (isMap(doc.contents)) (doc.contents as YAMLMap).set('mailboxes', doc.createNode([plan.entry]));
    else doc.contents = doc.createNode({ version: 1, mailboxes: [plan.entry] }) as never;
  } else {
    const item = doc.getIn(['mailboxes', plan.index], true);
    if (!isMap(item)) throw new MssError('REGISTRY_INVALID', `${file}: mailbox #${plan.index} is not a mapping`, { file });
    plan.op(item, doc);
  }
  const out = doc.toString(STRINGIFY);
  const reparsed = parseRegistryText(out, file);
  return { text: out, raw: reparsed.raw, layout: reparsed.layout };
}

/** The line of a problem in the edited (not yet written) text. */
function locate(text: string, layout: Layout | undefined, file: string, p: RegistryProblem): number | undefined {
  if (p.index < 0) return undefined;
  if (layout) {
    const from = layout.starts[p.index];
    if (from === undefined) return undefined;
    const lines = text.split('\n').slice(from, layout.starts[p.index + 1] ?? layout.end);
    const counter = new LineCounter();
    const doc = parseDocument(lines.map((l) => l.slice(Math.min(layout.indent, l.length - l.trimStart().length))).join('\n'), { lineCounter: counter });
    const line = lineOf({ doc, lines: counter }, 0, p.path, []);
    return line === undefined ? from + 1 : from + line;
  }
  try {
    return lineOf(parseRegistryText(text, file), p.index, p.path);
  } catch {
    return undefined;
  }
}

function writePreservingOwner(file: string, text: string): void {
  const st = fs.statSync(file);
  atomicWriteFileSync(file, text, { mode: st.mode & 0o7777 });
  try {
    if (process.getuid?.() === 0 && (st.uid !== 0 || st.gid !== 0)) fs.chownSync(file, st.uid, st.gid);
  } catch {
    /* not fatal: the content is right, the owner is the editor's */
  }
}

/** Small helpers for entry operations. */
export function setScalar(item: YAMLMap, key: string, value: unknown): void {
  item.set(key, value);
}

export function removeKey(item: YAMLMap, key: string): void {
  item.delete(key);
}

export function seqOf(item: YAMLMap, doc: Document, key: string): import('yaml').YAMLSeq {
  const existing = item.get(key, true);
  if (isSeq(existing)) return existing;
  const seq = doc.createNode([]) as import('yaml').YAMLSeq;
  item.set(key, seq);
  return seq;
}

export function scalarValue(node: unknown): unknown {
  return isScalar(node) ? node.value : node;
}
