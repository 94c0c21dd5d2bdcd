// The control rules of Référentiel #1 §9.7.3 (Tableaux 57 and 59) and the CAB table of
// §6.4.2.3.3.4, in the Annuaire's own terms: rule, MSS code, message, criticality. The
// local validation before sending (validate.ts), the sandbox Annuaire's batch and the
// report printer all read this one table, so a problem found here is reported exactly as
// the Annuaire would report it.

export type Criticality = 'Bloquante' | 'Warning';

export interface ControlRule {
  rule: string;
  /** MSS code of the report; WSMSS12 for the schema checks of Tableau 57; undefined where the Référentiel gives none (CAB rules 1xx). */
  code: string | undefined;
  criticality: Criticality;
  /** Message of Tableau 59 (labels "may change at the ANS's discretion"). */
  message: string;
  /** Needs the Annuaire's data (identities, structures): checked by the Annuaire only. */
  needsAnnuaire?: boolean;
  /** Needs the open/closed status of nomenclature codes (NOS): checked by the Annuaire only. */
  needsNos?: boolean;
}

const B: Criticality = 'Bloquante';
const W: Criticality = 'Warning';

const RULES: ControlRule[] = [
  { rule: 'RG_CTR_000', code: 'MSS000', criticality: B, message: "Le nom de domaine communiqué n'existe pas dans la liste blanche" },
  { rule: 'RG_CTR_001', code: 'MSS001', criticality: B, message: 'Le domaine de la BAL ne correspond pas au domaine alimenté' },
  { rule: 'RG_CTR_002', code: 'WSMSS12', criticality: B, message: 'Schéma XML non conforme : TypeBAL absent' },
  { rule: 'RG_CTR_003', code: 'WSMSS12', criticality: B, message: 'Schéma XML non conforme : TypeBAL hors PER, APP, ORG, CAB' },
  { rule: 'RG_CTR_004', code: 'WSMSS12', criticality: B, message: 'Schéma XML non conforme : AdresseBAL absente' },
  {
    rule: 'RG_CTR_005',
    code: 'MSS005',
    criticality: B,
    message: 'Le type d’identifiant personne physique est obligatoire pour les BAL MSSanté de type PER - Personnelle',
  },
  { rule: 'RG_CTR_006', code: 'WSMSS12', criticality: B, message: "Schéma XML non conforme : TypeIdentifiantPP hors de la nomenclature Type d'identifiant PP" },
  {
    rule: 'RG_CTR_007',
    code: 'MSS007',
    criticality: B,
    message: "L'identifiant personne physique est obligatoire pour les adresses BAL MSSanté de type PER (Personnelle)",
  },
  {
    rule: 'RG_CTR_008',
    code: 'MSS008',
    criticality: B,
    message: "L'identifiant national du professionnel de santé transmis n'existe pas dans le référentiel des identités PP/PM",
    needsAnnuaire: true,
  },
  {
    rule: 'RG_CTR_009',
    code: 'MSS009',
    criticality: B,
    message: "Le type d'identifiant de la structure d'activité est obligatoire pour les BAL MSSanté d'un professionnel de santé avec identifiant interne",
  },
  {
    rule: 'RG_CTR_010',
    code: 'MSS010',
    criticality: B,
    message: "Le type d'identifiant de la structure d'activité transmis n'est pas présent dans la nomenclature de référence utilisée",
  },
  {
    rule: 'RG_CTR_011',
    code: 'MSS011',
    criticality: B,
    message: "Le type d'identifiant de la structure d'activité est obligatoire pour les adresses de BAL MSSanté de type Organisationnelle ou Applicative",
  },
  {
    rule: 'RG_CTR_012',
    code: 'MSS010',
    criticality: B,
    message: "Le type d'identifiant de la structure d'activité transmis n'est pas présent dans la nomenclature de référence utilisée",
  },
  {
    rule: 'RG_CTR_013',
    code: 'MSS012',
    criticality: B,
    message: "L'identifiant de la structure d'activité est obligatoire pour les adresses de BAL MSSanté d'un professionnel de santé avec identifiant interne",
  },
  {
    rule: 'RG_CTR_014',
    code: 'MSS013',
    criticality: B,
    message: "L'identifiant de la structure d'activité est obligatoire pour les BAL MSSanté de type Organisationnelle ou Applicative",
  },
  { rule: 'RG_CTR_015', code: 'WSMSS12', criticality: B, message: 'Schéma XML non conforme : TypeIdentifiantPM hors 1 (FINESS), 2 (SIREN), 3 (SIRET)' },
  {
    rule: 'RG_CTR_016',
    code: 'MSS015',
    criticality: B,
    message: "L'identifiant de la structure d'activité transmise n'existe pas dans le référentiel des identités PP/PM",
    needsAnnuaire: true,
  },
  { rule: 'RG_CTR_017', code: 'MSS016', criticality: B, message: "La valeur de la civilité d'exercice n'est pas conforme à la nomenclature utilisée" },
  {
    rule: 'RG_CTR_018',
    code: 'MSS017',
    criticality: B,
    message: "La valeur de la civilité d'exercice n'est pas conforme à la profession transmise pour le professionnel de santé",
  },
  {
    rule: 'RG_CTR_019',
    code: 'MSS018',
    criticality: B,
    message: "Le nom d'exercice est obligatoire pour tout professionnel de santé avec ou sans identifiant national",
  },
  {
    rule: 'RG_CTR_020',
    code: 'MSS019',
    criticality: B,
    message: "Le prénom d'exercice est obligatoire pour tout professionnel de santé avec ou sans identifiant national",
  },
  {
    rule: 'RG_CTR_021',
    code: 'MSS020',
    criticality: W,
    message:
      "Le nom et/ou le prénom d'exercice du professionnel de santé ne correspondent pas au nom et/ou prénom d'exercice rattachés à l'identifiant national dans l'Annuaire Santé",
    needsAnnuaire: true,
  },
  {
    rule: 'RG_CTR_022',
    code: 'MSS021',
    criticality: B,
    message: "La catégorie de profession est obligatoire pour la BAL d'un professionnel de santé avec identifiant interne",
  },
  {
    rule: 'RG_CTR_023',
    code: 'MSS022',
    criticality: B,
    message: "La valeur transmise pour la catégorie de professions n'est pas présente dans la nomenclature de référence utilisée",
  },
  { rule: 'RG_CTR_024', code: 'MSS023', criticality: B, message: "La valeur transmise pour la Catégorie de profession n'est pas autorisée" },
  {
    rule: 'RG_CTR_025',
    code: 'MSS024',
    criticality: B,
    message: "La profession est obligatoire pour la BAL d'un professionnel de santé avec identifiant interne",
  },
  {
    rule: 'RG_CTR_026',
    code: 'MSS025',
    criticality: B,
    message: "La valeur transmise pour la profession n'est pas présente dans la nomenclature de référence utilisée",
  },
  {
    rule: 'RG_CTR_027',
    code: 'MSS026',
    criticality: B,
    message: "La valeur transmise pour la spécialité n'est pas présente dans la nomenclature de référence utilisée",
  },
  { rule: 'RG_CTR_028', code: 'MSS027', criticality: B, message: "Cette spécialité n'est pas autorisée pour la profession indiquée" },
  { rule: 'RG_CTR_029', code: 'MSS028', criticality: B, message: 'Le responsable est obligatoire pour une BAL de type Applicative ou Organisationnelle' },
  { rule: 'RG_CTR_030', code: 'MSS029', criticality: B, message: 'La description est obligatoire pour une BAL de type Applicative ou Organisationnelle' },
  { rule: 'RG_CTR_032', code: 'WSMSS12', criticality: B, message: 'Schéma XML non conforme : ListeRouge absente ou hors O/N' },
  {
    rule: 'RG_CTR_033',
    code: 'MSS032',
    criticality: B,
    message: "L'identification par un SIRET ou SIREN n'est acceptée que si la structure n'a pas de numéro FINESS",
    needsAnnuaire: true,
  },
  {
    rule: 'RG_CTR_034',
    code: 'MSS033',
    criticality: W,
    message:
      "L'identifiant de structure fourni ne correspond pas à une structure d'exercice connue de la personne : la BAL est rattachée à la PP et à la structure indiquée dans le flux d'alimentation (et uniquement à cette structure)",
    needsAnnuaire: true,
  },
  {
    rule: 'RG_CTR_035',
    code: 'MSS034',
    criticality: B,
    message: "L'identifiant interne pour un professionnel de santé avec identifiant interne doit être identique à la valeur de la BAL MSSanté",
  },
  {
    rule: 'RG_CTR_036',
    code: 'MSS035',
    criticality: B,
    message:
      'Pour les types de BAL PP RPPS ou ADELI, la valeur indiquée pour le service de rattachement ne peut être prise en compte que si un identifiant de structure est renseigné',
  },
  {
    rule: 'RG_CTR_037',
    code: 'MSS036',
    criticality: W,
    message: 'Le type d’identifiant personne physique transmis est fermé dans la nomenclature de référence utilisée',
    needsNos: true,
  },
  {
    rule: 'RG_CTR_038',
    code: 'MSS037',
    criticality: W,
    message: "Le type d'identifiant de la structure d'activité transmis est fermé dans la nomenclature de référence utilisée",
    needsNos: true,
  },
  {
    rule: 'RG_CTR_039',
    code: 'MSS037',
    criticality: W,
    message: "Le type d'identifiant de la structure d'activité transmis est fermé dans la nomenclature de référence utilisée",
    needsNos: true,
  },
  {
    rule: 'RG_CTR_040',
    code: 'MSS038',
    criticality: W,
    message: "La valeur de la civilité d'exercice est fermée dans la nomenclature utilisée",
    needsNos: true,
  },
  {
    rule: 'RG_CTR_041',
    code: 'MSS039',
    criticality: W,
    message: 'La valeur transmise pour la catégorie de professions est fermée dans la nomenclature de référence utilisée',
    needsNos: true,
  },
  {
    rule: 'RG_CTR_042',
    code: 'MSS040',
    criticality: W,
    message: 'La valeur transmise pour la profession est fermée dans la nomenclature de référence utilisée',
    needsNos: true,
  },
  {
    rule: 'RG_CTR_043',
    code: 'MSS041',
    criticality: W,
    message: 'La valeur transmise pour la spécialité est fermée dans la nomenclature de référence utilisée',
    needsNos: true,
  },
  { rule: 'RG_CTR_044', code: 'MSS042', criticality: B, message: "L'adresse de la BAL MSSanté doit être unique dans le fichier d'alimentation" },
  {
    rule: 'RG_CTR_045',
    code: 'MSS043',
    criticality: W,
    message: "L'identifiant national du professionnel de santé transmis n'est plus l'identifiant national valide dans le référentiel des identités PP/PM.",
    needsAnnuaire: true,
  },
  { rule: 'RG_CTR_046', code: 'WSMSS12', criticality: B, message: 'Schéma XML non conforme : AdresseBAL de plus de 256 caractères' },
  {
    rule: 'RG_CTR_047',
    code: 'MSS045',
    criticality: W,
    message: "L'identifiant de la structure d'activité est recommandé pour les adresses de BAL MSSanté d'un professionnel social",
  },
  {
    rule: 'RG_CTR_048',
    code: 'MSS046',
    criticality: W,
    message: "L'identifiant de la structure d'activité transmise n'existe pas dans le référentiel des identités PP/PM",
    needsAnnuaire: true,
  },
  { rule: 'RG_CTR_049', code: 'MSS047', criticality: B, message: 'Le numéro RPPS indiqué est attribué à un étudiant.', needsAnnuaire: true },
  // CAB (§6.4.2.3.3.4): rules named in the table, absent from §9.7.3 (no code, no message).
  { rule: 'RG_CTR_102', code: undefined, criticality: B, message: 'TypeBAL CAB' },
  { rule: 'RG_CTR_104', code: undefined, criticality: B, message: 'ListeRouge obligatoire (O/N) pour une BAL CAB' },
  { rule: 'RG_CTR_106', code: undefined, criticality: B, message: 'Un seul cotitulaire déclaré responsable (EstResponsable = O)' },
  { rule: 'RG_CTR_108', code: undefined, criticality: B, message: 'Description obligatoire pour une BAL CAB' },
  { rule: 'RG_CTR_120', code: undefined, criticality: B, message: 'TypeIdentifiantPP du cotitulaire obligatoire (0 ADELI, 8 RPPS)' },
  { rule: 'RG_CTR_121', code: undefined, criticality: B, message: 'IdentifiantPP du cotitulaire obligatoire' },
  { rule: 'RG_CTR_122', code: undefined, criticality: B, message: "Nom d'exercice du cotitulaire obligatoire" },
  { rule: 'RG_CTR_123', code: undefined, criticality: B, message: "Prénom d'exercice du cotitulaire obligatoire" },
  { rule: 'RG_CTR_140', code: undefined, criticality: B, message: 'TypeIdentifiantPP du cotitulaire hors nomenclature (0, 8)' },
  {
    rule: 'RG_CTR_141',
    code: undefined,
    criticality: B,
    message: "L'identifiant national du cotitulaire n'existe pas dans le référentiel",
    needsAnnuaire: true,
  },
  { rule: 'RG_CTR_142', code: undefined, criticality: W, message: "Nom d'exercice du cotitulaire différent de l'Annuaire Santé", needsAnnuaire: true },
  { rule: 'RG_CTR_143', code: undefined, criticality: W, message: "Prénom d'exercice du cotitulaire différent de l'Annuaire Santé", needsAnnuaire: true },
];

