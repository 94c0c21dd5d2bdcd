// The two statistics files as the ANS defines them (§6.9.3.1.1 Tableau 46, §6.9.3.1.2
// Tableau 47, controls §9.7.4.4): names, columns, separator, line ends, and how a value is
// made safe for a format that has no quoting. The column sets live here and nowhere else.
export const SEPARATOR = ';';
export const EOL = '\n'; // control n°3: Unix line ends

export type ColumnType = 'id' | 'email' | 'date' | 'integer' | 'insFlag' | 'text' | 'dateOrEmpty';

export interface Column {
  name: string;
  type: ColumnType;
  maxLength?: number;
}

// EX_PSU_5830, Tableau 46 (v1.6): 8 columns; INS, CODECDA and NIL come from the X-MSS-* headers.
export const ECHANGES_V16: readonly Column[] = [
  { name: 'MAIL_ID', type: 'id', maxLength: 255 },
  { name: 'EXPEDITEUR', type: 'email', maxLength: 255 },
  { name: 'DESTINATAIRE', type: 'email', maxLength: 255 },
  { name: 'DATE', type: 'date' },
  { name: 'TAILLE', type: 'integer' },
  { name: 'INS', type: 'insFlag', maxLength: 1 },
  { name: 'CODECDA', type: 'text', maxLength: 255 },
  { name: 'NIL', type: 'text', maxLength: 255 },
];

// §9.7.4.4.1 control n°5 ("5 champs par ligne") and the 2020 guide: the v1.3 layout.
export const ECHANGES_LEGACY: readonly Column[] = ECHANGES_V16.slice(0, 5);

// EX_PSU_5840, Tableau 47.
export const CONNEXIONS: readonly Column[] = [
  { name: 'BAL', type: 'email', maxLength: 255 },
  { name: 'DATE_DERNIERE_CONNEXION', type: 'dateOrEmpty' },
];

export type EchangesFormat = 'v1.6' | 'legacy-5';
export const echangesColumns = (f: EchangesFormat): readonly Column[] => (f === 'legacy-5' ? ECHANGES_LEGACY : ECHANGES_V16);
export const headerLine = (cols: readonly Column[]): string => cols.map((c) => c.name).join(SEPARATOR);

export type FileKind = 'echanges' | 'connexions';

// (AAAAMM)_EchangesMSSante_[Domaine].csv: the brackets and parentheses are placeholders
// (the ANS's own notation for a value), so 202403_EchangesMSSante_ch-xyz.mssante.fr.csv.
const NAME = /^(\d{4})(\d{2})_(EchangesMSSante|ConnexionsMSSante)_([a-z0-9](?:[a-z0-9.-]{0,253}[a-z0-9])?)\.csv$/;

export function fileName(kind: FileKind, monthId: string, domain: string): string {
  return `${monthId}_${kind === 'echanges' ? 'EchangesMSSante' : 'ConnexionsMSSante'}_${domain.toLowerCase()}.csv`;
}

export interface ParsedName {
  kind: FileKind;
  year: number;
  month: number;
  domain: string;
}

/** Control n°1: the name's syntax. Undefined when it does not match. */
export function parseFileName(name: string): ParsedName | undefined {
  const m = NAME.exec(name);
  if (!m) return undefined;
  const month = Number(m[2]);
  if (month < 1 || month > 12 || !(m[4] as string).includes('.')) return undefined;
  return { kind: m[3] === 'EchangesMSSante' ? 'echanges' : 'connexions', year: Number(m[1]), month, domain: m[4] as string };
}

// EX_PSU_5020: <INS>@patient.mssante.fr becomes usager@patient.mssante.fr. Any local part on
// the patient domain is replaced, so that no INS can leave whatever its form.
export const PATIENT_DOMAIN = 'patient.mssante.fr';
export const PATIENT_PLACEHOLDER = `usager@${PATIENT_DOMAIN}`;

/**
 * An address as written in EXPEDITEUR, DESTINATAIRE or BAL. A quoted local part may hold a
 * `;` ("a;b"@ch-voisin.mssante.fr is a valid RFC 5321 address), which would add a field and
 * fail control n°5 for the whole file (EX_PSU_5830, §9.7.4.4.1): it goes through the same
 * rule as the header values (safeValue).
 */
export function statsAddress(address: string): string {
  const a = address.trim().toLowerCase();
  if (a.endsWith(`@${PATIENT_DOMAIN}`)) return PATIENT_PLACEHOLDER; // EX_PSU_5020
  return UNSAFE.test(a) || a.length > 255 ? safeValue(a) : a; // EX_PSU_5830: one line, 8 fields
}

// What safeValue changes: a `;`, a control character, U+2028/U+2029.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[;\u0000-\u001f\u007f\u2028\u2029]/;

/**
 * A value copied from a message header (CODECDA, NIL): the format has no quoting, so a `;`
 * would add a field (the second example row of Tableau 46 has 9 fields for that reason) and a
 * line break would add a line. `;` becomes `,` (lists stay lists: "PRESC-BIO,15508-5"),
 * control characters become spaces, and the value is cut to the column's length.
 */
export function safeValue(value: string | undefined, maxLength = 255): string {
  if (value === undefined) return '';
  let v = value
    .replace(/;/g, ',')
    // eslint-disable-next-line no-control-regex -- control characters are what this replaces
    .replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ')
    .trim();
  if (v.length > maxLength) v = Array.from(v).slice(0, maxLength).join('').slice(0, maxLength).trim();
  return v;
}

/** X-MSS-INS: 'O' or 'N' (Tableau 46, length 1); anything else would fail control n°7. */
export function insFlag(value: string | undefined): { value: string; dropped: boolean } {
  if (value === undefined) return { value: '', dropped: false };
  const v = value.trim().toUpperCase();
  if (v === 'O' || v === 'N') return { value: v, dropped: false };
  return { value: '', dropped: v !== '' };
}

/** EX_SSU_5800: "information indisponible". */
export const UNKNOWN_LAST_LOGIN = '1900-01-01 00:00:00';
