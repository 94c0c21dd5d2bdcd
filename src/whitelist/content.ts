// The published shape of the liste blanche (§6.6, Tableaux 42–43), read from a document:
//   {https://listeblanche.mssante.fr/schema}ListeBlancheMSSante
//     versionFormat? DateDeGeneration ListeDomaines/Domaine*{Nom, Description,
//     DNCertificatOperateur, ResponsableContact, SupportContact, DateMAJ} Signature
// Elements this code does not know are ignored (the ANS may add fields); a structural
// problem refuses the whole list; an unusable entry (bad domain name, unparsable DN) is
// skipped and reported, because it cannot match anything anyway.
import { canonicalDn, isMatchableDn } from '../pki/dn.js';
import { isMssError } from '../errors.js';
import { whitelistRefused } from './codes.js';
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

/** At most one `name` child in the list namespace (exactly one when `required`), by count. */
export function checkCount(count: number, name: string, parent: string, source: string, required: boolean): void {
  if (count > 1) throw whitelistRefused('WL_SHAPE', `${source}: ${count} ${name} elements in ${parent}, expected one`, { source, element: name });
  if (required && count === 0) throw whitelistRefused('WL_SHAPE', `${source}: no ${name} element in ${parent}`, { source, element: name });
}

function one(parent: XmlElement, name: string, source: string, required: boolean): XmlElement | undefined {
  const found = listChildren(parent, name);
  checkCount(found.length, name, parent.local, source, required);
  return found[0];
}

export function checkRoot(root: Pick<XmlElement, 'local' | 'uri'>, source: string): void {
  if (root.local !== 'ListeBlancheMSSante' || root.uri !== LIST_NS) {
    throw whitelistRefused('WL_WRONG_ROOT', `${source}: root element is {${root.uri}}${root.local}, expected {${LIST_NS}}ListeBlancheMSSante`, { source });
  }
}

/** The root's children (Tableau 42): one DateDeGeneration, at most one versionFormat, one ListeDomaines. */
export const ROOT_CHILDREN: ReadonlyArray<readonly [string, boolean]> = [
  ['DateDeGeneration', true],
  ['versionFormat', false],
  ['ListeDomaines', true],
];

/** The text of the fields of one Domaine this code reads (own text of each, untrimmed). */
export interface DomaineFields {
  noms: string[];
  dns: string[];
  description?: string;
  dateMaj?: string;
}

/** The fields of one Domaine element of a tree, in one pass over its children. */
function fieldsOf(el: XmlElement): DomaineFields {
  const f: DomaineFields = { noms: [], dns: [] };
  for (const c of el.children) {
    if (typeof c === 'string' || c.uri !== LIST_NS) continue;
    if (c.local === 'Nom') f.noms.push(ownText(c));
    else if (c.local === 'DNCertificatOperateur') f.dns.push(ownText(c));
    else if (c.local === 'Description') f.description ??= ownText(c);
    else if (c.local === 'DateMAJ') f.dateMaj ??= ownText(c);
  }
  return f;
}

/** One entry, or why it is skipped (it could not match anything). */
export function entryFrom(f: DomaineFields): WhitelistEntry | string {
  if (f.noms.length !== 1) return `${f.noms.length} Nom elements`;
  if (f.dns.length !== 1) return `${f.dns.length} DNCertificatOperateur elements`;
  const domain = (f.noms[0] as string).trim().toLowerCase();
  if (!DOMAIN.test(domain)) return `Nom "${domain}" is not a domain name`;
  const dn = (f.dns[0] as string).trim();
  let dnCanonical: string;
  try {
    dnCanonical = canonicalDn(dn);
  } catch (err) {
    return isMssError(err) ? err.message : String(err);
  }
  if (dnCanonical === '') return 'empty DNCertificatOperateur';
  if (!isMatchableDn(dnCanonical))
    return `DNCertificatOperateur "${dn}" holds a character RFC 4518 prohibits (unassigned, private use…): it can match no certificate`;
  return { domain, description: (f.description ?? '').trim(), dn, dnCanonical, dateMaj: (f.dateMaj ?? '').trim() };
}

/** The content from its parts (a tree here, the stream in xml-stream.ts), DateDeGeneration checked. */
export function contentFrom(
  generated: string,
  versionFormat: string | undefined,
  domaines: Iterable<DomaineFields>,
  source: string,
  now: Date,
  futureSkewHours: number,
): WhitelistContent {
  // A date that does not parse or lies in the future would poison the replay guard (sync.ts).
  const generatedAt = checkGenerated(generated, now, futureSkewHours, source);
  const entries: WhitelistEntry[] = [];
  const skipped: SkippedEntry[] = [];
  let position = 0;
  for (const f of domaines) {
    position++;
    const e = entryFrom(f);
    if (typeof e === 'string') skipped.push({ position, reason: e });
    else entries.push(e);
  }
  return { generated, generatedAt, ...(versionFormat !== undefined ? { versionFormat } : {}), entries, skipped };
}

/** Root, one DateDeGeneration, at most one versionFormat, one ListeDomaines. */
export function checkShape(tree: XmlElement, source: string): { root: XmlElement; generatedEl: XmlElement; versionEl?: XmlElement; liste: XmlElement } {
  checkRoot(tree, source);
  const root = tree;
  const generatedEl = one(root, 'DateDeGeneration', source, true) as XmlElement;
  const versionEl = one(root, 'versionFormat', source, false);
  const liste = one(root, 'ListeDomaines', source, true) as XmlElement;
  return versionEl ? { root, generatedEl, versionEl, liste } : { root, generatedEl, liste };
}

/** The signed content of the list; `now` and `futureSkewHours` bound DateDeGeneration (dates.ts). */
export function readContent(tree: XmlElement, source: string, now: Date, futureSkewHours: number): WhitelistContent {
  const { generatedEl, versionEl, liste } = checkShape(tree, source);
  const domaines: DomaineFields[] = [];
  for (const el of liste.children) if (typeof el !== 'string' && el.local === 'Domaine' && el.uri === LIST_NS) domaines.push(fieldsOf(el));
  return contentFrom(textOf(generatedEl), versionEl ? textOf(versionEl) : undefined, domaines, source, now, futureSkewHours);
}
