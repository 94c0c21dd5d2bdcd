// The controls the sandbox SIPIL applies to every file of a deposited archive (§9.7.4.4,
// Tableaux 63 and 64, with Tableaux 46 and 47 for what each field holds), read from the text
// and independent of the client's src/stats. Each file is read as a stream of lines from the
// inflating ZIP (bounded memory whatever its size) and ends with one outcome per control.
import { Unzip, UnzipInflate } from 'fflate';
import {
  CONNEXIONS,
  CONNEXIONS_CONTROLS,
  ECHANGES,
  ECHANGES_CONTROLS,
  ECHANGES_FIVE,
  FILE_NAME,
  KO,
  MAX_ERROR_LINES,
  OK,
  WARNING,
  type ColumnDef,
  type ControlDef,
} from './sipil-spec.js';

export interface ControlResult {
  code: number;
  retour: 0 | 1 | 2 | 100;
  blocking: boolean;
  messages: string[];
  lines: number[];
  startedAt: Date;
  endedAt: Date;
}

export interface FileResult {
  name: string;
  /** Tableau 48 InfoTraitement/CodeRetour: 0 OK, 1 KO, 2 Warning. */
  codeRetour: 0 | 1 | 2;
  controls: ControlResult[];
  startedAt: Date;
  endedAt: Date;
}

export interface SipilContext {
  /** The processing date (controls of the period). */
  now: Date;
  /** Is the depositing operator « gestionnaire du domaine » in the liste blanche? */
  manages(domain: string): boolean;
  /** « Si un fichier OK a déjà été soumis avec le même nom pour cette période ». */
  alreadyAccepted(name: string): boolean;
  /** Tests: n°7 KO on every data line holding this text (a SIPIL stricter than the client's replay). */
  refuse?: string;
}

export type ArchiveOutcome = { kind: 'files'; files: FileResult[] } | { kind: 'empty' } | { kind: 'unreadable'; why: string };

/** Inflated bytes accepted per archive: far above any month of a real operator, a bound on a ZIP bomb. */
const MAX_INFLATED = 4 * 1024 * 1024 * 1024;

/** Every file of the archive through its controls. */
export function checkArchive(zip: Uint8Array, ctx: SipilContext): ArchiveOutcome {
  const files: FileChecker[] = [];
  let inflated = 0;
  let failure: string | undefined;
  try {
    const unzip = new Unzip((entry) => {
      if (entry.name.endsWith('/')) return; // a directory; its files carry its name and fail n°1
      const checker = new FileChecker(entry.name, ctx);
      files.push(checker);
      entry.ondata = (err, chunk, final) => {
        if (err) {
          failure ??= `${entry.name}: ${err.message}`;
          return;
        }
        inflated += chunk.length;
        if (inflated > MAX_INFLATED) {
          failure ??= 'the archive inflates beyond 4 GiB';
          entry.terminate();
          return;
        }
        checker.push(chunk);
        if (final) checker.end();
      };
      entry.start();
    });
    unzip.register(UnzipInflate);
    unzip.push(zip, true);
  } catch (err) {
    return { kind: 'unreadable', why: (err as Error).message };
  }
  if (failure) return { kind: 'unreadable', why: failure };
  if (files.length === 0) return { kind: 'empty' };
  return { kind: 'files', files: files.map((f) => f.result()) };
}

class Outcome {
  retour: 0 | 1 | 2 | 100 = OK;
  readonly messages: string[] = [];
  readonly lines: number[] = [];
  fail(retour: 1 | 2, message: string, line?: number): void {
    if (retour === KO || this.retour === OK) this.retour = retour;
    if (this.messages.length < 10 && !this.messages.includes(message)) this.messages.push(message);
    if (line !== undefined && this.lines.length < MAX_ERROR_LINES && this.lines[this.lines.length - 1] !== line) this.lines.push(line);
  }
}

const MAIL = /^[^\s@;]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/** « AAAA-MM-JJ HH:mm:SS »: a date that exists. */
function isDate(v: string): boolean {
  const m = DATE.exec(v);
  if (!m) return false;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const t = new Date(Date.UTC(y, mo - 1, d));
  return t.getUTCMonth() === mo - 1 && t.getUTCDate() === d && h < 24 && mi < 60 && s < 60;
}

