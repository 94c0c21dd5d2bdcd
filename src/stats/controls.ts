// The SIPIL controls of §9.7.4.4 (Tableaux 63 and 64), one implementation run twice: by
// `stats validate` / `stats upload` before anything leaves, and by the sandbox SIPIL on what
// it receives. A file is fed as a byte stream (bounded memory) and ends with one outcome per
// control, in the ANS's numbering and terms: 0 OK, 1 KO, 2 Warning, 100 technical error
// (Tableau 62); the file's CodeRetour is 1 when a blocking control is KO, 2 on a warning.
import { isUtf8 } from 'node:buffer';
import { CONNEXIONS, ECHANGES_V16, PATIENT_DOMAIN, parseFileName, SEPARATOR, type Column, type FileKind, type ParsedName } from './format.js';
import { monthIndex, monthOf } from './month.js';

export type ControlCode = 0 | 1 | 2 | 100;

export interface ControlOutcome {
  code: number;
  label: string;
  blocking: boolean;
  retour: ControlCode;
  messages: string[];
  /** LigneErreur: the first lines in error (1 = the header line). */
  lines: number[];
  /** How many lines were in error in all. */
  linesInError: number;
  startedAt: Date;
  endedAt: Date;
}

export interface FileCheck {
  name: string;
  kind?: FileKind;
  domain?: string;
  /** AAAAMM of the file name. */
  period?: string;
  /** Data lines (header excluded). */
  dataLines: number;
  codeRetour: 0 | 1 | 2;
  controls: ControlOutcome[];
  startedAt: Date;
  endedAt: Date;
}

export interface ControlContext {
  /** Processing date: control of the period (n°9 Echanges, n°10 Connexions). */
  now: Date;
  timeZone: string;
  /**
   * Control n°8 (and n°9 of Connexions): the submitting operator's DN is listed for the
   * domain. Undefined when that cannot be known (no liste blanche): technical error 100.
   */
  managesDomain(domain: string): boolean | undefined;
  /** Why managesDomain cannot answer, for the message of a technical error. */
  whitelistProblem?: string;
  /** Control n°10 / n°11: a file of this name was already accepted for this period. */
  alreadyAccepted(name: string): boolean;
  /** Echanges layouts accepted, the first being the expected one (v1.6; the sandbox also accepts the legacy 5 columns). */
  echangesLayouts: ReadonlyArray<readonly Column[]>;
  maxErrorLines: number;
}

type Check = 'name' | 'utf8' | 'lf' | 'separator' | 'fields' | 'header' | 'rows' | 'domain' | 'rowDomains' | 'period' | 'duplicate';

interface ControlDef {
  code: number;
  check: Check;
  label: string;
  blocking: boolean;
}

const COMMON: ControlDef[] = [
  { code: 1, check: 'name', label: 'Contrôle du nom du fichier', blocking: true },
  { code: 2, check: 'utf8', label: 'Contrôle encodage (UTF-8)', blocking: true },
  { code: 3, check: 'lf', label: 'Contrôle encodage (retour à la ligne Unix)', blocking: true },
  { code: 4, check: 'separator', label: 'Contrôle du séparateur', blocking: true },
  { code: 5, check: 'fields', label: 'Contrôle du nombre de champs', blocking: true },
  { code: 6, check: 'header', label: "Contrôle du nommage des champs dans l'entête", blocking: true },
  { code: 7, check: 'rows', label: 'Contrôle de la cohérence des lignes', blocking: true },
  { code: 8, check: 'domain', label: 'Opérateur habilité pour déposer pour le domaine', blocking: true },
];

/** Tableau 63: the controls of an Echanges file. */
export const ECHANGES_CONTROLS: readonly ControlDef[] = [
  ...COMMON,
  { code: 9, check: 'period', label: 'Contrôle de la période', blocking: true },
  { code: 10, check: 'duplicate', label: 'Fichier déjà reçu avec contrôle OK', blocking: false },
];

