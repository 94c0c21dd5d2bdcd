// Local validation of a feed against the control rules of §9.7.3 that need no Annuaire data
// (lengths, formats, required fields, nomenclature codes, address characters), reported in
// the Annuaire's terms (MSS code, rule, criticality) before anything is sent. The sandbox
// Annuaire runs the same checks in its batch and adds those that need its referential.
//
// Per record, as §9.7.3 says: format controls, then required fields, then nomenclature
// codes, stopping at the first blocking anomaly; if those pass, every other control runs.
import { CONTROL_RULES, type Criticality } from './controls.js';
import { FIELD_MAX, type CoHolderField, type RecordField } from './contract.js';
import type { DomainFeed } from './feed.js';
import {
  ADELI,
  CATEGORY_ALLOWED,
  CATEGORY_SOCIAL,
  CIVILITE_BY_PROFESSION,
  DENTIST_SPECIALITIES,
  G07,
  G08,
  G08_COHOLDER,
  G15_KNOWN,
  G15_SHAPE,
  PHARMACIST_SPECIALITIES,
  R11,
  R37_SHAPE,
  RPPS,
  SPECIALITY_PROFESSIONS,
  SPECIALITY_SHAPE,
  STRUCTURE_ID_BY_TYPE,
} from './nomenclatures.js';
import type { CoHolderRecord, FeedRecord } from './record.js';

export interface Anomaly {
  domain: string;
  /** AdresseBAL of the record (absent for a domain-level anomaly). */
  bal?: string;
  typeBal?: string;
  /** The field concerned (co-holders: ListeCotitulaires[i].Field). */
  field?: string;
  /** RG_CTR_xxx, or the requirement / XSD fact checked. */
  rule: string;
  /** MSSxxx of the report, WSMSS12 for schema checks, undefined for rules the Référentiel gives no code. */
  code?: string;
  criticality: Criticality;
  /** The Annuaire's message for the rule (Tableau 59), or ours for local requirements. */
  message: string;
  /** What exactly was found. */
  detail?: string;
  /** Identifiers as sent, echoed by the report (TypIdentifiantPP, IdentifiantPP, TypIdentifiantPM, IdentifiantPM). */
  sent?: { typeIdentifiantPP?: string; identifiantPP?: string; typeIdentifiantPM?: string; identifiantPM?: string };
  /** Values the Annuaire knows (reports only: NomExerciceAnnuaire…). */
  annuaire?: { nom?: string; prenom?: string; typeIdentifiantPP?: string; identifiantPP?: string };
}

export interface ValidationContext {
  /** operator.finessRegistered (EX_PBA_5011). */
  finessRegistered: boolean;
  /**
   * The local liste blanche, when available: RG_CTR_000 (domain listed) and the
   * precondition of §6.4.2.2 (our certificate's DN listed for the domain, else WSMSS06).
   */
  whitelist?: { hasDomain(domain: string): boolean; allows(dn: string, domain: string): boolean };
  /** Our certificate's DN (for the whitelist precondition). */
  dn?: string;
}

export interface ValidationResult {
  anomalies: Anomaly[];
  blocking: number;
  warnings: number;
  /** Records with at least one blocking anomaly (the Annuaire would reject them). */
  rejected: number;
}

