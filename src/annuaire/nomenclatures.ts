// The terminologies of Tableau 6 that the feed uses, as far as the Référentiel states them
// (§6.4.2.3.3, Tableaux 14–16). The NOS tables themselves (G15, R38/R40/R44) are not in the
// seeds: codes the text does not state are checked for their shape only, and a code outside
// the local copy of G15 is a warning (the Annuaire decides, MSS025), never a refusal.

/** G07 Type d'identifiant PM: 1 FINESS, 2 SIREN, 3 SIRET. */
export const G07 = new Set(['1', '2', '3']);
/** G08 Type d'identifiant PP: 0 ADELI, 8 RPPS, 10 internal (the BAL address). */
export const G08 = new Set(['0', '8', '10']);
/** Co-holders of a CAB: ADELI or RPPS only (CAB table). */
export const G08_COHOLDER = new Set(['0', '8']);

/** R11 civilité d'exercice, per profession (Tableau 15). */
export const CIVILITE_BY_PROFESSION: Readonly<Record<string, readonly string[]>> = {
  '10': ['PR', 'MG', 'MC', 'DR'], // médecin
  '21': ['PR', 'PC', 'PG', 'DR'], // pharmacien
  '40': ['PR', 'DR'], // chirurgien-dentiste
};
export const R11 = new Set(['PR', 'MG', 'MC', 'DR', 'PC', 'PG']);

/** R37 catégorie de professions: a two-digit code; only 01 is allowed for PER 10 (RG_CTR_024). */
export const R37_SHAPE = /^\d{2}$/;
export const CATEGORY_ALLOWED = '01';
/** "06" professionnel social: structure recommended (RG_CTR_047). */
export const CATEGORY_SOCIAL = '06';

/**
 * G15 professions known locally (the professions of santé and a few others of the RPPS).
 * Incomplete by nature: a code outside it is reported as a warning, not refused.
 */
export const G15_KNOWN: ReadonlyMap<string, string> = new Map([
  ['10', 'Médecin'],
  ['21', 'Pharmacien'],
  ['26', 'Audioprothésiste'],
  ['28', 'Opticien-lunetier'],
  ['31', 'Assistant dentaire'],
  ['32', 'Physicien médical'],
  ['35', 'Aide-soignant'],
  ['36', 'Ambulancier'],
  ['37', 'Auxiliaire de puériculture'],
  ['38', 'Préparateur en pharmacie hospitalière'],
  ['39', 'Préparateur en pharmacie'],
  ['40', 'Chirurgien-dentiste'],
  ['50', 'Sage-femme'],
  ['60', 'Infirmier'],
  ['69', 'Infirmier psychiatrique'],
  ['70', 'Masseur-kinésithérapeute'],
  ['80', 'Pédicure-podologue'],
  ['81', 'Orthoprothésiste'],
  ['82', 'Podo-orthésiste'],
  ['83', 'Orthopédiste-orthésiste'],
  ['84', 'Oculariste'],
  ['85', 'Épithésiste'],
  ['86', 'Technicien de laboratoire médical'],
  ['91', 'Orthophoniste'],
  ['92', 'Orthoptiste'],
  ['93', 'Psychologue'],
  ['94', 'Ergothérapeute'],
  ['95', 'Diététicien'],
  ['96', 'Psychomotricien'],
  ['98', 'Manipulateur ERM'],
]);
export const G15_SHAPE = /^\d{2}$/;

/** Tableau 15: a speciality only for these professions (doctors, pharmacists, dentists). */
export const SPECIALITY_PROFESSIONS = new Set(['10', '21', '40']);
export const DENTIST_SPECIALITIES = new Set(['SCD01', 'SCD02', 'SCD03']);
export const PHARMACIST_SPECIALITIES = new Set(['SP01', 'SP02', 'SP03', 'SP04']);
/** R38/R40/R44 codes: letters then digits (e.g. SM26, CEX12, PAC03). */
export const SPECIALITY_SHAPE = /^[A-Z]{2,5}\d{2,3}$/;

/** National identifiers' shapes (Tableau 14: ADELI X(9), RPPS X(11)). */
export const RPPS = /^\d{11}$/;
export const ADELI = /^(?:\d{2}|2[AB])\d{7}$/;
export const STRUCTURE_ID_BY_TYPE: Readonly<Record<string, RegExp>> = {
  '1': /^(?:\d{2}|2[AB])\d{7}$/, // FINESS
  '2': /^\d{9}$/, // SIREN
  '3': /^\d{14}$/, // SIRET
};