/** Tableau 64: the controls of a Connexions file (n°9 checks every domain of the file). */
export const CONNEXIONS_CONTROLS: readonly ControlDef[] = [
  ...COMMON,
  { code: 9, check: 'rowDomains', label: "Domaines du fichier gérés par l'Opérateur", blocking: true },
  { code: 10, check: 'period', label: 'Contrôle de la période', blocking: true },
  { code: 11, check: 'duplicate', label: 'Fichier déjà reçu avec contrôle OK', blocking: false },
];

const EMAIL = /^[^\s@;]{1,64}@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/i;
const DATE = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

function realDate(text: string): boolean {
  const m = DATE.exec(text);
  if (!m) return false;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const t = new Date(Date.UTC(y, mo - 1, d));
  return t.getUTCMonth() === mo - 1 && t.getUTCDate() === d && h < 24 && mi < 60 && s < 60;
}

/** Why a value does not fit its column (control n°7), or undefined. */
export function columnProblem(col: Column, v: string): string | undefined {
  if (col.maxLength !== undefined && v.length > col.maxLength) return `${col.name}: more than ${col.maxLength} characters`;
  switch (col.type) {
    case 'id':
      if (v === '') return `${col.name}: empty`;
      if (CONTROL_CHARS.test(v)) return `${col.name}: control characters`;
      return undefined;
    case 'email': {
      if (!EMAIL.test(v)) return `${col.name}: « ${v.slice(0, 80)} » is not an e-mail address`;
      const at = v.lastIndexOf('@');
      // EX_PSU_5020: no INS may leave in a patient address (SIPIL would purge it; we refuse it).
      if (v.slice(at + 1).toLowerCase() === PATIENT_DOMAIN && v.slice(0, at).toLowerCase() !== 'usager')
        return `${col.name}: a patient address must be usager@${PATIENT_DOMAIN} (EX_PSU_5020)`;
      return undefined;
    }
    case 'date':
      return realDate(v) ? undefined : `${col.name}: « ${v.slice(0, 40)} » is not a date AAAA-MM-JJ HH:mm:ss`;
    case 'dateOrEmpty':
      if (v === '') return undefined;
      if (v.toLowerCase() === 'null') return `${col.name}: « null » is refused, leave it empty (EX_SSU_5800)`;
      return realDate(v) ? undefined : `${col.name}: « ${v.slice(0, 40)} » is not a date AAAA-MM-JJ HH:mm:ss`;
    case 'integer':
      return /^\d{1,15}$/.test(v) ? undefined : `${col.name}: « ${v.slice(0, 40)} » is not an integer number of bytes`;
    case 'insFlag':
      return v === '' || v === 'O' || v === 'N' ? undefined : `${col.name}: « ${v.slice(0, 10)} » is not O, N or empty`;
    case 'text':
      return CONTROL_CHARS.test(v) ? `${col.name}: control characters` : undefined;
  }
}

class Tally {
  retour: ControlCode = 0;
  readonly messages: string[] = [];
  readonly lines: number[] = [];
  linesInError = 0;
  constructor(private readonly max: number) {}

  fail(retour: 1 | 2 | 100, message: string, line?: number): void {
    if (retour === 100 || (retour === 1 && this.retour !== 100) || this.retour === 0) this.retour = retour;
    if (line !== undefined) {
      if (this.lines[this.lines.length - 1] !== line) {
        this.linesInError++;
        if (this.lines.length < this.max) this.lines.push(line);
      }
    }
    if (this.messages.length < 10 && !this.messages.includes(message)) this.messages.push(message);
  }
}

/** Validates one file fed as bytes (push/end), like SIPIL does after unzipping it. */
export class FileValidator {
  private readonly parsed: ParsedName | undefined;
  private readonly defs: readonly ControlDef[];
  private readonly tallies = new Map<Check, Tally>();
  private readonly started = new Date();
  private carry: Buffer = Buffer.alloc(0);
  private lineNo = 0;
  private layout: readonly Column[] | undefined;
  private sawBytes = false;
  private ended: FileCheck | undefined;

