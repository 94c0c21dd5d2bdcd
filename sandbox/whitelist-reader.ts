// The sandbox ANS's own reading of a liste blanche, written from the Référentiel's description
// of it (§6.6, Tableaux 42–44) and from what the sandbox host writes (whitelist-data.ts), not
// from the client's src/whitelist: the Annuaire and SIPIL peers judge our client with it, so
// a misreading in the client's code cannot also be theirs.
//
// The ANS reads the list it wrote: it is strict where the client must be tolerant. Anything
// outside Tableaux 42–43, a value longer than they allow, a date that is not an xsd:dateTime
// or a DNCertificatOperateur not in Tableau 44's form refuses the whole list (a sandbox bug,
// named with the table that forbids it), where the client skips or ignores what it cannot use
// in a list it did not write. The Signature (Tableau 42, XMLDSig §6.6.2) is allowed and not
// checked: verifying the list is the operators' duty (EX_2.2_5040), the ANS knows what it signed.
import { DOMParser, type Element, type Node } from '@xmldom/xmldom';
import { MssError, type ErrorCode } from '../src/errors.js';
import { parseDn, type Dn } from '../src/pki/dn.js';
import { LIST_NAMESPACE } from './whitelist-data.js';

const DSIG_NAMESPACE = 'http://www.w3.org/2000/09/xmldsig#';

/** The sandbox's list is a few kB; the real one 3.7 MB. Bounded memory for a file gone wrong. */
export const MAX_LIST_BYTES = 64 * 1024 * 1024;

/** One Domaine of ListeDomaines (Tableau 43), as the ANS wrote it. */
export interface AnsListEntry {
  /** Nom, lowercase (domain names compare without case). */
  readonly domain: string;
  readonly description: string;
  /** DNCertificatOperateur as written. */
  readonly dn: string;
  readonly dateMaj?: string;
}

/** Who may act for which domain, by the ANS's list: what the Annuaire and SIPIL ask of it. */
export class AnsList {
  private readonly dnsByDomain = new Map<string, Set<string>>();
  private readonly domainsByDn = new Map<string, string[]>();

  constructor(
    readonly generated: string,
    readonly entries: readonly AnsListEntry[],
    readonly versionFormat?: string,
  ) {
    for (const e of entries) {
      // EX_LBL_5010: a DN may serve several domains and a domain may have several DNs.
      const key = parseDn(e.dn).canonical;
      const dns = this.dnsByDomain.get(e.domain) ?? new Set<string>();
      this.dnsByDomain.set(e.domain, dns);
      if (dns.has(key)) continue;
      dns.add(key);
      this.domainsByDn.set(key, [...(this.domainsByDn.get(key) ?? []), e.domain]);
    }
  }

  hasDomain(domain: string): boolean {
    return this.dnsByDomain.has(domain.toLowerCase());
  }

  /** Domains listed for a certificate subject (a Dn from a certificate, or a DN string). */
  domainsOf(dn: Dn | string): readonly string[] {
    const key = canonicalOrUndefined(dn);
    return key === undefined ? [] : (this.domainsByDn.get(key) ?? []);
  }

  hasDn(dn: Dn | string): boolean {
    return this.domainsOf(dn).length > 0;
  }

  /** Is this certificate subject listed for this domain? */
  allows(dn: Dn | string, domain: string): boolean {
    const key = canonicalOrUndefined(dn);
    return key !== undefined && (this.dnsByDomain.get(domain.toLowerCase())?.has(key) ?? false);
  }
}

function canonicalOrUndefined(dn: Dn | string): string | undefined {
  if (typeof dn !== 'string') return dn.canonical;
  try {
    return parseDn(dn).canonical;
  } catch {
    return undefined; // not a DN: listed nowhere
  }
}

// ---------------------------------------------------------------- reading

function refuse(code: ErrorCode, source: string, message: string, details: Record<string, unknown> = {}): MssError {
  return new MssError(code, `${source}: ${message}`, { source, ...details });
}

/** Tableau 42, the parameters of the list: [name, namespace, at least, at most, max length]. */
const ROOT_PARAMETERS = [
  ['versionFormat', LIST_NAMESPACE, 0, 1, 50],
  ['DateDeGeneration', LIST_NAMESPACE, 1, 1, undefined],
  ['ListeDomaines', LIST_NAMESPACE, 1, 1, undefined],
  ['Signature', DSIG_NAMESPACE, 0, 1, undefined],
] as const;

