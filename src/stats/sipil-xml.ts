// The XML SIPIL answers: `Depot` from postFile (§6.9.3.2.1.1.2, Figures 37–38) and the
// `CompteRendu` inside REPORT.ZIP (Tableau 48). Parsed with the same refusals as the liste
// blanche (no DTD, no entity, UTF-8 only), matched on local names whatever the namespace,
// and with the accents of Tableau 48 optional (`Contrôles` or `Controles`): the XSD of DR4 is
// not in the Référentiel. The sandbox writes both documents with the writers below.
import type { Element } from '@xmldom/xmldom';
import { MssError } from '../errors.js';
import { elementChildren, parseXml, textOf } from '../whitelist/xml.js';

export const DEPOT_NS = 'http://fr/asip/mss/sipil/manager/bean/warehouse';

const plain = (name: string): string => name.normalize('NFD').replace(/[\u0300-\u036f]/g, '');

function decode(bytes: Uint8Array | string, source: string): string {
  let text: string;
  if (typeof bytes === 'string') text = bytes;
  else {
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      throw new MssError('STATS_XML_MALFORMED', `${source}: not valid UTF-8`, { source });
    }
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const dtd = /<!\s*(DOCTYPE|ENTITY)/i.exec(text);
  if (dtd) throw new MssError('STATS_XML_DTD', `${source}: contains a ${dtd[1]?.toUpperCase()} declaration; refused (XXE, entity expansion)`, { source });
  return text;
}

function parse(text: string, source: string): Element | undefined {
  try {
    return parseXml(text, source).documentElement ?? undefined;
  } catch {
    return undefined;
  }
}

const local = (el: Element): string => plain(el.localName ?? el.nodeName);
const child = (el: Element | undefined, name: string): Element | undefined => (el ? elementChildren(el).find((c) => local(c) === name) : undefined);
const children = (el: Element | undefined, name: string): Element[] => (el ? elementChildren(el).filter((c) => local(c) === name) : []);
const text = (el: Element | undefined, name: string): string | undefined => {
  const c = child(el, name);
  return c ? textOf(c) : undefined;
};
function code(value: string | undefined, what: string, source: string): number {
  if (value === undefined || !/^\d{1,4}$/.test(value))
    throw new MssError('STATS_XML_SHAPE', `${source}: ${what} is ${value === undefined ? 'missing' : `« ${value} », not a number`}`, { source });
  return Number(value);
}

export interface Authentication {
  identite?: string;
  email?: string;
  domaines: string[];
}

export interface Depot extends Authentication {
  id?: string;
  nomArchive?: string;
  code: number;
  message?: string;
  /** The XML was not well-formed (the Référentiel's own segmented examples are not): read by element names. */
  lenient: boolean;
}

function authentication(root: Element | undefined): Authentication {
  const auth = child(root, 'Authentication');
  const identite = text(auth, 'Identite');
  const email = text(auth, 'Email');
  return { ...(identite ? { identite } : {}), ...(email ? { email } : {}), domaines: children(child(auth, 'DomainesGeres'), 'Domaine').map(textOf) };
}

/** Simple elements by regular expression, for answers that are not well-formed XML. */
function lenientText(xml: string, name: string): string | undefined {
  const m = new RegExp(`<(?:[A-Za-z_][\\w.-]*:)?${name}(?:\\s[^>]*)?>([^<]*)</(?:[A-Za-z_][\\w.-]*:)?${name}\\s*>`).exec(xml);
  return m?.[1]?.trim();
}

export function parseDepot(bytes: Uint8Array | string, source = 'postFile answer'): Depot {
  const xml = decode(bytes, source);
  const root = parse(xml, source);
  if (!root) {
    const c = lenientText(xml, 'CodeRetourGlobal');
    if (c === undefined)
      throw new MssError('STATS_XML_MALFORMED', `${source}: not well-formed XML and no CodeRetourGlobal`, { source, excerpt: xml.slice(0, 200) });
    const id = lenientText(xml, 'Id');
    const nom = lenientText(xml, 'NomArchive');
    const msg = lenientText(xml, 'Message');
    const identite = lenientText(xml, 'Identite');
    const domaines = [...xml.matchAll(/<(?:\w+:)?Domaine>([^<]*)</g)].map((m) => (m[1] ?? '').trim());
    return {
      code: code(c, 'CodeRetourGlobal', source),
      ...(id ? { id } : {}),
      ...(nom ? { nomArchive: nom } : {}),
      ...(msg ? { message: msg } : {}),
      ...(identite ? { identite } : {}),
      domaines,
      lenient: true,
    };
  }
  const statut = child(root, 'Statut') ?? root;
  const id = text(statut, 'Id');
  const nom = text(statut, 'NomArchive');
  const msg = text(statut, 'Message');
  return {
    ...authentication(root),
    code: code(text(statut, 'CodeRetourGlobal') ?? text(statut, 'Code'), 'CodeRetourGlobal', source),
    ...(id ? { id } : {}),
    ...(nom ? { nomArchive: nom } : {}),
    ...(msg ? { message: msg } : {}),
    lenient: false,
  };
}

export interface ReportControl {
  code: number;
  codeRetour: number;
  errors: Array<{ message?: string; lines: number[] }>;
  dateDebut?: string;
  dateFin?: string;
}

export interface ReportFile {
  nomFichier: string;
  dateDebut?: string;
  dateFin?: string;
  codeRetour: number;
  controls: ReportControl[];
}

export interface CompteRendu extends Authentication {
  nomArchive?: string;
  identifiant?: string;
  code: number;
  message?: string;
  files: ReportFile[];
}

