// A streaming reader for the Annuaire's XML (feeds of 50,000 mailboxes, reports with as
// many anomalies), where a DOM would cost seconds and hundreds of MB: xmldom needs 4 s and
// 760 MB for a 22 MB feed. The text is first guarded by decodeXmlBytes (UTF-8, no DTD, no
// processing instruction: whitelist/xml.ts); this reader then refuses anything else a DTD
// could smuggle (unknown entities, DOCTYPE) and reports every element when it closes, with
// its attributes, its direct text and the children its consumer chose to keep. Memory is
// what the consumer keeps: it drops each record once handled.
import { MssError, type ErrorCode } from '../errors.js';

export interface XAttr {
  ns: string;
  local: string;
  value: string;
}

export interface XElement {
  ns: string;
  local: string;
  attrs: XAttr[];
  /** Direct text content (entities decoded, CDATA included), concatenated. */
  text: string;
  /** Children kept by the consumer's onClose (returned true). */
  children: XElement[];
  depth: number;
  /** Offsets in the text: start of the start tag, end of the end tag. */
  start: number;
  end: number;
}

export interface ScanOptions {
  source: string;
  /** MssError code for malformed input. */
  code: ErrorCode;
  /** Called when an element starts (its attributes known, nothing of its content). */
  onOpen?: (el: XElement, ancestors: readonly XElement[]) => void;
  /** Called when an element ends; return true to keep it in its parent's children. */
  onClose: (el: XElement, ancestors: readonly XElement[]) => boolean;
}

const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
const XML_NS = 'http://www.w3.org/XML/1998/namespace';
const NAME = /^[A-Za-z_][\w.-]*(?::[A-Za-z_][\w.-]*)?$/;

export function attrValue(el: XElement, local: string, ns = ''): string | undefined {
  for (const a of el.attrs) if (a.local === local && a.ns === ns) return a.value;
  return undefined;
}

/** First kept child with this local name (and namespace, when given). */
export function child(el: XElement, local: string, ns?: string): XElement | undefined {
  for (const c of el.children) if (c.local === local && (ns === undefined || c.ns === ns)) return c;
  return undefined;
}