export const CONTROL_RULES: ReadonlyMap<string, ControlRule> = new Map(RULES.map((r) => [r.rule, r]));

/** The rule behind a report's MSS code (several rules share MSS010 and MSS037: the first is given). */
const BY_CODE = new Map<string, ControlRule>();
for (const r of RULES) if (r.code && r.code !== 'WSMSS12' && !BY_CODE.has(r.code)) BY_CODE.set(r.code, r);

export function ruleOf(id: string): ControlRule {
  const r = CONTROL_RULES.get(id);
  if (!r) throw new Error(`unknown control rule ${id}`);
  return r;
}

export function ruleForCode(code: string): ControlRule | undefined {
  const c = code.trim().toUpperCase().replace(/^MSSO/, 'MSS0');
  // The CAB rules (RG_CTR_1xx) have no code in the Référentiel; the sandbox writes MSS1xx.
  const cab = /^MSS(1\d\d)$/.exec(c);
  return cab ? CONTROL_RULES.get(`RG_CTR_${cab[1]}`) : BY_CODE.get(c);
}

/** The first letter of the first name and the first two of the name, without accents, hyphens, apostrophes, spaces (RG_CTR_021). */
export function nameKey(lastName: string, firstName: string): string {
  const norm = (s: string): string =>
    s
      .normalize('NFD')
      .replace(/[\u0300-\u036f]/g, '')
      .replace(/[-'’\s]/g, '')
      .toUpperCase();
  return `${norm(firstName).slice(0, 1)}|${norm(lastName).slice(0, 2)}`;
}
