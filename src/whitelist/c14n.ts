// Exclusive XML Canonicalization 1.0 without comments (http://www.w3.org/2001/10/xml-exc-c14n#),
// the one canonicalization Tableau 45 allows, of an element of an XmlElement tree: the apex
// and its descendants, optionally minus one child subtree (the enveloped-signature transform
// removes the Signature). Iterative, so that no document can exhaust the stack; output goes
// to a sink in pieces, so that the digest can be computed without holding a second copy.
//
// The rules (Exc-C14N §3, C14N 1.0 §2.3):
//   - a namespace declaration is output on an element that visibly utilises its prefix (its
//     own prefix, or an attribute's), unless the nearest output ancestor already output the
//     same prefix with the same URI; xmlns="" only to undo an output non-empty default;
//   - prefixes of the InclusiveNamespaces PrefixList ("#default" for the default namespace)
//     follow Canonical XML instead: output whenever in scope and not already in scope with the
//     same URI at the output parent;
//   - namespace declarations sorted by prefix (default first), attributes by (namespace URI,
//     local name), both in code point order; values escaped as the specifications say;
//   - empty elements as start-end tag pairs; character data escaped; comments dropped (the tree
//     holds none).
// Checked against xml-crypto's canonicalizer and libxml2 (xmllint --exc-c14n) by the tests.
import { namespaceInScope, type XmlElement } from './xml-tree.js';

export interface C14nOptions {
  /** InclusiveNamespaces PrefixList ("#default" names the default namespace). */
  inclusivePrefixes?: readonly string[];
  /** A child of the apex left out, with its subtree (the enveloped Signature). */
  exclude?: XmlElement;
}

const XML_NS = 'http://www.w3.org/XML/1998/namespace';

/** Code point order (UTF-16 code unit order differs above U+FFFF). */
function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i) as number;
    const y = b.codePointAt(i) as number;
    if (x !== y) return x - y;
    if (x > 0xffff) i++;
  }
  return a.length - b.length;
}

function escapeText(s: string): string {
  return /[&<>\r]/.test(s) ? s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#xD;') : s;
}

function escapeAttribute(s: string): string {
  return /[&<"\t\n\r]/.test(s)
    ? s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;').replace(/\t/g, '&#x9;').replace(/\n/g, '&#xA;').replace(/\r/g, '&#xD;')
    : s;
}

/** prefix → URI output so far on the path from the apex (copy-on-write per element). */
type Rendered = ReadonlyMap<string, string>;
// The xml prefix is bound by definition and never declared in the output.
const INITIAL: Rendered = new Map([['xml', XML_NS]]);

/** The start tag of `el`; `scope.rendered` becomes what its children inherit. */
function startTag(el: XmlElement, scope: { rendered: Rendered }, inclusive: ReadonlySet<string>, isApex: boolean): string {
  const rendered = scope.rendered;
  // Fast path, nearly every element of the list: no attribute, namespace already output.
  if (el.attributes.length === 0 && inclusive.size === 0 && (rendered.get(el.prefix) === el.uri || (el.uri === '' && el.prefix === '' && !rendered.get('')))) {
    return `<${el.qname}>`;
  }
  const out: Array<[string, string]> = [];
  // Exclusive rule: the prefixes the element visibly utilises ('' = default namespace).
  const wanted = new Map<string, string>([[el.prefix, el.uri]]);
  for (const a of el.attributes) if (a.prefix !== '' && a.prefix !== 'xml') wanted.set(a.prefix, a.uri);
  for (const [prefix, uri] of wanted) {
    if (inclusive.has(prefix === '' ? '#default' : prefix)) continue;
    const before = rendered.get(prefix);
    if (prefix === '' ? (uri === '' ? before !== undefined && before !== '' : before !== uri) : before !== uri) out.push([prefix, uri]);
  }
  // InclusiveNamespaces PrefixList: Canonical XML rule (in scope here, not the same at the parent).
  for (const name of inclusive) {
    const prefix = name === '#default' ? '' : name;
    if (prefix === 'xml' || prefix === 'xmlns') continue;
    const uri = namespaceInScope(el, prefix) ?? (prefix === '' ? '' : undefined);
    if (uri === undefined) continue;
    const parentUri = isApex || !el.parent ? undefined : (namespaceInScope(el.parent, prefix) ?? (prefix === '' ? '' : undefined));
    if (prefix === '' ? (uri === '' ? parentUri !== undefined && parentUri !== '' : parentUri !== uri) : parentUri !== uri) out.push([prefix, uri]);
  }
  let text = `<${el.qname}`;
  if (out.length > 0) {
    out.sort((a, b) => compareCodePoints(a[0], b[0]));
    const copy = new Map(rendered);
    for (const [prefix, uri] of out) {
      text += prefix === '' ? ` xmlns="${escapeAttribute(uri)}"` : ` xmlns:${prefix}="${escapeAttribute(uri)}"`;
      copy.set(prefix, uri);
    }
    scope.rendered = copy;
  }
  if (el.attributes.length > 0) {
    const attrs =
      el.attributes.length === 1 ? el.attributes : [...el.attributes].sort((a, b) => compareCodePoints(a.uri, b.uri) || compareCodePoints(a.local, b.local));
    for (const a of attrs) text += ` ${a.qname}="${escapeAttribute(a.value)}"`;
  }
  return `${text}>`;
}

/** Feed the exclusive canonical form of `apex` to `sink`, in document order. */
export function canonicalize(apex: XmlElement, sink: (piece: string) => void, opts: C14nOptions = {}): void {
  const inclusive = new Set(opts.inclusivePrefixes ?? []);
  const initial = INITIAL;
  interface Frame {
    el: XmlElement;
    rendered: Rendered;
    next: number;
  }
  const top: Frame = { el: apex, rendered: initial, next: 0 };
  sink(startTag(apex, top, inclusive, true));
  const stack: Frame[] = [top];
  while (stack.length > 0) {
    const frame = stack[stack.length - 1] as Frame;
    const kids = frame.el.children;
    if (frame.next >= kids.length) {
      sink(`</${frame.el.qname}>`);
      stack.pop();
      continue;
    }
    const child = kids[frame.next++] as XmlElement | string;
    if (typeof child === 'string') {
      sink(escapeText(child));
      continue;
    }
    if (child === opts.exclude) continue;
    const next: Frame = { el: child, rendered: frame.rendered, next: 0 };
    sink(startTag(child, next, inclusive, false));
    stack.push(next);
  }
}

/** The canonical form as one string (tests, SignedInfo). */
export function canonicalString(apex: XmlElement, opts: C14nOptions = {}): string {
  const pieces: string[] = [];
  canonicalize(apex, (p) => pieces.push(p), opts);
  return pieces.join('');
}

const NO_PREFIXES: ReadonlySet<string> = new Set();

/**
 * The same canonical form, fed element by element as a parser reads them (xml-stream.ts), for
 * an empty InclusiveNamespaces PrefixList: what `canonicalize` gives for the same tree.
 */
export class ExclusiveC14nStream {
  private readonly scopes: Rendered[] = [];
  constructor(private readonly sink: (piece: string) => void) {}

  open(el: XmlElement): void {
    const scope = { rendered: this.scopes[this.scopes.length - 1] ?? INITIAL };
    this.sink(startTag(el, scope, NO_PREFIXES, this.scopes.length === 0));
    this.scopes.push(scope.rendered);
  }

  text(data: string): void {
    this.sink(escapeText(data));
  }

  close(el: XmlElement): void {
    this.sink(`</${el.qname}>`);
    this.scopes.pop();
  }
}
