// The published shape of the liste blanche (§6.6, Tableaux 42–43), read from a document:
//   {https://listeblanche.mssante.fr/schema}ListeBlancheMSSante
//     versionFormat? DateDeGeneration ListeDomaines/Domaine*{Nom, Description,
//     DNCertificatOperateur, ResponsableContact, SupportContact, DateMAJ} Signature
// Elements this code does not know are ignored (the ANS may add fields); a structural
// problem refuses the whole list; an unusable entry (bad domain name, unparsable DN) is
// skipped and reported, because it cannot match anything anyway.
import type { Document, Element } from '@xmldom/xmldom';
import { canonicalDn } from '../pki/dn.js';
import { isMssError } from '../errors.js';
import { refusal } from './codes.js';
import { elementChildren, LIST_NS, textOf } from './xml.js';

export interface WhitelistEntry {
  /** Lowercase: domain names are compared case-insensitively (the list has "UC-CMP.mssante.fr"). */
  readonly domain: string;
  readonly description: string;
  /** DNCertificatOperateur exactly as written in the list. */
  readonly dn: string;
  readonly dnCanonical: string;
  readonly dateMaj: string;
}

export interface SkippedEntry {
  /** Position of the Domaine element (1-based). */
  readonly position: number;
  readonly reason: string;
}

export interface WhitelistContent {
  readonly generated: string;
  readonly versionFormat?: string;
  readonly entries: readonly WhitelistEntry[];
  readonly skipped: readonly SkippedEntry[];
}

const DOMAIN = /^(?=.{1,255}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;

function listChildren(parent: Element, name: string): Element[] {
  return elementChildren(parent).filter((e) => e.localName === name && e.namespaceURI === LIST_NS);
}

function one(parent: Element, name: string, source: string, required: boolean): Element | undefined {
  const found = listChildren(parent, name);
  if (found.length > 1) throw refusal('WL_SHAPE', `${source}: ${found.length} ${name} elements in ${parent.localName}, expected one`, { source, element: name });
  if (required && found.length === 0) throw refusal('WL_SHAPE', `${source}: no ${name} element in ${parent.localName}`, { source, element: name });
  return found[0];
}

export function checkRoot(doc: Document, source: string): Element {
  const root = doc.documentElement as Element;
  if (root.localName !== 'ListeBlancheMSSante' || root.namespaceURI !== LIST_NS) {
    throw refusal('WL_WRONG_ROOT', `${source}: root element is {${root.namespaceURI ?? ''}}${root.localName}, expected {${LIST_NS}}ListeBlancheMSSante`, { source });
  }
  return root;
}

function entryOf(el: Element): WhitelistEntry | string {
  const nom = listChildren(el, 'Nom');
  const dnEl = listChildren(el, 'DNCertificatOperateur');
  if (nom.length !== 1) return `${nom.length} Nom elements`;
  if (dnEl.length !== 1) return `${dnEl.length} DNCertificatOperateur elements`;
  const domain = textOf(nom[0] as Element).toLowerCase();
  if (!DOMAIN.test(domain)) return `Nom "${domain}" is not a domain name`;
  const dn = textOf(dnEl[0] as Element);
  let dnCanonical: string;
  try {
    dnCanonical = canonicalDn(dn);
  } catch (err) {
    return isMssError(err) ? err.message : String(err);
  }
  if (dnCanonical === '') return 'empty DNCertificatOperateur';
  const description = listChildren(el, 'Description')[0];
  const dateMaj = listChildren(el, 'DateMAJ')[0];
  return { domain, description: description ? textOf(description) : '', dn, dnCanonical, dateMaj: dateMaj ? textOf(dateMaj) : '' };
}

/** Root, one DateDeGeneration, at most one versionFormat, one ListeDomaines. */
export function checkShape(doc: Document, source: string): { root: Element; generatedEl: Element; versionEl?: Element; liste: Element } {
  const root = checkRoot(doc, source);
  const generatedEl = one(root, 'DateDeGeneration', source, true) as Element;
  const versionEl = one(root, 'versionFormat', source, false);
  const liste = one(root, 'ListeDomaines', source, true) as Element;
  return versionEl ? { root, generatedEl, versionEl, liste } : { root, generatedEl, liste };
}

export function readContent(doc: Document, source: string): WhitelistContent {
  const { generatedEl, versionEl, liste } = checkShape(doc, source);
  const generated = textOf(generatedEl);
  if (!/^-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$/.test(generated)) {
    throw refusal('WL_SHAPE', `${source}: DateDeGeneration "${generated}" is not an xsd:dateTime`, { source });
  }
  const entries: WhitelistEntry[] = [];
  const skipped: SkippedEntry[] = [];
  let position = 0;
  for (const el of listChildren(liste, 'Domaine')) {
    position++;
    const e = entryOf(el);
    if (typeof e === 'string') skipped.push({ position, reason: e });
    else entries.push(e);
  }
  return { generated, ...(versionEl ? { versionFormat: textOf(versionEl) } : {}), entries, skipped };
}
