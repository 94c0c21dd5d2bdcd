// A DOM (@xmldom/xmldom) for the XML the Annuaire and SIPIL exchange, behind the same guards as
// the liste blanche (xml-bytes.ts, re-exported here). The liste blanche itself is read with
// xml-tree.ts, which does not need a DOM.
import { DOMParser, type Document, type Element, type Node } from '@xmldom/xmldom';
import { MssError } from '../errors.js';
import { LIST_GUARD } from './xml-bytes.js';

export { decodeListBytes, decodeXmlBytes, DSIG_NS, LIST_NS, type XmlGuard } from './xml-bytes.js';

/** Namespace-aware parse that refuses on any error or warning (xmldom reports, we stop). */
export function parseXml(text: string, source: string, malformedCode = LIST_GUARD.codes.malformed): Document {
  let first: string | undefined;
  const parser = new DOMParser({
    locator: false,
    // XML 1.0 §2.11 (the list is XML 1.0): only CR LF and CR become LF. xmldom's default also
    // folds U+2028, U+2029 and U+0085 (XML 1.1), which would change what the ANS signed.
    normalizeLineEndings: (s: string) => s.replace(/\r\n?/g, '\n'),
    onError: (level, msg) => {
      first ??= `${level}: ${String(msg).split('\n')[0]}`;
      throw new Error(first);
    },
  });
  let doc: Document | undefined;
  try {
    doc = parser.parseFromString(text, 'text/xml');
  } catch (err) {
    first ??= (err as Error).message.split('\n')[0];
  }
  if (first !== undefined || !doc?.documentElement) {
    throw new MssError(malformedCode, `${source}: not well-formed XML (${first ?? 'no root element'})`, { source });
  }
  return doc;
}

// ---------------------------------------------------------------- small DOM helpers

export function isElement(n: Node | null): n is Element {
  return n !== null && n.nodeType === 1;
}

/** Element children, in document order. */
export function elementChildren(parent: Node): Element[] {
  const out: Element[] = [];
  for (let n = parent.firstChild; n; n = n.nextSibling) if (isElement(n)) out.push(n);
  return out;
}

export function textOf(el: Element): string {
  return (el.textContent ?? '').trim();
}

/** Every element below `root` (root included), depth first, without recursion. */
export function* descendants(root: Element): Generator<Element> {
  const stack: Element[] = [root];
  while (stack.length > 0) {
    const el = stack.pop() as Element;
    yield el;
    for (let n = el.lastChild; n; n = n.previousSibling) if (isElement(n)) stack.push(n);
  }
}
