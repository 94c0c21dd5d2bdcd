// What the sandbox SIPIL knows of the statistics web services, written from the Référentiel
// #1 v1.6.0 (§6.9.3.1 Tableaux 46–47, §6.9.3.2 Figures 37–38 and Tableau 48, §9.7.4
// Tableaux 60–64) and NOT from the client's src/stats: the sandbox is the ANS peer that
// checks our statistics, so it must not share the client's reading. Where the text leaves a
// choice, the reading here is the most literal one; docs/stats.md ("Two readings") says
// where the client decided otherwise and why, and the tests show each difference.

/** Figure 37: `<Depot xmlns="http://fr/asip/mss/sipil/manager/bean/warehouse">`. */
export const DEPOT_NS = 'http://fr/asip/mss/sipil/manager/bean/warehouse';

/** §9.7.4.1 (Tableau 60): authentication to postFile and getReport. */
export const AUTH_CODES: Readonly<Record<number, string>> = {
  10: 'La recuperation de la liste blanche a echoue',
  20: "Acces refuse. Le certificat n'est pas lisible",
  30: "Acces refuse. Le certificat presente n'appartient pas a l'Espace de Confiance",
  100: 'Une erreur technique est survenue',
};

/** §9.7.4.2 (the second Tableau 60): the deposit. */
export const DEPOSIT_CODES: Readonly<Record<number, string>> = {
  0: "Depot de l'archive OK",
  1: "Depot de l'archive KO - Erreur technique",
  2: "Depot de l'archive KO - Taille trop grande",
  3: "Depot de l'archive KO - Type Mime non autorise",
  4: "Dépôt de la partie de l'archive OK",
  5: 'Partie déjà déposée et écrasée',
  6: "Depot de l'archive KO - Le nombre total de parties dépasse le maximum autorisé",
  7: "Depot de l'archive KO - Le nombre total de parties a changé",
  8: "Depot de l'archive KO - Le numéro de la partie dépasse le total",
  100: 'Une erreur technique est survenue',
};

/**
 * « La taille de l'archive dépasse 70 Mo » (§6.9.3.2.1): read as 70 × 2^20 bytes, the larger
 * reading of « Mo » (the client sends at most 70,000,000 in one piece, within either).
 */
export const MAX_ARCHIVE_BYTES = 70 * 1024 * 1024;
/** « Ce nombre de parties ne peut pas être supérieur à 30 ». */
export const MAX_PARTS = 30;
/** « Au-delà de 12 heures, le dépôt des segments est considéré comme abandonné et est supprimé ». */
export const SEGMENTS_ABANDONED_MS = 12 * 3_600_000;

/**
 * CodeRetourGlobal of the CompteRendu, as Tableau 48 — the field's own description — numbers
 * it: 1 is « Tous les fichiers … KO » and 2 « Une partie … » (Tableau 61 swaps them), 6 is
 * « autre ». Tableau 61's codes for what Tableau 48 does not name: 6 « toujours en cours »
 * when the report is asked for too early, 7 virus, 99 unknown archive.
 */
export const GLOBAL_CODES: Readonly<Record<number, string>> = {
  0: "Tous les fichiers de l'archive ont été traités OK ou en Warning",
  1: "Tous les fichiers de l'archive ont été traités KO",
  2: "Une partie des fichiers de l'archive sont OK ou en Warning, les autres KO",
  4: "L'archive n'a pas pu être traitée : Archive vide",
  5: "L'archive n'a pas pu être traitée : Archive ne pouvant être ouverte",
  6: "L'archive n'a pas pu être traitée : autre",
};
export const REPORT_PENDING = { code: 6, message: "L'archive est toujours en cours de traitement" };
export const REPORT_VIRUS = { code: 7, message: "L'archive n'a pas pu être traitée : Virus trouve" };
export const REPORT_UNKNOWN = { code: 99, message: "L'archive n'existe pas" };

/** Tableau 62: a control's CodeRetour. */
export const OK = 0;
export const KO = 1;
export const WARNING = 2;

// ---------------------------------------------------------------- the files (Tableaux 46, 47)