  constructor(
    readonly name: string,
    private readonly ctx: ControlContext,
  ) {
    // §6.9.3.2.1.1: files at the root of the archive; a path is a name the syntax refuses.
    this.parsed = name.includes('/') ? undefined : parseFileName(name);
    this.defs = this.parsed?.kind === 'connexions' ? CONNEXIONS_CONTROLS : this.parsed ? ECHANGES_CONTROLS : ECHANGES_CONTROLS.slice(0, 1);
    for (const d of this.defs) this.tallies.set(d.check, new Tally(ctx.maxErrorLines));
    if (!this.parsed) {
      this.t('name').fail(
        1,
        name.includes('/')
          ? `${name}: files must be at the root of the archive`
          : `${name}: the name must be AAAAMM_EchangesMSSante_<domaine>.csv or AAAAMM_ConnexionsMSSante_<domaine>.csv`,
      );
    }
  }

  private t(check: Check): Tally {
    return this.tallies.get(check) ?? new Tally(0);
  }

  push(chunk: Uint8Array): void {
    if (!this.parsed) return;
    this.sawBytes ||= chunk.length > 0;
    let buf = this.carry.length > 0 ? Buffer.concat([this.carry, chunk]) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    let start = 0;
    for (;;) {
      const nl = buf.indexOf(0x0a, start);
      if (nl < 0) break;
      this.line(buf.subarray(start, nl));
      start = nl + 1;
    }
    buf = buf.subarray(start);
    this.carry = Buffer.from(buf); // detach from the chunk
  }

  end(): void {
    if (this.parsed && this.carry.length > 0) this.line(this.carry);
    this.carry = Buffer.alloc(0);
    this.finish();
  }

  private line(raw: Buffer): void {
    const n = ++this.lineNo;
    let bytes = raw;
    if (n === 1 && bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
      this.t('utf8').fail(1, 'UTF-8 with a byte order mark (BOM): the file must start with the header', 1);
      bytes = bytes.subarray(3);
    }
    if (!isUtf8(bytes)) this.t('utf8').fail(1, 'not valid UTF-8', n);
    if (bytes.includes(0x0d)) this.t('lf').fail(1, 'CR (Windows or Mac line end) found: lines must end with LF only', n);
    const text = bytes.toString('utf8').replace(/\r$/, '');
    if (n === 1) this.header(text);
    else this.row(text, n);
  }

  private header(text: string): void {
    const layouts = this.parsed?.kind === 'connexions' ? [CONNEXIONS] : this.ctx.echangesLayouts.length > 0 ? this.ctx.echangesLayouts : [ECHANGES_V16];
    const expected = layouts[0] as readonly Column[];
    if (!text.includes(SEPARATOR) && /[,\t|]/.test(text)) this.t('separator').fail(1, 'the separator must be « ; »', 1);
    const fields = text.split(SEPARATOR);
    this.layout = layouts.find((l) => l.map((c) => c.name).join(SEPARATOR) === text);
    if (!this.layout) {
      const caseOnly = layouts.find(
        (l) =>
          l
            .map((c) => c.name)
            .join(SEPARATOR)
            .toLowerCase() === text.toLowerCase(),
      );
      this.t('header').fail(
        1,
        caseOnly
          ? `header « ${text.slice(0, 200)} »: names are case-sensitive, expected « ${caseOnly.map((c) => c.name).join(SEPARATOR)} »`
          : `header « ${text.slice(0, 200)} »: expected « ${expected.map((c) => c.name).join(SEPARATOR)} »`,
        1,
      );
      this.layout = layouts.find((l) => l.length === fields.length) ?? expected;
    }
    if (fields.length !== this.layout.length) this.t('fields').fail(1, `${this.layout.length} fields expected per line`, 1);
  }

