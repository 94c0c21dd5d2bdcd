// A strict, namespace-aware read of the liste blanche (readXml: events for xml-stream.ts, which
// builds only the Signature) or a parse into a small tree (parseXmlTree): elements with their
// namespace declarations and attributes, and character data; comments are dropped
// (the signature profile is exc-c14n *without* comments, so they are not part of what is
// signed, and nothing reads them). saxes does the XML 1.0 work (well-formedness, names,
// entities, attribute-value and line-end normalisation, namespace binding); any error it
// reports refuses the document.
//
// Bounds (whitelist.limits): nesting depth and the count of elements and attributes are checked
// while parsing, so that a hostile file costs at most maxBytes of text and `maxNodes` small objects, and no
// later step can recurse deeper than `maxDepth`. Nothing in this module recurses.
import { SaxesParser, type SaxesTagNS } from 'saxes';
import { MssError, type ErrorCode } from '../errors.js';

export interface XmlAttribute {
  /** As written: `prefix:local` or `local`. */
  readonly qname: string;
  readonly prefix: string;
  readonly local: string;
  /** '' for an unprefixed attribute (no namespace). */
  readonly uri: string;
  readonly value: string;
}

export interface XmlElement {
  readonly qname: string;
  readonly prefix: string;
  readonly local: string;
  /** '' when the element is in no namespace. */
  readonly uri: string;
  /** Attributes other than namespace declarations, in document order. */
  readonly attributes: readonly XmlAttribute[];
  /** Namespace declarations made on this element: [prefix ('' for the default), URI]. */
  readonly nsDecls: ReadonlyArray<readonly [string, string]>;
  /** Character data (adjacent pieces merged) and child elements, in document order. */
  readonly children: Array<XmlElement | string>;
  readonly parent: XmlElement | undefined;
  /** 1 for the root element. */
  readonly depth: number;
}

export interface XmlLimits {
  /** Deepest element nesting accepted (the root is at depth 1). */
  maxDepth: number;
  /** Most elements and attributes (together) accepted in the whole document. */
  maxNodes: number;
}

export interface XmlCodes {
  malformed: ErrorCode;
  tooComplex: ErrorCode;
  dtd: ErrorCode;
  shape: ErrorCode;
}

const NONE: never[] = [];

export function isElement(node: XmlElement | string): node is XmlElement {
  return typeof node !== 'string';
}

/** Element children, in document order. */
export function elementChildren(el: XmlElement): XmlElement[] {
  return el.children.filter(isElement);
}

/** The concatenated character data directly inside `el` (what the list's leaf elements hold). */
export function ownText(el: XmlElement): string {
  let s = '';
  for (const c of el.children) if (typeof c === 'string') s += c;
  return s;
}

/** Every element below `root` (root included), depth first, without recursion. */
export function* descendants(root: XmlElement): Generator<XmlElement> {
  const stack: XmlElement[] = [root];
  while (stack.length > 0) {
    const el = stack.pop() as XmlElement;
    yield el;
    for (let i = el.children.length - 1; i >= 0; i--) {
      const c = el.children[i] as XmlElement | string;
      if (typeof c !== 'string') stack.push(c);
    }
  }
}

/** The namespace URI bound to `prefix` ('' = default) on `el`, from its own and its ancestors' declarations. */
export function namespaceInScope(el: XmlElement, prefix: string): string | undefined {
  if (prefix === 'xml') return 'http://www.w3.org/XML/1998/namespace';
  for (let e: XmlElement | undefined = el; e; e = e.parent) {
    for (const [p, uri] of e.nsDecls) if (p === prefix) return uri;
  }
  return undefined;
}

/** What a reader of the document does with what saxes reads (xml-stream.ts, or the tree below). */
export interface XmlHandlers {
  /** An element starts; `parent` is the element it is in (undefined for the root). */
  open(el: XmlElement): void;
  close(el: XmlElement): void;
  /** Character data directly inside `el` (CDATA included), possibly in several pieces. */
  text(el: XmlElement, data: string): void;
}

/**
 * Read `text` (already decoded and screened by decodeXmlBytes) with saxes, strictly, within
 * `limits`, telling `handlers`; throws MssError with `codes`. Returns the root element (its
 * `children` are what the handlers put there).
 */
