// SIPIL's return codes (§9.7.4), and what each means for the operator. The two tables of
// getReport codes disagree (Tableau 48 in §6.9.3.2.2.2, Tableau 61 in §9.7.4.3): both
// readings are kept, and the decision relies on what cannot be misread (0, the per-file
// CodeRetour) — see reportVerdict().

/** Tableau 60 (§9.7.4.1): authentication to postFile and getReport. */
export const AUTH_CODES: Record<number, string> = {
  10: 'La recuperation de la liste blanche a echoue (connexion refusée)',
  20: "Acces refuse. Le certificat n'est pas lisible",
  30: "Acces refuse. Le certificat presente n'appartient pas a l'Espace de Confiance",
  100: 'Une erreur technique est survenue',
};

/** Tableau 60 bis (§9.7.4.2): postFile. */
export const DEPOSIT_CODES: Record<number, string> = {
  0: "Depot de l'archive OK",
  1: "Depot de l'archive KO - Erreur technique",
  2: "Depot de l'archive KO - Taille trop grande",
  3: "Depot de l'archive KO - Type Mime non autorise",
  4: "Dépôt de la partie de l'archive OK",
  5: 'Partie déjà déposée et écrasée',
  6: "Depot de l'archive KO - Le nombre total de parties dépasse le maximum autorisé",
  7: "Depot de l'archive KO - Le nombre total de parties a changé",
  8: "Depot de l'archive KO - Le numéro de la partie dépasse le total",
  100: 'Une erreur technique est survenue (vérification de la liste blanche)',
};

/** Tableau 61 (§9.7.4.3): getReport, the annex's table. */
export const REPORT_CODES_T61: Record<number, string> = {
  0: "Tous les fichiers de l'archive ont été traités OK ou en Warning",
  1: "Une partie des fichiers de l'archive sont OK ou en Warning, les autres KO",
  2: "Tous les fichiers de l'archive ont été traités KO",
  4: "L'archive n'a pas pu être traitée : Archive vide",
  5: "L'archive n'a pas pu être traitée : Archive ne pouvant être ouverte",
  6: "L'archive est toujours en cours de traitement",
  7: "L'archive n'a pas pu être traitée : Virus trouve",
  8: "L'archive n'a pas pu être traitée : autre",
  99: "L'archive n'existe pas",
  100: 'Une erreur technique est survenue',
};

/** Tableau 48 (§6.9.3.2.2.2): getReport, the body's table. */
export const REPORT_CODES_T48: Record<number, string> = {
  0: "Tous les fichiers de l'archive ont été traités OK ou en Warning",
  1: "Tous les fichiers de l'archive ont été traités KO",
  2: "Une partie des fichiers de l'archive sont OK ou en Warning, les autres KO",
  4: "L'archive n'a pas pu être traitée : Archive vide",
  5: "L'archive n'a pas pu être traitée : Archive ne pouvant être ouverte",
  6: "L'archive n'a pas pu être traitée : autre",
};

/** Tableau 62 (§9.7.4.4): one control. */
export const CONTROL_CODES: Record<number, string> = { 0: 'OK', 1: 'KO', 2: 'Warning', 100: 'Une erreur technique est survenue' };

/** Per-file CodeRetour (Tableau 48). */
export const FILE_CODES: Record<number, string> = { 0: 'OK', 1: 'KO', 2: 'Warning' };

export type ReportVerdict = 'accepted' | 'rejected' | 'pending' | 'unknown-id' | 'error';

export interface VerdictInput {
  code: number;
  fileCodes: readonly number[];
}

/**
 * What a report means. Per-file codes decide when there are files (they read the same in
 * both tables). Without files: 0 accepted; 6 is "still processing" in Tableau 61 but "other
 * failure" in Tableau 48 — a report with no file is taken as not ready yet (EX_SSU_5820: ask
 * again 12 hours later); 99 unknown id; anything else a failure.
 */
export function reportVerdict(r: VerdictInput): { verdict: ReportVerdict; readings: string[] } {
  const t61 = REPORT_CODES_T61[r.code] ?? 'code inconnu';
  const t48 = REPORT_CODES_T48[r.code];
  const readings = [`Tableau 61 (§9.7.4.3): ${t61}`, ...(t48 !== undefined && t48 !== t61 ? [`Tableau 48 (§6.9.3.2.2.2): ${t48}`] : [])];
  if (r.fileCodes.length > 0) {
    const ko = r.fileCodes.some((c) => c !== 0 && c !== 2);
    return { verdict: ko ? 'rejected' : 'accepted', readings };
  }
  if (r.code === 0) return { verdict: 'accepted', readings };
  if (r.code === 6) return { verdict: 'pending', readings };
  if (r.code === 99) return { verdict: 'unknown-id', readings };
  return { verdict: r.code === 1 || r.code === 2 || r.code === 4 || r.code === 5 || r.code === 7 ? 'rejected' : 'error', readings };
}
