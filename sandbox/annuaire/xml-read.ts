// XML as the sandbox Annuaire reads it, with the `saxes` streaming parser (namespaces,
// strict well-formedness, no DTD, no entity but the predefined ones): a caller decides at
// each closing tag whether the element stays in its parent (small parts such as the Header)
// or is dropped once read (the records of a 50,000-mailbox feed), so memory follows what is
// kept, not the message. Element positions in the text are kept for the signature check.
import { SaxesParser, type SaxesAttributeNS, type SaxesTagNS } from 'saxes';

export interface XNode {
  local: string;
  ns: string;
  /** Attributes by local name (a qualified `hl7:code` and a plain `code` both under "code"), namespace declarations excluded. */
  attrs: Map<string, string>;
  text: string;
  children: XNode[];
  /** Offsets of the element in the text: its `<` and just after its closing `>`. */
  start: number;
  end: number;
}

export class XmlRefused extends Error {}

export interface ReadOptions {
  /** Called when an element closes; return false to drop it from its parent. */
  onClose?: (el: XNode, ancestors: readonly XNode[]) => boolean;
  /** Deepest nesting accepted (a bound on what a hostile message can make us hold). */
  maxDepth?: number;
}

const XMLNS = 'http://www.w3.org/2000/xmlns/';

/** Reads the whole text; returns the root element. Throws XmlRefused on anything not well-formed. */
export function readXml(text: string, opts: ReadOptions = {}): XNode {
  const maxDepth = opts.maxDepth ?? 64;
  const parser = new SaxesParser({ xmlns: true, position: true });
  const stack: XNode[] = [];
  let root: XNode | undefined;
  let starts: number[] = [];
  parser.on('error', (err) => {
    throw new XmlRefused(err.message);
  });
  parser.on('doctype', () => {
    throw new XmlRefused('a DOCTYPE is not accepted');
  });
  parser.on('opentagstart', (tag) => {
    // Where the element starts, for the parts whose text is verified (a signed assertion in
    // the Header): the parser stands just after the name (and the character that ended it).
    const inBody = stack.length > 1 && stack[1]?.local !== 'Header';
    starts.push(inBody ? -1 : text.lastIndexOf(`<${tag.name}`, parser.position));
  });
  parser.on('opentag', (tag: SaxesTagNS) => {
    if (stack.length >= maxDepth) throw new XmlRefused(`elements nested deeper than ${maxDepth}`);
    const attrs = new Map<string, string>();
    for (const key in tag.attributes) {
      const a = tag.attributes[key] as SaxesAttributeNS;
      if (a.uri !== XMLNS) attrs.set(a.local, a.value);
    }
    const el: XNode = { local: tag.local, ns: tag.uri, attrs, text: '', children: [], start: starts.pop() ?? -1, end: -1 };
    if (tag.isSelfClosing) el.end = parser.position;
    stack.push(el);
  });
  parser.on('text', (t) => {
    const top = stack[stack.length - 1];
    // Text between child elements is layout: only leaves keep theirs.
    if (top && top.children.length === 0 && top.text.length < 1_000_000) top.text += t;
  });
  parser.on('cdata', (t) => {
    const top = stack[stack.length - 1];
    if (top) top.text += t;
  });
  parser.on('closetag', () => {
    const el = stack.pop() as XNode;
    if (el.end < 0) el.end = parser.position;
    const keep = opts.onClose ? opts.onClose(el, stack) : true;
    const parent = stack[stack.length - 1];
    if (!parent) root = el;
    else if (keep) parent.children.push(el);
  });
  parser.write(text).close();
  starts = [];
  if (!root) throw new XmlRefused('no root element');
  return root;
}

/** The first child with this local name (and namespace, when given). */
export function child(el: XNode | undefined, local: string, ns?: string): XNode | undefined {
  return el?.children.find((c) => c.local === local && (ns === undefined || c.ns === ns));
}

export function children(el: XNode | undefined, local: string, ns?: string): XNode[] {
  return el?.children.filter((c) => c.local === local && (ns === undefined || c.ns === ns)) ?? [];
}

/** Text content with surrounding white space removed (Figure 24 writes `AuthnInstant="… "` and an Issuer between spaces). */
export const trimmed = (el: XNode | undefined): string => (el ? el.text.trim() : '');

export function xmlEscape(s: string): string {
  return s.replace(/[&<>"]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&quot;'));
}