  private row(text: string, n: number): void {
    const layout = this.layout as readonly Column[];
    if (!text.includes(SEPARATOR) && layout.length > 1 && /[,\t|]/.test(text)) {
      this.t('separator').fail(1, 'the separator must be « ; »', n);
      return;
    }
    const fields = text.split(SEPARATOR);
    if (fields.length !== layout.length) {
      this.t('fields').fail(1, `${layout.length} fields expected per line (found ${fields.length}${text === '' ? ': empty line' : ''})`, n);
      return;
    }
    for (let i = 0; i < layout.length; i++) {
      const why = columnProblem(layout[i] as Column, fields[i] as string);
      if (why) this.t('rows').fail(1, why, n);
    }
    if (this.parsed?.kind === 'connexions') {
      const bal = fields[0] as string;
      const domain = bal.slice(bal.lastIndexOf('@') + 1).toLowerCase();
      if (bal.includes('@')) {
        const managed = this.ctx.managesDomain(domain);
        if (managed === undefined) this.t('rowDomains').fail(100, `cannot check the domains: ${this.ctx.whitelistProblem ?? 'no liste blanche'}`);
        else if (!managed) this.t('rowDomains').fail(1, `domain ${domain} is not managed by this operator (liste blanche)`, n);
      }
    }
  }

  private finish(): void {
    const p = this.parsed;
    if (p) {
      if (!this.sawBytes) this.t('header').fail(1, 'empty file: the header line is missing', 1);
      // Control n°8 (EX_SSU_5810 access rule applied per file): our DN is listed for the domain.
      const managed = this.ctx.managesDomain(p.domain);
      if (managed === undefined) this.t('domain').fail(100, `cannot check ${p.domain}: ${this.ctx.whitelistProblem ?? 'no liste blanche'}`);
      else if (!managed) this.t('domain').fail(1, `the operator is not listed in the liste blanche as managing ${p.domain}`);
      this.period(p);
      if (this.ctx.alreadyAccepted(this.name)) this.t('duplicate').fail(2, `a file named ${this.name} was already accepted for this period`);
    }
    const now = new Date();
    const controls: ControlOutcome[] = this.defs.map((d) => {
      const t = this.t(d.check);
      return {
        code: d.code,
        label: d.label,
        blocking: d.blocking,
        retour: t.retour,
        messages: t.messages,
        lines: t.lines,
        linesInError: t.linesInError,
        startedAt: this.started,
        endedAt: now,
      };
    });
    const ko = controls.some((c) => c.retour === 1 && c.blocking) || controls.some((c) => c.retour === 100);
    const warn = controls.some((c) => c.retour !== 0);
    this.ended = {
      name: this.name,
      ...(p ? { kind: p.kind, domain: p.domain, period: `${p.year}${String(p.month).padStart(2, '0')}` } : {}),
      dataLines: Math.max(0, this.lineNo - 1),
      codeRetour: ko ? 1 : warn ? 2 : 0,
      controls,
      startedAt: this.started,
      endedAt: now,
    };
  }

  // EX_PSU_5810, control n°9/10: the period must be the month before processing.
  private period(p: ParsedName): void {
    const processing = monthOf(this.ctx.now.getTime(), this.ctx.timeZone);
    const gap = monthIndex(processing) - monthIndex(p);
    const declared = `${p.year}${String(p.month).padStart(2, '0')}`;
    const rule = 'the period is the month before processing, submitted within the first five days (EX_PSU_5810)';
    if (gap === 1) return;
    if (gap <= 0) this.t('period').fail(1, `period ${declared} is not over yet: ${rule}`);
    else if (gap === 2) this.t('period').fail(2, `period ${declared} is one month older than expected: ${rule}`);
    else if (gap <= 4) this.t('period').fail(2, `period ${declared} is ${gap - 1} months older than expected and may not be integrated: ${rule}`);
    else this.t('period').fail(1, `period ${declared} is more than 3 months older than expected and will not be processed: ${rule}`);
  }

  result(): FileCheck {
    if (!this.ended) this.end();
    return this.ended as FileCheck;
  }
}