export function scanXml(text: string, opts: ScanOptions): XElement {
  const fail = (why: string, at: number): never => {
    throw new MssError(opts.code, `${opts.source}: not well-formed XML (${why} at offset ${at})`, { source: opts.source, offset: at });
  };
  const decode = (s: string, at: number): string => {
    if (s.indexOf('&') < 0) return s;
    return s.replace(/&([^;&\s]{1,10});/g, (_m, name: string) => {
      if (name[0] === '#') {
        const cp = name[1] === 'x' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
        if (!Number.isFinite(cp) || cp < 0x9 || cp > 0x10ffff || (cp < 0x20 && cp !== 0x9 && cp !== 0xa && cp !== 0xd))
          fail(`bad character reference &${name};`, at);
        return String.fromCodePoint(cp);
      }
      const v = PREDEFINED[name];
      if (v === undefined) fail(`undeclared entity &${name};`, at);
      return v as string;
    });
  };

  const stack: XElement[] = [];
  const qnames: string[] = [];
  // Namespace scopes: one frame per open element (undefined when it declares none).
  const scopes: Array<Map<string, string> | undefined> = [];
  const resolve = (prefix: string, at: number): string => {
    if (prefix === 'xml') return XML_NS;
    for (let i = scopes.length - 1; i >= 0; i--) {
      const v = scopes[i]?.get(prefix);
      if (v !== undefined) return v;
    }
    if (prefix === '') return '';
    return fail(`unbound namespace prefix "${prefix}"`, at);
  };
  let root: XElement | undefined;
  let i = 0;
  const n = text.length;
  if (text.startsWith('<?xml')) {
    const end = text.indexOf('?>');
    if (end < 0) fail('unterminated XML declaration', 0);
    i = end + 2;
  }
  while (i < n) {
    const lt = text.indexOf('<', i);
    const stop = lt < 0 ? n : lt;
    if (stop > i) {
      const raw = text.slice(i, stop);
      const top = stack[stack.length - 1];
      if (top) top.text += decode(raw, i);
      else if (raw.trim() !== '') fail('text outside the root element', i);
    }
    if (lt < 0) break;
    const c = text.charCodeAt(lt + 1);
    if (c === 0x21 /* ! */) {
      if (text.startsWith('<!--', lt)) {
        const end = text.indexOf('-->', lt + 4);
        if (end < 0) fail('unterminated comment', lt);
        i = end + 3;
        continue;
      }
      if (text.startsWith('<![CDATA[', lt)) {
        const end = text.indexOf(']]>', lt + 9);
        if (end < 0) fail('unterminated CDATA section', lt);
        const top = stack[stack.length - 1];
        if (!top) fail('CDATA outside the root element', lt);
        (top as XElement).text += text.slice(lt + 9, end);
        i = end + 3;
        continue;
      }
      fail('DOCTYPE or markup declaration (DTDs are refused)', lt);
    }
    if (c === 0x3f /* ? */) fail('processing instruction', lt);
    const gt = text.indexOf('>', lt + 1);
    if (gt < 0) fail('unterminated tag', lt);
    if (c === 0x2f /* / */) {
      const qname = text.slice(lt + 2, gt).trim();
      const el = stack.pop();
      const open = qnames.pop();
      if (!el || open !== qname) fail(`end tag </${qname}> does not match <${open ?? ''}>`, lt);
      scopes.pop();
      (el as XElement).end = gt + 1;
      const keep = opts.onClose(el as XElement, stack);
      if (keep && stack.length > 0) (stack[stack.length - 1] as XElement).children.push(el as XElement);
      i = gt + 1;
      continue;
    }
    // Start tag: name, attributes (quoted values may contain '>': find the real end).
    let j = lt + 1;
    while (j < n && !isSpace(text.charCodeAt(j)) && text[j] !== '>' && text[j] !== '/') j++;
    const qname = text.slice(lt + 1, j);
    if (!NAME.test(qname)) fail(`bad element name "${qname}"`, lt);
    const rawAttrs: Array<[string, string]> = [];
    let selfClosing = false;
    for (;;) {
      while (j < n && isSpace(text.charCodeAt(j))) j++;
      if (j >= n) fail('unterminated start tag', lt);
      if (text[j] === '>') {
        j++;
        break;
      }
      if (text[j] === '/' && text[j + 1] === '>') {
        selfClosing = true;
        j += 2;
        break;
      }
      const eq = text.indexOf('=', j);
      if (eq < 0) fail('attribute without value', j);
      const aname = text.slice(j, eq).trim();
      if (!NAME.test(aname)) fail(`bad attribute name "${aname}"`, j);
      let q = eq + 1;
      while (isSpace(text.charCodeAt(q))) q++;
      const quote = text[q];
      if (quote !== '"' && quote !== "'") fail('unquoted attribute value', q);
      const close = text.indexOf(quote as string, q + 1);
      if (close < 0) fail('unterminated attribute value', q);
      const value = text.slice(q + 1, close);
      if (value.includes('<')) fail('"<" in an attribute value', q);
      rawAttrs.push([aname, decode(value, q)]);
      j = close + 1;
    }
    let scope: Map<string, string> | undefined;
    for (const [name, value] of rawAttrs) {
      if (name === 'xmlns') (scope ??= new Map()).set('', value);
      else if (name.startsWith('xmlns:')) (scope ??= new Map()).set(name.slice(6), value);
    }
    scopes.push(scope);
    const colon = qname.indexOf(':');
    const el: XElement = {
      ns: resolve(colon < 0 ? '' : qname.slice(0, colon), lt),
      local: colon < 0 ? qname : qname.slice(colon + 1),
      attrs: [],
      text: '',
      children: [],
      depth: stack.length,
      start: lt,
      end: j,
    };
    for (const [name, value] of rawAttrs) {
      if (name === 'xmlns' || name.startsWith('xmlns:')) continue;
      const k = name.indexOf(':');
      el.attrs.push({ ns: k < 0 ? '' : resolve(name.slice(0, k), lt), local: k < 0 ? name : name.slice(k + 1), value });
    }
    if (stack.length === 0) {
      if (root) fail('a second root element', lt);
      root = el;
    }
    opts.onOpen?.(el, stack);
    if (selfClosing) {
      scopes.pop();
      const keep = opts.onClose(el, stack);
      if (keep && stack.length > 0) (stack[stack.length - 1] as XElement).children.push(el);
    } else {
      stack.push(el);
      qnames.push(qname);
    }
    i = j;
  }
  if (stack.length > 0) fail(`unclosed element <${qnames[qnames.length - 1]}>`, n);
  if (!root) fail('no root element', 0);
  return root as XElement;
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** Scan and keep everything (small documents: SOAP responses, headers). */
export function scanWhole(text: string, source: string, code: ErrorCode): XElement {
  return scanXml(text, { source, code, onClose: () => true });
}