/** Tableau 43, the fields of one domain (ResponsableContact, SupportContact: « Champs non utilisé »). */
const DOMAIN_FIELDS = [
  ['Nom', 1, 255],
  ['Description', 0, 255],
  ['DNCertificatOperateur', 1, 255],
  ['ResponsableContact', 0, undefined],
  ['SupportContact', 0, undefined],
  ['DateMAJ', 0, undefined],
] as const;

/** Tableau 44: the attributes of DNCertificatOperateur, « dans l'ordre indiqué dans le tableau ». */
const DN_ATTRIBUTES = ['CN', 'OU', 'O', 'ST', 'C'] as const;

// xsd:dateTime as Tableaux 42–43 print it: [-]CCYY-MM-DDThh:mm:ss[.s][Z|(+|-)hh:mm].
const XSD_DATE_TIME = /^-?(\d{4,})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:Z|[+-](\d{2}):(\d{2}))?$/;
// A mail domain name (« ch-xyz.mssante.fr »): labels of letters, digits and inner hyphens.
const DOMAIN_NAME = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;

function isXsdDateTime(text: string): boolean {
  const m = XSD_DATE_TIME.exec(text);
  if (!m) return false;
  const [month = 0, day = 0, hour = 0, minute = 0, second = 0, tzHour = 0, tzMinute = 0] = m.slice(2).map((v) => (v === undefined ? 0 : Number(v)));
  const endOfDay = hour === 24 && minute === 0 && second === 0; // xsd:dateTime allows 24:00:00
  return month >= 1 && month <= 12 && day >= 1 && day <= 31 && (hour <= 23 || endOfDay) && minute <= 59 && second <= 59 && tzHour <= 14 && tzMinute <= 59;
}

function children(parent: Node): Element[] {
  const out: Element[] = [];
  for (let n = parent.firstChild; n; n = n.nextSibling) if (n.nodeType === 1) out.push(n as Element);
  return out;
}

const nameOf = (el: Element): string => `{${el.namespaceURI ?? ''}}${el.localName}`;

/** The ANS's list from its bytes; throws MssError SANDBOX_LIST_* naming the table it breaks. */
export function readAnsList(bytes: Uint8Array, source: string): AnsList {
  if (bytes.length > MAX_LIST_BYTES) throw refuse('SANDBOX_LIST_UNREADABLE', source, `${bytes.length} bytes, more than ${MAX_LIST_BYTES}`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw refuse('SANDBOX_LIST_UNREADABLE', source, 'not UTF-8 (Tableau 43: RFC 2253 « UTF-8 String »)');
  }
  // The list the host writes has no DTD; a parser must never expand one.
  if (/<!DOCTYPE/i.test(text)) throw refuse('SANDBOX_LIST_UNREADABLE', source, 'has a DOCTYPE');
  let problem: string | undefined;
  let root: Element | null = null;
  try {
    const parser = new DOMParser({
      onError: (level, message) => {
        problem ??= `${level}: ${String(message).split('\n')[0]}`;
        throw new Error(problem); // stop at the first error or warning: the host writes neither
      },
    });
    root = parser.parseFromString(text, 'text/xml').documentElement;
  } catch (err) {
    problem ??= (err as Error).message.split('\n')[0];
  }
  if (problem !== undefined || !root) throw refuse('SANDBOX_LIST_UNREADABLE', source, `not well-formed XML (${problem ?? 'no root element'})`);
  if (root.localName !== 'ListeBlancheMSSante' || root.namespaceURI !== LIST_NAMESPACE) {
    throw refuse('SANDBOX_LIST_SHAPE', source, `root element ${nameOf(root)}, the host writes {${LIST_NAMESPACE}}ListeBlancheMSSante`);
  }
  const top = children(root);
  for (const el of top) {
    if (!ROOT_PARAMETERS.some(([name, ns]) => el.localName === name && el.namespaceURI === ns)) {
      throw refuse('SANDBOX_LIST_SHAPE', source, `${nameOf(el)} is not a parameter of the list (Tableau 42)`, { element: el.localName });
    }
  }
  const values = new Map<string, string>();
  for (const [name, ns, min, max, maxLength] of ROOT_PARAMETERS) {
    const found = top.filter((el) => el.localName === name && el.namespaceURI === ns);
    if (found.length < min || found.length > max) {
      throw refuse('SANDBOX_LIST_SHAPE', source, `${found.length} ${name} in the list, Tableau 42 wants ${min === max ? min : `${min} to ${max}`}`, {
        element: name,
      });
    }
    const value = found[0] && name !== 'ListeDomaines' && name !== 'Signature' ? textOf(found[0]) : undefined;
    if (value !== undefined) {
      checkLength(value, name, maxLength, 'Tableau 42', source);
      values.set(name, value);
    }
  }
  const generated = values.get('DateDeGeneration') as string;
  if (!isXsdDateTime(generated)) throw refuse('SANDBOX_LIST_DATE', source, `DateDeGeneration « ${generated} » is not an xsd:dateTime (Tableau 42)`);
  const liste = top.find((el) => el.localName === 'ListeDomaines') as Element;
  const entries = children(liste).map((domaine, i) => readDomaine(domaine, `${source}, Domaine ${i + 1}`));
  return new AnsList(generated, entries, values.get('versionFormat'));
}