export function readXml(text: string, source: string, limits: XmlLimits, codes: XmlCodes, handlers: XmlHandlers): XmlElement {
  const parser = new SaxesParser({ xmlns: true, position: false, defaultXMLVersion: '1.0', forceXMLVersion: true });
  let root: XmlElement | undefined;
  let current: XmlElement | undefined;
  let nodes = 0;
  const tooMany = (): never =>
    fail(
      new MssError(codes.tooComplex, `${source}: more than ${limits.maxNodes} elements and attributes (whitelist.limits.maxNodes)`, {
        source,
        maxNodes: limits.maxNodes,
      }),
    );
  let stop: MssError | undefined;
  const fail = (err: MssError): never => {
    stop ??= err;
    throw err;
  };
  parser.on('error', (err) => fail(new MssError(codes.malformed, `${source}: not well-formed XML (${err.message.replace(/^[^:]*:\s*/, '')})`, { source })));
  parser.on('doctype', () =>
    fail(new MssError(codes.dtd, `${source}: contains a DOCTYPE declaration; DTDs and entities are refused (XXE, entity expansion)`, { source })),
  );
  parser.on('processinginstruction', (pi) =>
    fail(new MssError(codes.shape, `${source}: processing instruction <?${pi.target}…?>; the document has none`, { source })),
  );
  // Every attribute value follows `=` and a quote: their count bounds the attributes before
  // saxes collects any (one tag with a million attributes would otherwise be built whole).
  // Cheaper than saxes's per-attribute event, which halves its speed.
  let quotedValues = 0;
  for (const _ of text.matchAll(/=[ \t\r\n]*["']/g)) if (++quotedValues > limits.maxNodes) tooMany();
  parser.on('opentag', (tag: SaxesTagNS) => {
    nodes += 1 + Object.keys(tag.attributes).length;
    if (nodes > limits.maxNodes) tooMany();
    const depth = (current?.depth ?? 0) + 1;
    if (depth > limits.maxDepth)
      fail(
        new MssError(codes.tooComplex, `${source}: elements nested more than ${limits.maxDepth} deep (whitelist.limits.maxDepth)`, {
          source,
          maxDepth: limits.maxDepth,
        }),
      );
    let attributes: XmlAttribute[] = NONE;
    for (const name in tag.attributes) {
      const a = tag.attributes[name];
      if (!a || a.prefix === 'xmlns' || (a.prefix === '' && a.local === 'xmlns')) continue;
      if (attributes === NONE) attributes = [];
      attributes.push({ qname: a.name, prefix: a.prefix, local: a.local, uri: a.uri, value: a.value });
    }
    let nsDecls: Array<[string, string]> = NONE;
    for (const prefix in tag.ns) nsDecls = [...nsDecls, [prefix, tag.ns[prefix] as string]];
    const el: XmlElement = { qname: tag.name, prefix: tag.prefix, local: tag.local, uri: tag.uri, attributes, nsDecls, children: [], parent: current, depth };
    root ??= el;
    current = el;
    handlers.open(el);
  });
  parser.on('closetag', () => {
    if (!current) return;
    handlers.close(current);
    current = current.parent;
  });
  const onText = (data: string): void => {
    if (current && data !== '') handlers.text(current, data); // white space around the root element is not content
  };
  parser.on('text', onText);
  // Only when there is one: a cdata handler slows saxes down for the whole document.
  if (text.includes('<![CDATA[')) parser.on('cdata', onText);
  try {
    parser.write(text).close();
  } catch (err) {
    if (stop) throw stop;
    throw new MssError(codes.malformed, `${source}: not well-formed XML (${(err as Error).message})`, { source });
  }
  if (!root) throw new MssError(codes.malformed, `${source}: not well-formed XML (no root element)`, { source });
  return root;
}

/** Append character data to `el`, merging adjacent pieces (split by comments). */
export function appendText(el: XmlElement, data: string): void {
  const kids = el.children;
  const last = kids.length - 1;
  if (last >= 0 && typeof kids[last] === 'string') kids[last] += data;
  else kids.push(data);
}

const TREE: XmlHandlers = {
  open(el) {
    el.parent?.children.push(el);
  },
  close() {},
  text: appendText,
};

/** Parse into a whole tree (the reference path; xml-stream.ts reads the list without one). */
export function parseXmlTree(text: string, source: string, limits: XmlLimits, codes: XmlCodes): XmlElement {
  return readXml(text, source, limits, codes, TREE);
}