/** Why a value is not what the column holds (Tableaux 46, 47), or undefined. */
export function valueProblem(c: ColumnDef, v: string): string | undefined {
  if (c.length !== undefined && v.length > c.length) return `${c.title} de plus de ${c.length} caractères`;
  switch (c.kind) {
    case 'text':
      return CONTROL.test(v) ? `${c.title} contient un caractère de contrôle` : undefined;
    case 'mail':
      return MAIL.test(v) ? undefined : `${c.title} « ${v.slice(0, 80)} » n'est pas une adresse mail`;
    case 'date':
      return isDate(v) ? undefined : `${c.title} « ${v.slice(0, 40)} » n'est pas au format AAAA-MM-JJ HH:mm:SS`;
    case 'dateOrEmpty':
      // EX_SSU_5800: empty when never consulted; « La valeur null n'est pas acceptée ».
      return v === '' || isDate(v) ? undefined : `${c.title} « ${v.slice(0, 40)} » n'est ni vide ni une date AAAA-MM-JJ HH:mm:ss`;
    case 'integer':
      return /^\d+$/.test(v) ? undefined : `${c.title} « ${v.slice(0, 40)} » n'est pas un entier`;
    case 'ins':
      // « Valeur issue de l'entête SMTP X-MSS-INS du message ('O', 'N') »; empty when the header is absent.
      return v === '' || v === 'O' || v === 'N' ? undefined : `${c.title} « ${v.slice(0, 10)} » n'est pas O, N ou vide`;
  }
}

/** Month index of an instant in Paris (the ANS's processing date). */
function parisMonth(d: Date): number {
  const p = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Paris', year: 'numeric', month: '2-digit' }).formatToParts(d);
  const y = Number(p.find((x) => x.type === 'year')?.value);
  const m = Number(p.find((x) => x.type === 'month')?.value);
  return y * 12 + m - 1;
}

class FileChecker {
  private readonly name: ReturnType<typeof FILE_NAME.exec>;
  private readonly defs: readonly ControlDef[];
  private readonly outcomes = new Map<ControlDef['check'], Outcome>();
  private readonly startedAt = new Date();
  private layout: readonly ColumnDef[] | undefined;
  private carry = Buffer.alloc(0);
  private lineNo = 0;
  private ended: FileResult | undefined;

  constructor(
    private readonly file: string,
    private readonly ctx: SipilContext,
  ) {
    // « Les fichiers contenus dans l'archive doivent tous se trouver à la racine »: a path fails the name.
    this.name = file.includes('/') ? null : FILE_NAME.exec(file);
    this.defs = this.name?.[3] === 'ConnexionsMSSante' ? CONNEXIONS_CONTROLS : ECHANGES_CONTROLS;
    for (const d of this.defs) this.outcomes.set(d.check, new Outcome());
    if (!this.name)
      this.o('name').fail(
        KO,
        `${file} : le nom doit être (AAAAMM)_EchangesMSSante_[Domaine].csv ou (AAAAMM)_ConnexionsMSSante_[Domaine].csv, à la racine de l'archive`,
      );
  }

  private o(check: ControlDef['check']): Outcome {
    return this.outcomes.get(check) as Outcome;
  }

  push(chunk: Uint8Array): void {
    if (!this.name) return;
    let buf = this.carry.length > 0 ? Buffer.concat([this.carry, chunk]) : Buffer.from(chunk);
    let start = 0;
    for (let nl = buf.indexOf(0x0a, start); nl >= 0; nl = buf.indexOf(0x0a, start)) {
      this.line(buf.subarray(start, nl));
      start = nl + 1;
    }
    buf = buf.subarray(start);
    this.carry = Buffer.from(buf);
  }

  end(): void {
    if (this.name && this.carry.length > 0) this.line(this.carry);
    this.carry = Buffer.alloc(0);
    this.finish();
  }

