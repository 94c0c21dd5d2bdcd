// What the sandbox SIPIL writes: the `Depot` answer of postFile (Figure 37: Authentication,
// Statut) and the `CompteRendu` of getReport (Tableau 48, with its accented names and its
// two date formats: DateDebut « dd/MM/AAAA HH:mm:ss », DateFin « AAAA-MM-dd HH:mm:ss »),
// zipped as REPORT.ZIP. From the text, not from the client's src/stats.
import { zipSync } from 'fflate';
import type { FileResult } from './sipil-controls.js';
import { DEPOT_NS } from './sipil-spec.js';

export interface Authentication {
  /** « CN de l'Opérateur récupéré à sa connexion ». */
  identite: string;
  email?: string;
  domaines: string[];
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const el = (name: string, value: string | number | undefined): string => (value === undefined ? '' : `<${name}>${esc(String(value))}</${name}>`);

function authenticationXml(a: Authentication): string {
  return `<Authentication>${el('Identite', a.identite)}${a.email ? el('Email', a.email) : '<Email/>'}<DomainesGeres>${a.domaines.map((d) => el('Domaine', d)).join('')}</DomainesGeres></Authentication>`;
}

/** Figure 37 (and 38 for a segment: no Id, no NomArchive). */
export function depotXml(auth: Authentication | undefined, statut: { id?: string; nomArchive?: string; code: number; message: string }): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<Depot xmlns="${DEPOT_NS}">${auth ? authenticationXml(auth) : ''}` +
    `<Statut>${el('Id', statut.id)}${el('NomArchive', statut.nomArchive)}${el('CodeRetourGlobal', statut.code)}${el('Message', statut.message)}</Statut></Depot>\n`
  );
}

const two = (n: number): string => String(n).padStart(2, '0');
function parisParts(d: Date): { y: string; mo: string; day: string; h: string; mi: string; s: string } {
  const p = Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', {
      timeZone: 'Europe/Paris',
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    })
      .formatToParts(d)
      .map((x) => [x.type, x.value]),
  );
  return { y: p.year ?? '', mo: p.month ?? '', day: p.day ?? '', h: two(Number(p.hour)), mi: p.minute ?? '', s: p.second ?? '' };
}
/** Tableau 48's DateDebut: « dd/MM/AAAA HH:mm:ss ». */
export const dateDebut = (d: Date): string => {
  const p = parisParts(d);
  return `${p.day}/${p.mo}/${p.y} ${p.h}:${p.mi}:${p.s}`;
};
/** Tableau 48's DateFin: « AAAA-MM-dd HH:mm:ss ». */
export const dateFin = (d: Date): string => {
  const p = parisParts(d);
  return `${p.y}-${p.mo}-${p.day} ${p.h}:${p.mi}:${p.s}`;
};

export interface CompteRendu {
  auth: Authentication;
  /** « Il s'agit du nom fourni par l'Opérateur et non du nom préfixé par le traitement ». */
  nomArchive?: string;
  identifiant: string;
  code: number;
  message: string;
  files: FileResult[];
}

export function compteRenduXml(r: CompteRendu): string {
  const files = r.files
    .map((f) => {
      const controls = f.controls
        .map((c) => {
          // « Erreurs … Cette balise peut être présente plusieurs fois »: one per message, the lines in error (space-separated) with the first.
          const errors = c.messages
            .map((m, i) => `<Erreurs>${el('Message', m)}${i === 0 && c.lines.length > 0 ? el('LigneErreur', c.lines.join(' ')) : ''}</Erreurs>`)
            .join('');
          return `<Contrôle>${el('CodeContrôle', c.code)}${el('CodeRetour', c.retour)}${errors}${el('DateDebut', dateDebut(c.startedAt))}${el('DateFin', dateFin(c.endedAt))}</Contrôle>`;
        })
        .join('');
      return `<Fichier><InfoTraitement>${el('NomFichier', f.name)}${el('DateDebut', dateDebut(f.startedAt))}${el('DateFin', dateFin(f.endedAt))}${el('CodeRetour', f.codeRetour)}</InfoTraitement><Contrôles>${controls}</Contrôles></Fichier>`;
    })
    .join('');
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<CompteRendu>${authenticationXml(r.auth)}` +
    `<Statut>${el('NomArchive', r.nomArchive)}${el('Identifiant', r.identifiant)}${el('CodeRetourGlobal', r.code)}${el('Message', r.message)}</Statut><Fichiers>${files}</Fichiers></CompteRendu>\n`
  );
}

/** « Le fichier compte rendu obtenu sera une archive .ZIP nommée REPORT.ZIP ». */
export function reportZip(r: CompteRendu): Buffer {
  return Buffer.from(zipSync({ [`CR_${r.identifiant}.xml`]: Buffer.from(compteRenduXml(r), 'utf8') }));
}