/** Tableau 48 mixes dd/MM/AAAA HH:mm:ss (DateDebut) and AAAA-MM-dd HH:mm:ss (DateFin): both become the latter. */
export function reportDate(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  const fr = /^(\d{2})\/(\d{2})\/(\d{4})[ T](\d{2}:\d{2}:\d{2})/.exec(value);
  if (fr) return `${fr[3]}-${fr[2]}-${fr[1]} ${fr[4]}`;
  const iso = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})/.exec(value);
  return iso ? `${iso[1]} ${iso[2]}` : value;
}

function lineNumbers(value: string | undefined): number[] {
  return (value ?? '')
    .split(/\s+/)
    .filter((s) => /^\d+$/.test(s))
    .map(Number);
}

function controlOf(el: Element, source: string): ReportControl {
  const errors: ReportControl['errors'] = [];
  for (const e of children(el, 'Erreurs')) {
    const nested = children(e, 'Erreur');
    for (const x of nested.length > 0 ? nested : [e]) {
      const message = text(x, 'Message');
      errors.push({ ...(message ? { message } : {}), lines: lineNumbers(text(x, 'LigneErreur')) });
    }
  }
  // Tableau 48 puts Message and LigneErreur at the level of Erreurs: accept them there too.
  const message = text(el, 'Message');
  const lines = text(el, 'LigneErreur');
  if (message !== undefined || lines !== undefined) errors.push({ ...(message ? { message } : {}), lines: lineNumbers(lines) });
  const dd = reportDate(text(el, 'DateDebut'));
  const df = reportDate(text(el, 'DateFin'));
  return {
    code: code(text(el, 'CodeControle'), 'CodeContrôle', source),
    codeRetour: code(text(el, 'CodeRetour'), 'CodeRetour of a control', source),
    errors,
    ...(dd ? { dateDebut: dd } : {}),
    ...(df ? { dateFin: df } : {}),
  };
}

export function parseCompteRendu(bytes: Uint8Array | string, source = 'CompteRendu'): CompteRendu {
  const xml = decode(bytes, source);
  const root = parse(xml, source);
  if (!root) throw new MssError('STATS_XML_MALFORMED', `${source}: not well-formed XML`, { source, excerpt: xml.slice(0, 200) });
  const statut = child(root, 'Statut') ?? root;
  const files = children(child(root, 'Fichiers'), 'Fichier').map((f): ReportFile => {
    const info = child(f, 'InfoTraitement') ?? f;
    const dd = reportDate(text(info, 'DateDebut'));
    const df = reportDate(text(info, 'DateFin'));
    return {
      nomFichier: text(info, 'NomFichier') ?? '',
      ...(dd ? { dateDebut: dd } : {}),
      ...(df ? { dateFin: df } : {}),
      codeRetour: code(text(info, 'CodeRetour'), 'CodeRetour of a file', source),
      controls: children(child(f, 'Controles'), 'Controle').map((c) => controlOf(c, source)),
    };
  });
  const nom = text(statut, 'NomArchive');
  const ident = text(statut, 'Identifiant') ?? text(statut, 'Id');
  const msg = text(statut, 'Message');
  return {
    ...authentication(root),
    ...(nom ? { nomArchive: nom } : {}),
    ...(ident ? { identifiant: ident } : {}),
    code: code(text(statut, 'CodeRetourGlobal'), 'CodeRetourGlobal', source),
    ...(msg ? { message: msg } : {}),
    files,
  };
}

// ------------------------------------------------------------------ writers (sandbox)

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const el = (name: string, value: string | number | undefined): string => (value === undefined ? '' : `<${name}>${esc(String(value))}</${name}>`);

function authenticationXml(a: Authentication): string {
  return `<Authentication>${el('Identite', a.identite ?? '')}${a.email ? el('Email', a.email) : '<Email/>'}<DomainesGeres>${a.domaines.map((d) => el('Domaine', d)).join('')}</DomainesGeres></Authentication>`;
}

export function depotXml(d: Omit<Depot, 'lenient'>): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Depot xmlns="${DEPOT_NS}">${authenticationXml(d)}<Statut>${el('Id', d.id)}${el('NomArchive', d.nomArchive)}${el('CodeRetourGlobal', d.code)}${el('Message', d.message)}</Statut></Depot>\n`;
}

/** Tableau 48 with its accented names (Contrôles, Contrôle, CodeContrôle). */
export function compteRenduXml(r: CompteRendu): string {
  const files = r.files
    .map((f) => {
      const controls = f.controls
        .map(
          (c) =>
            `<Contrôle>${el('CodeContrôle', c.code)}${el('CodeRetour', c.codeRetour)}${c.errors.map((e) => `<Erreurs>${el('Message', e.message)}${el('LigneErreur', e.lines.join(' '))}</Erreurs>`).join('')}${el('DateDebut', c.dateDebut)}${el('DateFin', c.dateFin)}</Contrôle>`,
        )
        .join('');
      return `<Fichier><InfoTraitement>${el('NomFichier', f.nomFichier)}${el('DateDebut', f.dateDebut)}${el('DateFin', f.dateFin)}${el('CodeRetour', f.codeRetour)}</InfoTraitement><Contrôles>${controls}</Contrôles></Fichier>`;
    })
    .join('');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<CompteRendu>${authenticationXml(r)}<Statut>${el('NomArchive', r.nomArchive)}${el('Identifiant', r.identifiant)}${el('CodeRetourGlobal', r.code)}${el('Message', r.message)}</Statut><Fichiers>${files}</Fichiers></CompteRendu>\n`;
}