  private line(bytes: Buffer): void {
    const n = ++this.lineNo;
    // n°2 « l'encodage du fichier en UTF8 » (a BOM is UTF-8: it fails the header's names, n°6).
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
    } catch {
      this.o('utf8').fail(KO, "Le fichier n'est pas encodé en UTF-8", n);
      text = bytes.toString('latin1');
    }
    // n°3 « retour à la ligne Unix ».
    if (text.includes('\r')) {
      this.o('lf').fail(KO, 'Retour à la ligne non Unix (CR)', n);
      text = text.replace(/\r/g, '');
    }
    if (n === 1) {
      this.header(text);
      return;
    }
    const layout = this.layout as readonly ColumnDef[];
    // n°4 « Le séparateur doit être le point-virgule ».
    if (!text.includes(';')) {
      this.o('separator').fail(KO, 'Le séparateur doit être le point-virgule', n);
      return;
    }
    const fields = text.split(';');
    if (fields.length !== layout.length) {
      this.o('fields').fail(KO, `Le fichier doit contenir ${layout.length} champs par ligne (${fields.length} trouvés)`, n);
      return;
    }
    layout.forEach((c, i) => {
      const why = valueProblem(c, fields[i] as string);
      if (why) this.o('rows').fail(KO, why, n);
    });
    if (this.ctx.refuse && text.includes(this.ctx.refuse)) this.o('rows').fail(KO, `valeur refusée par SIPIL : « ${this.ctx.refuse} »`, n);
    if (this.name?.[3] === 'ConnexionsMSSante') {
      // Tableau 64 n°9: « Pour chaque domaine d'un fichier, vérifier dans la liste blanche si l'opérateur est gestionnaire de ce domaine ».
      const bal = fields[0] as string;
      const domain = bal.slice(bal.lastIndexOf('@') + 1).toLowerCase();
      if (bal.includes('@') && !this.ctx.manages(domain)) this.o('rowDomains').fail(KO, `L'Opérateur n'est pas gestionnaire du domaine ${domain}`, n);
    }
  }

  private header(text: string): void {
    if (!text.includes(';')) this.o('separator').fail(KO, 'Le séparateur doit être le point-virgule', 1);
    const names = text.split(';');
    const candidates = this.name?.[3] === 'ConnexionsMSSante' ? [CONNEXIONS] : [ECHANGES, ECHANGES_FIVE];
    // n°5: the fields of the layout the header has (Tableau 46's 8, or the 5 of control n°5).
    this.layout = candidates.find((l) => l.length === names.length);
    if (!this.layout) {
      this.layout = candidates[0] as readonly ColumnDef[];
      this.o('fields').fail(KO, `Le fichier doit contenir ${candidates.map((l) => l.length).join(' ou ')} champs par ligne (${names.length} trouvés)`, 1);
    }
    // n°6: « La casse doit être prise en compte ».
    const expected = this.layout.map((c) => c.title).join(';');
    if (text !== expected) this.o('header').fail(KO, `Entête « ${text.slice(0, 200)} » : attendu « ${expected} »`, 1);
  }

  private finish(): void {
    const m = this.name;
    if (m) {
      if (this.lineNo === 0) this.o('header').fail(KO, 'Fichier vide : entête absente', 1);
      const domain = (m[4] as string).toLowerCase();
      // n°8: « si l'Opérateur est gestionnaire du domaine présent dans le nom du fichier ».
      if (!this.ctx.manages(domain)) this.o('domain').fail(KO, `L'Opérateur n'est pas gestionnaire du domaine ${domain} dans la liste blanche`);
      this.period(Number(m[1]) * 12 + Number(m[2]) - 1, `${m[1]}${m[2]}`);
      if (this.ctx.alreadyAccepted(this.file)) this.o('duplicate').fail(WARNING, `Un fichier ${this.file} a déjà été reçu avec un contrôle OK`);
    }
    const now = new Date();
    const controls = this.defs.map((d): ControlResult => {
      const o = this.o(d.check);
      return { code: d.code, retour: o.retour, blocking: d.blocking, messages: o.messages, lines: o.lines, startedAt: this.startedAt, endedAt: now };
    });
    const ko = controls.some((c) => c.blocking && c.retour === KO);
    this.ended = { name: this.file, codeRetour: ko ? 1 : controls.some((c) => c.retour !== OK) ? 2 : 0, controls, startedAt: this.startedAt, endedAt: now };
  }

  /**
   * « La période déclarée doit être celle du mois précédent le traitement » — the écart is
   * counted from that month: 1 month → warning (information), between 1 and 3 → warning
   * (may not be integrated), more than 3 → blocking. A month not over yet is not « celle du
   * mois précédent » and no warning covers it: blocking.
   */
  private period(declared: number, id: string): void {
    const ecart = parisMonth(this.ctx.now) - 1 - declared;
    const rule = 'période attendue : le mois précédant le traitement, fichiers déposés dans les cinq premiers jours du mois';
    if (ecart === 0) return;
    if (ecart < 0) this.o('period').fail(KO, `Période ${id} non échue : ${rule}`);
    else if (ecart === 1) this.o('period').fail(WARNING, `Période ${id} : écart d'un mois, ${rule}`);
    else if (ecart <= 3) this.o('period').fail(WARNING, `Période ${id} : écart de ${ecart} mois, le fichier est susceptible de ne pas être intégré ; ${rule}`);
    else this.o('period').fail(KO, `Période ${id} : écart de ${ecart} mois, le fichier ne sera pas traité ; ${rule}`);
  }

  result(): FileResult {
    if (!this.ended) this.end();
    return this.ended as FileResult;
  }
}