function textOf(el: Element): string {
  return (el.textContent ?? '').trim();
}

function checkLength(value: string, name: string, max: number | undefined, table: string, where: string): void {
  if (max !== undefined && [...value].length > max) {
    throw refuse('SANDBOX_LIST_SHAPE', where, `${name} has ${[...value].length} characters, ${table} allows ${max}`, { element: name });
  }
}

function readDomaine(domaine: Element, where: string): AnsListEntry {
  if (domaine.localName !== 'Domaine' || domaine.namespaceURI !== LIST_NAMESPACE) {
    throw refuse('SANDBOX_LIST_SHAPE', where, `${nameOf(domaine)} in ListeDomaines, the host writes one Domaine per domain (Tableau 43)`);
  }
  const fields = children(domaine);
  for (const el of fields) {
    if (!DOMAIN_FIELDS.some(([name]) => el.localName === name) || el.namespaceURI !== LIST_NAMESPACE) {
      throw refuse('SANDBOX_LIST_SHAPE', where, `${nameOf(el)} is not a field of a domain (Tableau 43)`, { element: el.localName });
    }
  }
  const value = new Map<string, string>();
  for (const [name, min, maxLength] of DOMAIN_FIELDS) {
    const found = fields.filter((el) => el.localName === name);
    if (found.length < min || found.length > 1) {
      throw refuse('SANDBOX_LIST_SHAPE', where, `${found.length} ${name} in the domain, Tableau 43 wants ${min === 1 ? 'one' : 'at most one'}`, {
        element: name,
      });
    }
    if (found[0]) {
      const text = textOf(found[0]);
      checkLength(text, name, maxLength, 'Tableau 43', where);
      value.set(name, text);
    }
  }
  const domain = value.get('Nom') as string;
  if (!DOMAIN_NAME.test(domain)) throw refuse('SANDBOX_LIST_SHAPE', where, `Nom « ${domain} » is not a domain name (Tableau 43)`, { element: 'Nom' });
  const dn = value.get('DNCertificatOperateur') as string;
  checkOperatorDn(dn, where);
  const dateMaj = value.get('DateMAJ');
  if (dateMaj !== undefined && !isXsdDateTime(dateMaj)) throw refuse('SANDBOX_LIST_DATE', where, `DateMAJ « ${dateMaj} » is not an xsd:dateTime (Tableau 43)`);
  return { domain: domain.toLowerCase(), description: value.get('Description') ?? '', dn, ...(dateMaj !== undefined ? { dateMaj } : {}) };
}

/** Tableau 43: an RFC 2253 string; Tableau 44: CN, OU, O, ST, C in that order, one each, C=FR. */
function checkOperatorDn(dn: string, where: string): void {
  let parsed: Dn;
  try {
    parsed = parseDn(dn);
  } catch (err) {
    throw refuse('SANDBOX_LIST_DN', where, `DNCertificatOperateur « ${dn} » is not an RFC 2253 DN (Tableau 43): ${(err as Error).message}`);
  }
  const types = parsed.rdns.map((rdn) => rdn.map((a) => a.type).join('+'));
  if (types.join(',') !== DN_ATTRIBUTES.join(',')) {
    throw refuse(
      'SANDBOX_LIST_DN',
      where,
      `DNCertificatOperateur « ${dn} » has ${types.join(',')}; Tableau 44 wants ${DN_ATTRIBUTES.join(',')} in that order`,
      {
        attributes: types,
      },
    );
  }
  const country = parsed.rdns[4]?.[0]?.value;
  if (country !== 'FR') throw refuse('SANDBOX_LIST_DN', where, `DNCertificatOperateur « ${dn} » has C=${country ?? ''}; Tableau 44 wants C=FR`);
}
