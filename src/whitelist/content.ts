// The published shape of the liste blanche (§6.6, Tableaux 42–43), read from a document:
//   {https://listeblanche.mssante.fr/schema}ListeBlancheMSSante
//     versionFormat? DateDeGeneration ListeDomaines/Domaine*{Nom, Description,
//     DNCertificatOperateur, ResponsableContact, SupportContact, DateMAJ} Signature
// Elements this code does not know are ignored (the ANS may add fields); a structural
// problem refuses the whole list; an unusable entry (bad domain name, unparsable DN) is
// skipped and reported, because it cannot match anything anyway.
import { canonicalDn } from '../pki/dn.js';
import { isMssError } from '../errors.js';
import { refusal } from './codes.js';
import { checkGenerated } from './dates.js';
import { LIST_NS } from './xml.js';
import { elementChildren, ownText, type XmlElement } from './xml-tree.js';

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
  /** `generated` in milliseconds since the epoch (dates.ts: always a valid date). */
  readonly generatedAt: number;
  readonly versionFormat?: string;
  readonly entries: readonly WhitelistEntry[];
  readonly skipped: readonly SkippedEntry[];
}

const DOMAIN = /^(?=.{1,255}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;

function textOf(el: XmlElement): string {
  return ownText(el).trim();
}

function listChildren(parent: XmlElement, name: string): XmlElement[] {
  return elementChildren(parent).filter((e) => e.local === name && e.uri === LIST_NS);
}

function one(parent: XmlElement, name: string, source: string, required: boolean): XmlElement | undefined {
  const found = listChildren(parent, name);
  if (found.length > 1) throw refusal('WL_SHAPE', `${source}: ${found.length} ${name} elements in ${parent.local}, expected one`, { source, element: name });
  if (required && found.length === 0) throw refusal('WL_SHAPE', `${source}: no ${name} element in ${parent.local}`, { source, element: name });
  return found[0];
}

export function checkRoot(root: XmlElement, source: string): XmlElement {
  if (root.local !== 'ListeBlancheMSSante' || root.uri !== LIST_NS) {
    throw refusal('WL_WRONG_ROOT', `${source}: root element is {${root.uri}}${root.local}, expected {${LIST_NS}}ListeBlancheMSSante`, { source });
  }
  return root;
}

function entryOf(el: XmlElement): WhitelistEntry | string {
  const nom = listChildren(el, 'Nom');
  const dnEl = listChildren(el, 'DNCertificatOperateur');
  if (nom.length !== 1) return `${nom.length} Nom elements`;
  if (dnEl.length !== 1) return `${dnEl.length} DNCertificatOperateur elements`;
  const domain = textOf(nom[0] as XmlElement).toLowerCase();
  if (!DOMAIN.test(domain)) return `Nom "${domain}" is not a domain name`;
  const dn = textOf(dnEl[0] as XmlElement);
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
export function checkShape(tree: XmlElement, source: string): { root: XmlElement; generatedEl: XmlElement; versionEl?: XmlElement; liste: XmlElement } {
  const root = checkRoot(tree, source);
  const generatedEl = one(root, 'DateDeGeneration', source, true) as XmlElement;
  const versionEl = one(root, 'versionFormat', source, false);
  const liste = one(root, 'ListeDomaines', source, true) as XmlElement;
  return versionEl ? { root, generatedEl, versionEl, liste } : { root, generatedEl, liste };
}

/** The signed content of the list; `now` and `futureSkewHours` bound DateDeGeneration (dates.ts). */
export function readContent(tree: XmlElement, source: string, now: Date, futureSkewHours: number): WhitelistContent {
  const { generatedEl, versionEl, liste } = checkShape(tree, source);
  const generated = textOf(generatedEl);
  // A date that does not parse or lies in the future would poison the replay guard (sync.ts).
  const generatedAt = checkGenerated(generated, now, futureSkewHours, source);
  const entries: WhitelistEntry[] = [];
  const skipped: SkippedEntry[] = [];
  let position = 0;
  for (const el of listChildren(liste, 'Domaine')) {
    position++;
    const e = entryOf(el);
    if (typeof e === 'string') skipped.push({ position, reason: e });
    else entries.push(e);
  }
  return { generated, generatedAt, ...(versionEl ? { versionFormat: textOf(versionEl) } : {}), entries, skipped };
}