export type ColumnKind = 'text' | 'mail' | 'date' | 'dateOrEmpty' | 'integer' | 'ins';

export interface ColumnDef {
  title: string;
  kind: ColumnKind;
  /** Longueur of the table, when it gives one. */
  length?: number;
}

/** Tableau 46, in the order « attendu pour le fichier ». */
export const ECHANGES: readonly ColumnDef[] = [
  { title: 'MAIL_ID', kind: 'text', length: 255 },
  { title: 'EXPEDITEUR', kind: 'mail', length: 255 },
  { title: 'DESTINATAIRE', kind: 'mail', length: 255 },
  { title: 'DATE', kind: 'date', length: 19 },
  { title: 'TAILLE', kind: 'integer' },
  { title: 'INS', kind: 'ins', length: 1 },
  { title: 'CODECDA', kind: 'text', length: 255 },
  { title: 'NIL', kind: 'text', length: 255 },
];
/** Tableau 63 n°5: « Le fichier doit contenir 5 champs par ligne »: the first five of Tableau 46. */
export const ECHANGES_FIVE: readonly ColumnDef[] = ECHANGES.slice(0, 5);

/** Tableau 47. */
export const CONNEXIONS: readonly ColumnDef[] = [
  { title: 'BAL', kind: 'mail', length: 255 },
  { title: 'DATE_DERNIERE_CONNEXION', kind: 'dateOrEmpty', length: 19 },
];

/**
 * Tableaux 63/64 n°1: « (AAAAMM)_EchangesMSSante_[Domaine].csv » — the parentheses and brackets
 * mark the values (the 2020 guide writes the same), as in 202503_EchangesMSSante_ch-x.mssante.fr.csv.
 */
export const FILE_NAME = /^(\d{4})(\d{2})_(EchangesMSSante|ConnexionsMSSante)_([A-Za-z0-9][A-Za-z0-9.-]*\.[A-Za-z]{2,})\.csv$/;

export interface ControlDef {
  /** CodeContrôle. */
  code: number;
  check: 'name' | 'utf8' | 'lf' | 'separator' | 'fields' | 'header' | 'rows' | 'domain' | 'rowDomains' | 'period' | 'duplicate';
  /** « Type de contrôle »: Bloquant, or warning. */
  blocking: boolean;
  label: string;
}

const COMMON: ControlDef[] = [
  { code: 1, check: 'name', blocking: true, label: 'Contrôle du nom du fichier' },
  { code: 2, check: 'utf8', blocking: true, label: 'Contrôle encodage' },
  { code: 3, check: 'lf', blocking: true, label: 'Contrôle encodage' },
  { code: 4, check: 'separator', blocking: true, label: 'Contrôle du séparateur' },
  { code: 5, check: 'fields', blocking: true, label: 'Contrôle du nombre de champ' },
  { code: 6, check: 'header', blocking: true, label: "Contrôle du nommage des champs dans l'entête" },
  { code: 7, check: 'rows', blocking: true, label: 'Contrôle de la cohérence des lignes' },
  { code: 8, check: 'domain', blocking: true, label: 'Opérateur habilité pour déposer pour un domaine ?' },
];

/** Tableau 63. */
export const ECHANGES_CONTROLS: readonly ControlDef[] = [
  ...COMMON,
  { code: 9, check: 'period', blocking: true, label: 'Contrôle de la période' },
  { code: 10, check: 'duplicate', blocking: false, label: 'Fichier déjà reçu avec contrôle OK' },
];

/** Tableau 64 (its n°9 is labelled « Contrôle de la période » but described as the check of every domain of the file). */
export const CONNEXIONS_CONTROLS: readonly ControlDef[] = [
  ...COMMON,
  { code: 9, check: 'rowDomains', blocking: true, label: 'Contrôle de la période' },
  { code: 10, check: 'period', blocking: true, label: 'Contrôle de la période' },
  { code: 11, check: 'duplicate', blocking: false, label: 'Fichier déjà reçu avec contrôle OK' },
];

/** « Le nombre de ligne N remonté en erreur est une limitation ajustable par fichier de configuration ». */
export const MAX_ERROR_LINES = 100;
