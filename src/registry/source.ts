// Reading the registry YAML with the `yaml` package's Document API: it keeps positions (so
// that every problem names its line) and comments (so that CLI edits keep what the IT team
// wrote). It is slow on big files — about 13 s for 50,000 mailboxes — which is why loads
// go through the compiled cache (cache.ts) and edits splice one entry (edit.ts); this full
// parse runs only when the file changed by hand.
//
// File layout:
//   version: 1          # optional
//   mailboxes:
//     - address: ...    # one block mapping per mailbox
import { Document, LineCounter, isMap, isNode, isScalar, isSeq, parseDocument, type Node } from 'yaml';
import { MssError } from '../errors.js';
import { problem, type RegistryProblem } from './rules.js';

/** Where each mailbox sits in the text, for splicing one entry without a full parse. */
export interface Layout {
  /** 0-based index of the line holding each item's dash. */
  starts: number[];
  /** 0-based index of the first line after the last item (exclusive end). */
  end: number;
  /** Column of the dashes. */
  indent: number;
}

export interface ParsedSource {
  raw: unknown[];
  layout: Layout | undefined;
  doc: Document.Parsed;
  lines: LineCounter;
  /** Problems with the file's top level (unknown keys, wrong version...). */
  problems: RegistryProblem[];
}

const TOP_KEYS = new Set(['version', 'mailboxes']);

export function parseRegistryText(text: string, file: string): ParsedSource {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((e) => `${file}:${lines.linePos(e.pos[0]).line}: ${e.message.split('\n')[0]}`);
    throw new MssError('REGISTRY_YAML_INVALID', `registry file is not valid YAML (nothing was changed):\n  ${problems.join('\n  ')}`, { file, problems });
  }
  const problems: RegistryProblem[] = [];
  const contents = doc.contents;
  if (contents === null || (isScalar(contents) && (contents.value === null || contents.value === ''))) {
    return { raw: [], layout: undefined, doc, lines, problems };
  }
  if (!isMap(contents)) {
    throw new MssError('REGISTRY_YAML_INVALID', `${file}:1: the registry is a mapping with a "mailboxes" list (see examples/registry.yaml)`, { file });
  }
  let raw: unknown[] = [];
  const js = doc.toJS({ maxAliasCount: 100 }) as Record<string, unknown> | null;
  for (const pair of contents.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
    const line = isNode(pair.key) && pair.key.range ? lines.linePos(pair.key.range[0]).line : undefined;
    if (!TOP_KEYS.has(key)) {
      problems.push({ ...problem('REGISTRY_UNKNOWN_KEY', 'registry schema', -1, undefined, [key], `unknown top-level key "${key}" (expected version, mailboxes)`), ...(line ? { line } : {}) });
    } else if (key === 'version') {
      const v = isScalar(pair.value) ? pair.value.value : undefined;
      if (v !== 1) problems.push({ ...problem('REGISTRY_SCHEMA', 'registry schema', -1, undefined, ['version'], `version ${String(v)} is not supported (expected 1)`), ...(line ? { line } : {}) });
    } else if (key === 'mailboxes') {
      if (pair.value === null || (isScalar(pair.value) && pair.value.value === null)) raw = [];
      else if (!isSeq(pair.value)) {
        problems.push({ ...problem('REGISTRY_SCHEMA', 'registry schema', -1, undefined, ['mailboxes'], 'mailboxes must be a list'), ...(line ? { line } : {}) });
      } else raw = (js?.mailboxes as unknown[] | undefined) ?? [];
    }
  }
  return { raw, layout: computeLayout(text, doc, lines), doc, lines, problems };
}

/** The layout when every mailbox is a block mapping opened by "- key:" at one indentation. */
function computeLayout(text: string, doc: Document.Parsed, lines: LineCounter): Layout | undefined {
  const contents = doc.contents;
  if (!isMap(contents)) return undefined;
  const idx = contents.items.findIndex((p) => isScalar(p.key) && p.key.value === 'mailboxes');
  const pair = contents.items[idx];
  if (!pair || !isSeq(pair.value) || pair.value.flow || pair.value.items.length === 0) return undefined;
  const textLines = text.split('\n');
  const starts: number[] = [];
  let indent = -1;
  for (const item of pair.value.items) {
    if (!isMap(item) || item.flow || !item.range) return undefined;
    const pos = lines.linePos(item.range[0]);
    const lineIdx = pos.line - 1;
    const m = /^( *)- +/.exec(textLines[lineIdx] ?? '');
    if (!m || m[0].length !== pos.col - 1) return undefined;
    const ind = m[1]?.length ?? 0;
    if (indent === -1) indent = ind;
    else if (ind !== indent) return undefined;
    if (starts.length > 0 && lineIdx <= (starts[starts.length - 1] ?? -1)) return undefined;
    starts.push(lineIdx);
  }
  const next = contents.items[idx + 1];
  let end = textLines[textLines.length - 1] === '' ? textLines.length - 1 : textLines.length;
  if (next) {
    if (!isNode(next.key) || !next.key.range) return undefined;
    end = lines.linePos(next.key.range[0]).line - 1;
    // Leave the comments and blank lines that introduce the next key where they are.
    while (end - 1 > (starts[starts.length - 1] ?? 0) && /^\s*(#.*)?$/.test(textLines[end - 1] ?? '')) end--;
  }
  return { starts, end, indent };
}

/** The line of `path` inside mailbox `index`, or of its nearest existing parent. */
export function lineOf(src: { doc: Document.Parsed; lines: LineCounter }, index: number, path: ReadonlyArray<string | number>, base = ['mailboxes']): number | undefined {
  const full: Array<string | number> = index < 0 ? [...base] : [...base, index, ...path];
  for (let n = full.length; n > 0; n--) {
    const node = src.doc.getIn(full.slice(0, n), true) as Node | undefined;
    if (isNode(node) && node.range) return src.lines.linePos(node.range[0]).line;
  }
  return undefined;
}
