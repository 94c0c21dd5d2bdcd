// The published shape of the liste blanche (§6.6, Tableaux 42–43), read from a document:
//   {https://listeblanche.mssante.fr/schema}ListeBlancheMSSante
//     versionFormat? DateDeGeneration ListeDomaines/Domaine*{Nom, Description,
//     DNCertificatOperateur, ResponsableContact, SupportContact, DateMAJ} Signature
// Elements this code does not know are ignored (the ANS may add fields); a structural
// problem refuses the whole list; an unusable entry (bad domain name, unparsable DN) is
// skipped and reported, because it cannot match anything anyway.
import { canonicalDn, isMatchableDn } from '../pki/dn.js';
import { isMssError } from '../errors.js';
import { refusal } from './codes.js';
import { checkGenerated } from './dates.js';
import { LIST_NS } from './xml-bytes.js';
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

/** The fields of one Domaine, in one pass over its children (the list has ~6,500 of them). */
function entryOf(el: XmlElement): WhitelistEntry | string {
  let nom: XmlElement | undefined;
  let dnEl: XmlElement | undefined;
  let description: XmlElement | undefined;
  let dateMaj: XmlElement | undefined;
  let noms = 0;
  let dns = 0;
  for (const c of el.children) {
    if (typeof c === 'string' || c.uri !== LIST_NS) continue;
    if (c.local === 'Nom') {
      nom = c;
      noms++;
    } else if (c.local === 'DNCertificatOperateur') {
      dnEl = c;
      dns++;
    } else if (c.local === 'Description') description ??= c;
    else if (c.local === 'DateMAJ') dateMaj ??= c;
  }
  if (noms !== 1 || !nom) return `${noms} Nom elements`;
  if (dns !== 1 || !dnEl) return `${dns} DNCertificatOperateur elements`;
  const domain = textOf(nom).toLowerCase();
  if (!DOMAIN.test(domain)) return `Nom "${domain}" is not a domain name`;
  const dn = textOf(dnEl);
  let dnCanonical: string;
  try {
    dnCanonical = canonicalDn(dn);
  } catch (err) {
    return isMssError(err) ? err.message : String(err);
  }
  if (dnCanonical === '') return 'empty DNCertificatOperateur';
  if (!isMatchableDn(dnCanonical)) return `DNCertificatOperateur "${dn}" holds a character RFC 4518 prohibits (unassigned, private use…): it can match no certificate`;
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
  for (const el of liste.children) {
    if (typeof el === 'string' || el.local !== 'Domaine' || el.uri !== LIST_NS) continue;
    position++;
    const e = entryOf(el);
    if (typeof e === 'string') skipped.push({ position, reason: e });
    else entries.push(e);
  }
  return { generated, generatedAt, ...(versionEl ? { versionFormat: textOf(versionEl) } : {}), entries, skipped };
}