// XML 1.0 Char production: no C0 controls but tab/LF/CR, no U+FFFE/U+FFFF, no lone surrogates.
// eslint-disable-next-line no-control-regex -- the C0 controls XML refuses are the point
const NOT_XML_CHAR = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const LOCAL_PART = /^[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*$/;
const DOMAIN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/i;

type Phase1 = 'format' | 'mandatory' | 'nomenclature';

/** Collects one record's anomalies; in phase 1 the first blocking one ends the record's checks. */
class Findings {
  readonly list: Anomaly[] = [];
  stopped = false;
  constructor(
    private readonly domain: string,
    private readonly record: FeedRecord,
  ) {}

  add(rule: string, field: string | undefined, detail: string, over: { criticality?: Criticality; message?: string; code?: string | null } = {}): void {
    const r = CONTROL_RULES.get(rule);
    const code = over.code === null ? undefined : (over.code ?? r?.code);
    this.list.push({
      domain: this.domain,
      ...(this.record.AdresseBAL !== undefined ? { bal: this.record.AdresseBAL } : {}),
      ...(this.record.TypeBAL !== undefined ? { typeBal: this.record.TypeBAL } : {}),
      ...(field ? { field } : {}),
      rule,
      ...(code ? { code } : {}),
      criticality: over.criticality ?? r?.criticality ?? 'Bloquante',
      message: over.message ?? r?.message ?? rule,
      detail,
    });
  }

  get blocked(): boolean {
    return this.list.some((a) => a.criticality === 'Bloquante');
  }
}

const present = (v: string | undefined): v is string => v !== undefined && v.trim() !== '';

/** Checks of one record, in the order of §9.7.3. */
export function validateRecord(domain: string, record: FeedRecord, ctx: ValidationContext): { anomalies: Anomaly[]; phase1Blocked: boolean } {
  const f = new Findings(domain, record);
  const phases: Array<[Phase1, (f: Findings, r: FeedRecord) => void]> = [
    ['format', formatChecks],
    ['mandatory', mandatoryChecks],
    ['nomenclature', nomenclatureChecks],
  ];
  for (const [, run] of phases) {
    run(f, record);
    if (f.blocked) return { anomalies: f.list, phase1Blocked: true };
  }
  otherChecks(f, record, domain, ctx);
  return { anomalies: f.list, phase1Blocked: false };
}

function formatChecks(f: Findings, r: FeedRecord): void {
  // RG_CTR_002/003 (WSMSS12): TypeBAL present and one of PER, APP, ORG, CAB.
  if (!present(r.TypeBAL)) f.add('RG_CTR_002', 'TypeBAL', 'TypeBAL is missing');
  else if (!['PER', 'APP', 'ORG', 'CAB'].includes(r.TypeBAL)) f.add('RG_CTR_003', 'TypeBAL', `TypeBAL "${r.TypeBAL}" is not PER, APP, ORG or CAB`);
  // RG_CTR_004 (WSMSS12): AdresseBAL present; RG_CTR_046: at most 256 characters (RFC 5321).
  if (!present(r.AdresseBAL)) f.add('RG_CTR_004', 'AdresseBAL', 'AdresseBAL is missing');
  else checkAddress(f, r.AdresseBAL);
  for (const [field, value] of Object.entries(r) as Array<[RecordField | 'coHolders', unknown]>) {
    if (field === 'coHolders' || typeof value !== 'string') continue;
    textFormat(f, field, value, field);
  }
  (r.coHolders ?? []).forEach((c, i) => {
    for (const [field, value] of Object.entries(c) as Array<[CoHolderField, string | undefined]>)
      if (value !== undefined) textFormat(f, field, value, `ListeCotitulaires[${i}].${field}`);
  });
  // RG_CTR_006 (Tableau 57, WSMSS12): TypeIdentifiantPP of the G08 nomenclature for "PER ou CAB"
  // (the co-holders of a CAB: RG_CTR_140).
  if ((r.TypeBAL === 'PER' || r.TypeBAL === 'CAB') && present(r.TypeIdentifiantPP) && !G08.has(r.TypeIdentifiantPP))
    f.add('RG_CTR_006', 'TypeIdentifiantPP', `TypeIdentifiantPP "${r.TypeIdentifiantPP}" is not 0 (ADELI), 8 (RPPS) or 10 (internal)`);
  // RG_CTR_015 (WSMSS12): TypeIdentifiantPM is 1 FINESS, 2 SIREN or 3 SIRET.
  if (present(r.TypeIdentifiantPM) && !G07.has(r.TypeIdentifiantPM))
    f.add('RG_CTR_015', 'TypeIdentifiantPM', `TypeIdentifiantPM "${r.TypeIdentifiantPM}" is not 1, 2 or 3`);
  // RG_CTR_032 (Tableau 57, WSMSS12: "pour tout enregistrement", a CAB too — its table names
  // RG_CTR_104): ListeRouge present, O or N (EX_PBA_5050).
  if (!present(r.ListeRouge) || !/^[ON]$/.test(r.ListeRouge))
    f.add('RG_CTR_032', 'ListeRouge', `ListeRouge is ${r.ListeRouge === undefined ? 'missing' : `"${r.ListeRouge}"`}; expected O or N`);
  // Tableau 14: ADELI X(9), RPPS X(11).
  if (r.TypeBAL === 'PER' && present(r.IdentifiantPP)) {
    const max = r.TypeIdentifiantPP === '0' ? 9 : r.TypeIdentifiantPP === '8' ? 11 : 256;
    if (r.IdentifiantPP.length > max)
      f.add(
        'XSD',
        'IdentifiantPP',
        `IdentifiantPP of ${r.IdentifiantPP.length} characters; ${r.TypeIdentifiantPP === '0' ? 'ADELI X(9)' : r.TypeIdentifiantPP === '8' ? 'RPPS X(11)' : 'X(256)'}`,
        schema('Tableau 14'),
      );
  }
}

const schema = (table: string): { code: string; message: string; criticality: Criticality } => ({
  code: 'WSMSS12',
  criticality: 'Bloquante',
  message: `Schéma XML non conforme (${table})`,
});

function textFormat(f: Findings, field: string, value: string, where: string): void {
  const max = FIELD_MAX[field as RecordField];
  if (max !== undefined && value.length > max && field !== 'AdresseBAL')
    f.add('XSD', where, `${where} has ${value.length} characters; at most ${max} (X(${max}))`, schema('longueur'));
  if (NOT_XML_CHAR.test(value)) f.add('XSD', where, `${where} contains a character XML 1.0 cannot carry`, schema('caractères'));
}

function checkAddress(f: Findings, address: string): void {
  const at = address.lastIndexOf('@');
  const local = at > 0 ? address.slice(0, at) : '';
  const domain = at > 0 ? address.slice(at + 1) : '';
  if (address.length > 256) f.add('RG_CTR_046', 'AdresseBAL', `AdresseBAL has ${address.length} characters; at most 256`);
  else if (local.length > 64 || domain.length > 255)
    f.add('RG_CTR_046', 'AdresseBAL', `local part ${local.length} (≤ 64) / domain ${domain.length} (≤ 255) characters (RFC 5321)`);
  // EX_GBM_4300: RFC 5321 and only alphanumerics, ".", "_", "-", "+".
  if (!LOCAL_PART.test(local) || !DOMAIN.test(domain)) {
    f.add('EX_GBM_4300', 'AdresseBAL', `"${address}": only letters, digits, ".", "_", "-", "+" in the local part, a valid domain (RFC 5321)`, {
      code: 'WSMSS12',
      criticality: 'Bloquante',
      message: 'Adresse non conforme : caractères alphanumériques, « . », « _ », « - », « + » (RFC 5321)',
    });
  }
}

function mandatoryChecks(f: Findings, r: FeedRecord): void {
  if (r.TypeBAL === 'PER') {
    if (!present(r.TypeIdentifiantPP)) f.add('RG_CTR_005', 'TypeIdentifiantPP', 'TypeIdentifiantPP is missing');
    if (!present(r.IdentifiantPP)) f.add('RG_CTR_007', 'IdentifiantPP', 'IdentifiantPP is missing');
    if (!present(r.NomExercice)) f.add('RG_CTR_019', 'NomExercice', 'NomExercice is missing');
    if (!present(r.PrenomExercice)) f.add('RG_CTR_020', 'PrenomExercice', 'PrenomExercice is missing');
    // RG_CTR_047/048 make the structure optional for a social professional (category 06),
    // although RG_CTR_024 then refuses that category: both are reported.
    if (r.TypeIdentifiantPP === '10' && r.CategorieProfessions !== CATEGORY_SOCIAL) {
      if (!present(r.TypeIdentifiantPM)) f.add('RG_CTR_009', 'TypeIdentifiantPM', 'a PER with an internal identifier needs TypeIdentifiantPM');
      if (!present(r.IdentifiantPM)) f.add('RG_CTR_013', 'IdentifiantPM', 'a PER with an internal identifier needs IdentifiantPM');
    }
    if (r.TypeIdentifiantPP === '10') {
      if (!present(r.CategorieProfessions)) f.add('RG_CTR_022', 'CategorieProfessions', 'a PER with an internal identifier needs CategorieProfessions');
      if (!present(r.Profession)) f.add('RG_CTR_025', 'Profession', 'a PER with an internal identifier needs Profession');
    }
  } else if (r.TypeBAL === 'ORG' || r.TypeBAL === 'APP') {
    if (!present(r.TypeIdentifiantPM)) f.add('RG_CTR_011', 'TypeIdentifiantPM', `a ${r.TypeBAL} BAL needs TypeIdentifiantPM`);
    if (!present(r.IdentifiantPM)) f.add('RG_CTR_014', 'IdentifiantPM', `a ${r.TypeBAL} BAL needs IdentifiantPM`);
    if (!present(r.Responsable)) f.add('RG_CTR_029', 'Responsable', `a ${r.TypeBAL} BAL needs its Responsable`);
    if (!present(r.Description)) f.add('RG_CTR_030', 'Description', `a ${r.TypeBAL} BAL needs a Description`);
  } else if (r.TypeBAL === 'CAB') {
    // Tableau 59: RG_CTR_005 and RG_CTR_007 apply to "PER ou CAB", RG_CTR_029 and RG_CTR_030
    // to "ORG ou APP ou CAB" (the CAB table of §6.4.2.3.3.4 names RG_CTR_108 for Description).
    if (!present(r.TypeIdentifiantPP))
      f.add('RG_CTR_005', 'TypeIdentifiantPP', 'a CAB BAL carries the TypeIdentifiantPP of its Responsable opérationnel (EX_GBM_3030)');
    if (!present(r.IdentifiantPP))
      f.add('RG_CTR_007', 'IdentifiantPP', 'a CAB BAL carries the IdentifiantPP (RPPS) of its Responsable opérationnel (EX_GBM_3030)');
    if (!present(r.Responsable)) f.add('RG_CTR_029', 'Responsable', 'a CAB BAL needs its Responsable');
    if (!present(r.Description)) f.add('RG_CTR_030', 'Description', 'a CAB BAL needs a Description');
    const list = r.coHolders ?? [];
    if (list.length === 0) f.add('RG_CTR_106', 'ListeCotitulaires', 'a CAB BAL lists its co-holders, one of them responsible');
    list.forEach((c, i) => coHolderMandatory(f, c, i));
  }
}

function coHolderMandatory(f: Findings, c: CoHolderRecord, i: number): void {
  const at = (field: string): string => `ListeCotitulaires[${i}].${field}`;
  if (!present(c.TypeIdentifiantPP)) f.add('RG_CTR_120', at('TypeIdentifiantPP'), `co-holder ${i + 1}: TypeIdentifiantPP is missing`);
  if (!present(c.IdentifiantPP)) f.add('RG_CTR_121', at('IdentifiantPP'), `co-holder ${i + 1}: IdentifiantPP is missing`);
  if (!present(c.NomExercice)) f.add('RG_CTR_122', at('NomExercice'), `co-holder ${i + 1}: NomExercice is missing`);
  if (!present(c.PrenomExercice)) f.add('RG_CTR_123', at('PrenomExercice'), `co-holder ${i + 1}: PrenomExercice is missing`);
  if (!present(c.EstResponsable) || !/^[ON]$/.test(c.EstResponsable))
    f.add('RG_CTR_106', at('EstResponsable'), `co-holder ${i + 1}: EstResponsable must be O or N`);
}

function nomenclatureChecks(f: Findings, r: FeedRecord): void {
  if (r.TypeBAL === 'CAB') {
    (r.coHolders ?? []).forEach((c, i) => {
      if (present(c.TypeIdentifiantPP) && !G08_COHOLDER.has(c.TypeIdentifiantPP))
        f.add(
          'RG_CTR_140',
          `ListeCotitulaires[${i}].TypeIdentifiantPP`,
          `co-holder ${i + 1}: TypeIdentifiantPP "${c.TypeIdentifiantPP}" is not 0 (ADELI) or 8 (RPPS)`,
        );
    });
    return;
  }
  if (r.TypeBAL !== 'PER' || r.TypeIdentifiantPP !== '10') return;
  // RG_CTR_010: TypeIdentifiantPM of the G07 nomenclature.
  if (present(r.TypeIdentifiantPM) && !G07.has(r.TypeIdentifiantPM))
    f.add('RG_CTR_010', 'TypeIdentifiantPM', `TypeIdentifiantPM "${r.TypeIdentifiantPM}" is not in G07`);
  // RG_CTR_017: civilité of R11. Missing for a médecin, pharmacien or chirurgien-dentiste:
  // Tableau 15 « En cas d'erreur sur la civilité d'exercice par rapport à la profession saisie,
  // un code erreur MSS017 » (RG_CTR_018), as the sandbox Annuaire reports it.
  if (present(r.CiviliteExercice) && !R11.has(r.CiviliteExercice))
    f.add('RG_CTR_017', 'CiviliteExercice', `CiviliteExercice "${r.CiviliteExercice}" is not in R11`);
  else if (!present(r.CiviliteExercice) && r.Profession && CIVILITE_BY_PROFESSION[r.Profession]) {
    f.add('RG_CTR_018', 'CiviliteExercice', `profession ${r.Profession} needs a CiviliteExercice (${CIVILITE_BY_PROFESSION[r.Profession]?.join('/')})`);
  }
  // RG_CTR_023: CategorieProfessions of R37.
  if (present(r.CategorieProfessions) && !R37_SHAPE.test(r.CategorieProfessions))
    f.add('RG_CTR_023', 'CategorieProfessions', `CategorieProfessions "${r.CategorieProfessions}" is not an R37 code`);
  // RG_CTR_026: Profession of G15.
  if (present(r.Profession) && !G15_SHAPE.test(r.Profession)) f.add('RG_CTR_026', 'Profession', `Profession "${r.Profession}" is not a G15 code`);
  // RG_CTR_027: Spécialité of R38/R40/R44.
  if (present(r.Specialite) && !SPECIALITY_SHAPE.test(r.Specialite))
    f.add('RG_CTR_027', 'Specialite', `Specialite "${r.Specialite}" is not an R38/R40/R44 code`);
}

function otherChecks(f: Findings, r: FeedRecord, domain: string, ctx: ValidationContext): void {
  // RG_CTR_001: the BAL's domain is the domain fed.
  const balDomain = r.AdresseBAL?.slice(r.AdresseBAL.lastIndexOf('@') + 1).toLowerCase();
  if (balDomain !== undefined && balDomain !== domain.toLowerCase()) f.add('RG_CTR_001', 'AdresseBAL', `${r.AdresseBAL} is not on ${domain}`);
  if (r.TypeBAL === 'PER') perChecks(f, r);
  if (r.TypeBAL === 'CAB') cabChecks(f, r);
  if (present(r.TypeIdentifiantPM) && present(r.IdentifiantPM)) {
    // An identifier of the wrong shape cannot be in the référentiel (RG_CTR_016, MSS015).
    const shape = STRUCTURE_ID_BY_TYPE[r.TypeIdentifiantPM];
    if (shape && !shape.test(r.IdentifiantPM))
      f.add(
        'RG_CTR_016',
        'IdentifiantPM',
        `"${r.IdentifiantPM}" is not a ${{ '1': 'FINESS (9 characters)', '2': 'SIREN (9 digits)', '3': 'SIRET (14 digits)' }[r.TypeIdentifiantPM]} number`,
      );
  }
  // EX_PBA_5011 (and EX_PBA_5220 for PER): a FINESS-registered operator attaches a FINESS
  // (géographique, or juridique for a mutualised BAL) to every BAL it declares; a CAB is by
  // definition a structure without FINESS. Our requirement, not an Annuaire rule: no MSS code.
  if (ctx.finessRegistered && r.TypeBAL !== 'CAB') {
    if (!present(r.TypeIdentifiantPM)) {
      f.add(
        'EX_PBA_5011',
        'TypeIdentifiantPM',
        'the operator is registered in FINESS (operator.finessRegistered): attach the FINESS géographique of the site',
        {
          code: null,
          criticality: 'Bloquante',
          message: 'BAL sans FINESS géographique (Opérateur immatriculé au FINESS)',
        },
      );
    } else if (r.TypeIdentifiantPM !== '1') {
      f.add(
        'EX_PBA_5011',
        'TypeIdentifiantPM',
        `TypeIdentifiantPM ${r.TypeIdentifiantPM} (${r.TypeIdentifiantPM === '2' ? 'SIREN' : 'SIRET'}) for a FINESS-registered operator; RG_CTR_033 refuses SIREN/SIRET for a structure with a FINESS`,
        {
          code: 'MSS032',
          criticality: 'Bloquante',
          message: CONTROL_RULES.get('RG_CTR_033')?.message ?? '',
        },
      );
    }
  }
}

function perChecks(f: Findings, r: FeedRecord): void {
  const type = r.TypeIdentifiantPP;
  const id = r.IdentifiantPP ?? '';
  // An RPPS/ADELI of the wrong shape cannot be in the référentiel (RG_CTR_008, MSS008).
  if (type === '8' && !RPPS.test(id)) f.add('RG_CTR_008', 'IdentifiantPP', `"${id}" is not an RPPS number (11 digits)`);
  if (type === '0' && !ADELI.test(id)) f.add('RG_CTR_008', 'IdentifiantPP', `"${id}" is not an ADELI number (9 characters)`);
  if (type === '10') {
    // RG_CTR_035: an internal identifier is the BAL address (EX_PBA_5090).
    if (id !== r.AdresseBAL) f.add('RG_CTR_035', 'IdentifiantPP', `IdentifiantPP "${id}" is not the BAL address`);
    // RG_CTR_024: category 01 only.
    if (present(r.CategorieProfessions) && r.CategorieProfessions !== CATEGORY_ALLOWED)
      f.add('RG_CTR_024', 'CategorieProfessions', `CategorieProfessions "${r.CategorieProfessions}"; only 01 (professionnel de santé) is allowed`);
    // RG_CTR_047: a social professional (06) should be attached to a structure.
    if (r.CategorieProfessions === CATEGORY_SOCIAL && !present(r.IdentifiantPM))
      f.add('RG_CTR_047', 'IdentifiantPM', 'a social professional (category 06) should be attached to a structure');
    const prof = r.Profession ?? '';
    // RG_CTR_018: civilité consistent with the profession.
    const civ = CIVILITE_BY_PROFESSION[prof];
    if (present(r.CiviliteExercice) && (!civ || !civ.includes(r.CiviliteExercice))) {
      f.add(
        'RG_CTR_018',
        'CiviliteExercice',
        civ
          ? `CiviliteExercice ${r.CiviliteExercice} does not fit profession ${prof} (${civ.join('/')})`
          : `profession ${prof} takes no CiviliteExercice (médecin, pharmacien, chirurgien-dentiste only)`,
      );
    }
    // G15: a code outside the local copy is for the Annuaire to judge (warning only).
    if (G15_SHAPE.test(prof) && !G15_KNOWN.has(prof)) {
      f.add('RG_CTR_026', 'Profession', `profession "${prof}" is not in the local copy of G15; the Annuaire decides (MSS025)`, { criticality: 'Warning' });
    }
    // RG_CTR_028: speciality allowed for the profession (Tableau 15).
    if (present(r.Specialite)) {
      const s = r.Specialite;
      const wrong = !SPECIALITY_PROFESSIONS.has(prof)
        ? `profession ${prof} takes no speciality`
        : prof === '40' && !DENTIST_SPECIALITIES.has(s)
          ? 'a chirurgien-dentiste speciality is SCD01, SCD02 or SCD03'
          : prof === '21' && !PHARMACIST_SPECIALITIES.has(s)
            ? 'a pharmacien speciality is SP01 to SP04'
            : prof === '10' && (DENTIST_SPECIALITIES.has(s) || PHARMACIST_SPECIALITIES.has(s))
              ? `${s} is a dentist's or pharmacist's speciality`
              : undefined;
      if (wrong) f.add('RG_CTR_028', 'Specialite', wrong);
    }
  } else {
    // RG_CTR_036: ServiceRattachement is taken into account only with an IdentifiantPM.
    if (present(r.ServiceRattachement) && !present(r.IdentifiantPM)) f.add('RG_CTR_036', 'ServiceRattachement', 'ServiceRattachement without IdentifiantPM');
    if (present(r.CiviliteExercice) || present(r.Profession) || present(r.CategorieProfessions) || present(r.Specialite)) {
      f.add(
        'XSD',
        'Profession',
        'civilité, category, profession and speciality are sent only for an internal identifier (Tableau 15); the Annuaire knows them from the RPPS/ADELI',
        schema('Tableau 14'),
      );
    }
  }
}

/** EX_GBM_3030: at most 20 co-holders, the responsible included, exactly one responsible, with an RPPS. */
export const MAX_CAB_COHOLDERS = 20;

function cabChecks(f: Findings, r: FeedRecord): void {
  const list = r.coHolders ?? [];
  if (list.length > MAX_CAB_COHOLDERS) {
    f.add('EX_GBM_3030', 'ListeCotitulaires', `${list.length} co-holders; at most ${MAX_CAB_COHOLDERS}, the responsible included`, {
      code: null,
      criticality: 'Bloquante',
      message: 'Au plus 20 cotitulaires, responsable opérationnel compris',
    });
  }
  const responsibles = list.filter((c) => c.EstResponsable === 'O');
  const responsible = responsibles[0];
  if (responsibles.length !== 1 || !responsible)
    f.add('RG_CTR_106', 'ListeCotitulaires', `${responsibles.length} co-holders have EstResponsable = O; exactly one is the responsible`);
  else if (responsible.TypeIdentifiantPP !== '8') {
    f.add('EX_GBM_3030', 'ListeCotitulaires', 'the responsible of a CAB is identified by their RPPS (TypeIdentifiantPP 8)', {
      code: null,
      criticality: 'Bloquante',
      message: 'Responsable de la BAL CAB identifié par son RPPS',
    });
  } else if (r.TypeIdentifiantPP !== '8' || r.IdentifiantPP !== responsible.IdentifiantPP) {
    // EX_GBM_3030: the BAL is attached "au numéro RPPS du Responsable opérationnel".
    f.add(
      'EX_GBM_3030',
      'IdentifiantPP',
      `the CAB is attached to ${r.TypeIdentifiantPP}/${r.IdentifiantPP}, not to its responsible co-holder's RPPS ${responsible.IdentifiantPP}`,
      {
        code: null,
        criticality: 'Bloquante',
        message: 'BAL CAB rattachée au numéro RPPS du Responsable opérationnel',
      },
    );
  }
  list.forEach((c, i) => {
    if (c.TypeIdentifiantPP === '8' && !RPPS.test(c.IdentifiantPP ?? ''))
      f.add('RG_CTR_141', `ListeCotitulaires[${i}].IdentifiantPP`, `co-holder ${i + 1}: "${c.IdentifiantPP}" is not an RPPS number (11 digits)`);
    if (c.TypeIdentifiantPP === '0' && !ADELI.test(c.IdentifiantPP ?? ''))
      f.add('RG_CTR_141', `ListeCotitulaires[${i}].IdentifiantPP`, `co-holder ${i + 1}: "${c.IdentifiantPP}" is not an ADELI number (9 characters)`);
  });
}

function domainChecks(d: DomainFeed, ctx: ValidationContext, out: Anomaly[]): void {
  if (!ctx.whitelist) return;
  // RG_CTR_000 (MSS000): the domain is in the liste blanche.
  if (!ctx.whitelist.hasDomain(d.domain)) {
    const r = CONTROL_RULES.get('RG_CTR_000');
    out.push({
      domain: d.domain,
      rule: 'RG_CTR_000',
      code: 'MSS000',
      criticality: 'Bloquante',
      message: r?.message ?? '',
      detail: `${d.domain} is not in the local liste blanche`,
    });
  } else if (ctx.dn && !ctx.whitelist.allows(ctx.dn, d.domain)) {
    // §6.4.2.2 precondition (SA4): our certificate's DN must be listed for the domain, or WSMSS06.
    out.push({
      domain: d.domain,
      rule: 'EX_WSA_5010',
      code: 'WSMSS06',
      criticality: 'Bloquante',
      message: "Echec d'authentification - DN absent de la liste blanche pour ce domaine",
      detail: `the liste blanche does not list ${ctx.dn} for ${d.domain}`,
    });
  }
}

/** Every anomaly of a feed: per domain, per record, then RG_CTR_044 across the whole file. */
export function validateFeed(domains: readonly DomainFeed[], ctx: ValidationContext): ValidationResult {
  const anomalies: Anomaly[] = [];
  let rejected = 0;
  const seen = new Map<string, string>();
  for (const d of domains) {
    domainChecks(d, ctx, anomalies);
    for (const r of d.records) {
      const { anomalies: found } = validateRecord(d.domain, r, ctx);
      const key = r.AdresseBAL?.toLowerCase();
      // RG_CTR_044 (MSS042): an address appears once in the file (EX_PBA_5030).
      if (key !== undefined && seen.has(key)) {
        const rule = CONTROL_RULES.get('RG_CTR_044');
        found.push({
          domain: d.domain,
          bal: r.AdresseBAL as string,
          ...(r.TypeBAL ? { typeBal: r.TypeBAL } : {}),
          field: 'AdresseBAL',
          rule: 'RG_CTR_044',
          code: 'MSS042',
          criticality: 'Bloquante',
          message: rule?.message ?? '',
          detail: `also in the message of ${seen.get(key)}`,
        });
      } else if (key !== undefined) seen.set(key, d.domain);
      if (found.some((a) => a.criticality === 'Bloquante')) rejected++;
      for (const a of found) anomalies.push(a);
    }
  }
  const blocking = anomalies.filter((a) => a.criticality === 'Bloquante').length;
  return { anomalies, blocking, warnings: anomalies.length - blocking, rejected };
}
