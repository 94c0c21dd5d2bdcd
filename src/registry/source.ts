// Reading the registry YAML. Two readers:
//   - the `yaml` package's Document API keeps positions (so that every problem names its
//     line) and comments (so that CLI edits keep what the IT team wrote), but it is slow on
//     big files: about 13 s for 50,000 mailboxes;
//   - js-yaml's event parser (parseRegistryFast, below) reads the same file in ~0.8 s and
//     still knows every node's offset. A cold load (the file changed by hand) uses it, and
//     falls back to the Document API for unusual or broken files and for the line of the
//     rare problem it cannot place exactly as the Document API would.
// Loads of an unchanged file go through the compiled cache (cache.ts) and edits splice one
// entry (edit.ts).
//
// File layout:
//   version: 1          # optional
//   mailboxes:
//     - address: ...    # one block mapping per mailbox
import { COLLECTION_STYLE, CORE_SCHEMA, EVENT_ID, SCALAR_STYLE, constructFromEvents, getScalarValue, parseEvents, type Event as YamlEvent } from 'js-yaml';
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
      problems.push({
        ...problem('REGISTRY_UNKNOWN_KEY', 'registry schema', -1, undefined, [key], `unknown top-level key "${key}" (expected version, mailboxes)`),
        ...(line ? { line } : {}),
      });
    } else if (key === 'version') {
      const v = isScalar(pair.value) ? pair.value.value : undefined;
      if (v !== 1)
        problems.push({
          ...problem('REGISTRY_SCHEMA', 'registry schema', -1, undefined, ['version'], `version ${String(v)} is not supported (expected 1)`),
          ...(line ? { line } : {}),
        });
    } else if (key === 'mailboxes') {
      if (pair.value === null || (isScalar(pair.value) && pair.value.value === null)) raw = [];
      else if (!isSeq(pair.value)) {
        problems.push({
          ...problem('REGISTRY_SCHEMA', 'registry schema', -1, undefined, ['mailboxes'], 'mailboxes must be a list'),
          ...(line ? { line } : {}),
        });
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
export function lineOf(
  src: { doc: Document.Parsed; lines: LineCounter },
  index: number,
  path: ReadonlyArray<string | number>,
  base = ['mailboxes'],
): number | undefined {
  const full: Array<string | number> = index < 0 ? [...base] : [...base, index, ...path];
  for (let n = full.length; n > 0; n--) {
    const node = src.doc.getIn(full.slice(0, n), true) as Node | undefined;
    if (isNode(node) && node.range) return src.lines.linePos(node.range[0]).line;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------
// The fast path. A cold load of a big file reads it with js-yaml's event parser (offsets
// into the text, no Document): about 20× faster than the Document API. It covers the
// usual shape only — a root mapping with version/mailboxes, no aliases — and gives up
// (undefined) on anything else, so that the Document path above, with its exact messages,
// still handles every unusual or broken file. Lines are found from the events' offsets;
// where an offset would not be the one the Document API reports (tags, anchors, block or
// empty scalars, unusual keys), `line` says so and the caller asks the Document path.

/** Returned by FastSource.line when only the Document API can say. */
export const ASK_DOCUMENT = Symbol('ask the Document API');

export interface FastSource {
  raw: unknown[];
  layout: Layout | undefined;
  /** The line of `path` inside mailbox `index` (as lineOf), or ASK_DOCUMENT. */
  line(index: number, path: ReadonlyArray<string | number>): number | undefined | typeof ASK_DOCUMENT;
}

class Unsure extends Error {}
const SAFE_KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;
const NOT_STRING_KEY = /^(?:true|True|TRUE|false|False|FALSE|null|Null|NULL)$/;

export function parseRegistryFast(text: string): FastSource | undefined {
  let events: YamlEvent[];
  let js: unknown;
  try {
    events = parseEvents(text, {});
    const docs = constructFromEvents(events, { source: text, schema: CORE_SCHEMA, maxAliases: 0 });
    if (docs.length !== 1) return undefined;
    js = docs[0];
  } catch {
    return undefined; // not YAML, duplicate keys, aliases...: the Document path says why
  }
  try {
    return fastSource(text, events, js);
  } catch (err) {
    if (err instanceof Unsure) return undefined;
    throw err;
  }
}

function fastSource(text: string, ev: YamlEvent[], js: unknown): FastSource {
  const root = ev[1];
  if (ev[0]?.type !== EVENT_ID.DOCUMENT || root?.type !== EVENT_ID.MAPPING || hasProps(root)) throw new Unsure();
  if (!js || typeof js !== 'object' || Array.isArray(js)) throw new Unsure();
  const top = js as Record<string, unknown>;
  for (const key of Object.keys(top)) if (!TOP_KEYS.has(key)) throw new Unsure();
  if ('version' in top && top.version !== 1) throw new Unsure();
  if (top.mailboxes !== undefined && top.mailboxes !== null && !Array.isArray(top.mailboxes)) throw new Unsure();
  const raw = (top.mailboxes as unknown[] | null | undefined) ?? [];

  let lineStarts: number[] | undefined;
  const lineAt = (offset: number): number => {
    if (!lineStarts) {
      lineStarts = [0];
      for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) lineStarts.push(i + 1);
    }
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((lineStarts[mid] as number) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };

  // The root mapping's pairs: where the mailboxes value is, and the key after it.
  let seqAt = -1;
  let nextKeyAt = -1;
  for (let i = 2; ev[i]?.type !== EVENT_ID.POP;) {
    const key = ev[i] as YamlEvent;
    const name = keyName(text, key);
    const valueAt = i + 1;
    if (seqAt !== -1 && nextKeyAt === -1) nextKeyAt = i;
    if (name === 'mailboxes') seqAt = valueAt;
    i = skip(ev, valueAt);
  }

  const items: number[] = [];
  const seq = seqAt === -1 ? undefined : ev[seqAt];
  if (seq?.type === EVENT_ID.SEQUENCE) {
    for (let i = seqAt + 1; ev[i]?.type !== EVENT_ID.POP; i = skip(ev, i)) items.push(i);
  }
  if (items.length !== raw.length) throw new Unsure();

  const startOf = (e: YamlEvent): number => {
    if (hasProps(e)) throw new Unsure();
    if (e.type === EVENT_ID.MAPPING || e.type === EVENT_ID.SEQUENCE) return e.start;
    if (e.type !== EVENT_ID.SCALAR || e.valueStart < 0) throw new Unsure();
    if (e.style === SCALAR_STYLE.PLAIN) return e.valueStart;
    if (e.style === SCALAR_STYLE.SINGLE_QUOTED || e.style === SCALAR_STYLE.DOUBLE_QUOTED) return e.valueStart - 1;
    throw new Unsure();
  };

  const layout = ((): Layout | undefined => {
    if (seq?.type !== EVENT_ID.SEQUENCE || hasProps(seq) || seq.style !== COLLECTION_STYLE.BLOCK || items.length === 0) return undefined;
    const starts: number[] = [];
    let indent = -1;
    for (const at of items) {
      const item = ev[at] as YamlEvent;
      if (item.type !== EVENT_ID.MAPPING || item.style !== COLLECTION_STYLE.BLOCK) return undefined;
      const offset = startOf(item);
      const line = lineAt(offset);
      const lineStart = (lineStarts as number[])[line - 1] as number;
      const lineEnd = text.indexOf('\n', lineStart);
      const m = /^( *)- +/.exec(text.slice(lineStart, lineEnd === -1 ? undefined : lineEnd));
      if (!m || m[0].length !== offset - lineStart) return undefined;
      const ind = m[1]?.length ?? 0;
      if (indent === -1) indent = ind;
      else if (ind !== indent) return undefined;
      if (starts.length > 0 && line - 1 <= (starts[starts.length - 1] ?? -1)) return undefined;
      starts.push(line - 1);
    }
    const textLines = lineStarts as number[];
    const lineText = (k: number): string => text.slice(textLines[k] ?? text.length, (textLines[k + 1] ?? text.length + 1) - 1);
    let end = lineText(textLines.length - 1) === '' ? textLines.length - 1 : textLines.length;
    if (nextKeyAt !== -1) {
      end = lineAt(startOf(ev[nextKeyAt] as YamlEvent)) - 1;
      while (end - 1 > (starts[starts.length - 1] ?? 0) && /^\s*(#.*)?$/.test(lineText(end - 1))) end--;
    }
    return { starts, end, indent };
  })();

  const line = (index: number, path: ReadonlyArray<string | number>): number | undefined | typeof ASK_DOCUMENT => {
    try {
      if (seqAt === -1) return undefined;
      let at = index < 0 ? seqAt : items[index];
      if (at === undefined) return ASK_DOCUMENT;
      if (index >= 0) {
        for (const step of path) {
          const child = childOf(text, ev, at, step);
          if (child === undefined) break;
          at = child;
        }
      }
      return lineAt(startOf(ev[at] as YamlEvent));
    } catch (err) {
      if (err instanceof Unsure) return ASK_DOCUMENT;
      throw err;
    }
  };
  return { raw, layout, line };
}

function hasProps(e: YamlEvent): boolean {
  if (e.type === EVENT_ID.ALIAS) return true;
  return 'tagStart' in e && (e.anchorStart !== -1 || e.tagStart !== -1);
}

/** The text of a mapping key, when the Document API would match it against a string. */
function keyName(text: string, key: YamlEvent): string {
  if (key.type !== EVENT_ID.SCALAR || hasProps(key) || key.valueStart < 0) throw new Unsure();
  const name = getScalarValue(text, key);
  if (key.style === SCALAR_STYLE.PLAIN) {
    if (!SAFE_KEY.test(name) || NOT_STRING_KEY.test(name)) throw new Unsure();
  } else if (key.style !== SCALAR_STYLE.SINGLE_QUOTED && key.style !== SCALAR_STYLE.DOUBLE_QUOTED) throw new Unsure();
  return name;
}

/** Index of the event after the node starting at `i`. */
function skip(ev: readonly YamlEvent[], i: number): number {
  const e = ev[i];
  if (e === undefined) throw new Unsure();
  if (e.type !== EVENT_ID.MAPPING && e.type !== EVENT_ID.SEQUENCE) return i + 1;
  let depth = 0;
  for (let j = i; j < ev.length; j++) {
    const t = (ev[j] as YamlEvent).type;
    if (t === EVENT_ID.MAPPING || t === EVENT_ID.SEQUENCE) depth++;
    else if (t === EVENT_ID.POP && --depth === 0) return j + 1;
  }
  throw new Unsure();
}

/** The event of `step` inside the collection at `at` (as Document.getIn), if there is one. */
function childOf(text: string, ev: readonly YamlEvent[], at: number, step: string | number): number | undefined {
  const e = ev[at] as YamlEvent;
  if (e.type === EVENT_ID.SEQUENCE) {
    if (typeof step !== 'number') throw new Unsure();
    let i = at + 1;
    for (let k = 0; ev[i]?.type !== EVENT_ID.POP; k++, i = skip(ev, i)) if (k === step) return i;
    return undefined;
  }
  if (e.type === EVENT_ID.MAPPING) {
    if (typeof step !== 'string') throw new Unsure();
    for (let i = at + 1; ev[i]?.type !== EVENT_ID.POP; i = skip(ev, i + 1)) if (keyName(text, ev[i] as YamlEvent) === step) return i + 1;
    return undefined;
  }
  return undefined;
}
