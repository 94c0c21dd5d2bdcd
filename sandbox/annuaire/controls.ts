// The sandbox Annuaire's controls, from the text: Tableau 57 at reception (a failure refuses
// the whole message, WSMSS12) and, in the batch, Tableau 59 record by record in the order
// §9.7.3 gives — « contrôles de format ; contrôle de présence de données obligatoires ;
// contrôles d'existence du code dans les nomenclatures. Ces contrôles s'arrêtent à la première
// anomalie bloquante » — then « l'ensemble des contrôles listés » even after an error. The
// rules that need the Annuaire's data run against the sandbox referential. Independent of
// the client's src/annuaire on purpose (see spec.ts).
import type { Referential } from './referential.js';
import type { SandboxRecord } from './request.js';
import { CATEGORIE_SANTE, CATEGORIE_SOCIAL, CO_HOLDER_ATTRIBUTES, G07, G08, RECORD_ATTRIBUTES, RULES, type Criticite } from './spec.js';

export interface Finding {
  rule: string;
  code: string;
  criticite: Criticite;
  message: string;
  detail: string;
  /** What the Annuaire knows (Tableau 24's …Annuaire leaves). */
  annuaire?: { nom?: string; prenom?: string; typeIdentifiantPP?: string; identifiantPP?: string };
}

const has = (v: string | undefined): v is string => v !== undefined && v !== '';

/**
 * Tableau 57: the schema checks at reception (RG_CTR_002, 003, 004, 006, 015, 032, 046), and
 * the types the tables give (X(n), « Valeurs possibles » O/N), which a schema enforces too.
 * The first problem, or undefined.
 */
export function receptionProblem(r: SandboxRecord): string | undefined {
  const f = r.fields;
  if (!has(f.TypeBAL)) return 'RG_CTR_002: no value for TypeBAL';
  if (!['PER', 'APP', 'ORG', 'CAB'].includes(f.TypeBAL)) return `RG_CTR_003: TypeBAL « ${f.TypeBAL} » is not PER, APP, ORG or CAB`;
  if (!has(f.AdresseBAL)) return 'RG_CTR_004: no value for AdresseBAL';
  if ((f.TypeBAL === 'PER' || f.TypeBAL === 'CAB') && has(f.TypeIdentifiantPP) && !G08.has(f.TypeIdentifiantPP))
    return `RG_CTR_006: TypeIdentifiantPP « ${f.TypeIdentifiantPP} » is not in the Type d'identifiant PP nomenclature`;
  const structureRequired = f.TypeBAL === 'ORG' || f.TypeBAL === 'APP' || (f.TypeBAL === 'PER' && f.TypeIdentifiantPP === '10');
  if (structureRequired && has(f.TypeIdentifiantPM) && !G07.has(f.TypeIdentifiantPM))
    return `RG_CTR_015: TypeIdentifiantPM « ${f.TypeIdentifiantPM} » is not 1 (FINESS), 2 (SIREN) or 3 (SIRET)`;
  if (!has(f.ListeRouge)) return 'RG_CTR_032: ListeRouge is not filled in';
  if (f.AdresseBAL.length > 256) return `RG_CTR_046: AdresseBAL of ${f.AdresseBAL.length} characters (at most 256)`;
  for (const [name, value] of Object.entries(f)) {
    const max = RECORD_ATTRIBUTES[name] ?? 0;
    if (value.length > max) return `${name} of ${value.length} characters: X(${max})`;
  }
  for (const [i, c] of (r.coHolders ?? []).entries()) {
    for (const [name, value] of Object.entries(c)) {
      const max = CO_HOLDER_ATTRIBUTES[name] ?? 0;
      if (value.length > max) return `Cotulaire ${i + 1}: ${name} of ${value.length} characters: X(${max})`;
    }
  }
  // « Valeurs possibles : O … N » (Tableaux 14–16, the CAB table).
  if (!['O', 'N'].includes(f.ListeRouge)) return `ListeRouge « ${f.ListeRouge} »: O or N`;
  if (has(f.Dematerialisation) && !['O', 'N'].includes(f.Dematerialisation)) return `Dematerialisation « ${f.Dematerialisation} »: O or N`;
  return undefined;
}

/** Tableau 59 for one record (RG_CTR_044 and RG_CTR_000 are the batch's, across records). */
export function recordFindings(domain: string, r: SandboxRecord, ref: Referential): Finding[] {
  const out: Finding[] = [];
  const add = (rule: string, detail: string, annuaire?: Finding['annuaire']): void => {
    const def = RULES[rule];
    if (!def) throw new Error(`no rule ${rule} in Tableau 59`);
    out.push({ rule, code: def.code, criticite: def.criticite, message: def.message, detail, ...(annuaire ? { annuaire } : {}) });
  };
  const blocked = (): boolean => out.some((a) => a.criticite === 'Bloquante');
  const f = r.fields;
  const type = f.TypeBAL;
  const pp = f.TypeIdentifiantPP;

  // Presence of required data.
  if (type === 'PER' || type === 'CAB') {
    // RG_CTR_005 / RG_CTR_007: « TypeBAL = PER ou CAB ».
    if (!has(pp)) add('RG_CTR_005', 'no TypeIdentifiantPP');
    if (!has(f.IdentifiantPP)) add('RG_CTR_007', 'no IdentifiantPP');
  }
  if (type === 'PER') {
    if (!has(f.NomExercice)) add('RG_CTR_019', 'no NomExercice');
    if (!has(f.PrenomExercice)) add('RG_CTR_020', 'no PrenomExercice');
    if (pp === '10') {
      if (!has(f.TypeIdentifiantPM)) add('RG_CTR_009', 'no TypeIdentifiantPM');
      if (!has(f.IdentifiantPM)) add('RG_CTR_013', 'no IdentifiantPM');
      if (!has(f.CategorieProfessions)) add('RG_CTR_022', 'no CategorieProfessions');
      if (!has(f.Profession)) add('RG_CTR_025', 'no Profession');
    }
  }
  if (type === 'ORG' || type === 'APP') {
    if (!has(f.TypeIdentifiantPM)) add('RG_CTR_011', 'no TypeIdentifiantPM');
    if (!has(f.IdentifiantPM)) add('RG_CTR_014', 'no IdentifiantPM');
  }
  if (type === 'ORG' || type === 'APP' || type === 'CAB') {
    // RG_CTR_029 / RG_CTR_030: « TypeBAL = ORG ou APP ou CAB ».
    if (!has(f.Responsable)) add('RG_CTR_029', 'no Responsable');
    if (!has(f.Description)) add('RG_CTR_030', 'no Description');
  }
  if (type === 'CAB') {
    const list = r.coHolders ?? [];
    if (list.length === 0) add('RG_CTR_106', 'no ListeCotitulaires/Cotulaire: « a minima un professionnel habilité déclaré comme responsable »');
    list.forEach((c, i) => {
      if (!has(c.TypeIdentifiantPP)) add('RG_CTR_120', `Cotulaire ${i + 1}: no TypeIdentifiantPP`);
      if (!has(c.IdentifiantPP)) add('RG_CTR_121', `Cotulaire ${i + 1}: no IdentifiantPP`);
      if (!has(c.NomExercice)) add('RG_CTR_122', `Cotulaire ${i + 1}: no NomExercice`);
      if (!has(c.PrenomExercice)) add('RG_CTR_123', `Cotulaire ${i + 1}: no PrenomExercice`);
      if (!['O', 'N'].includes(c.EstResponsable ?? ''))
        add('RG_CTR_106', `Cotulaire ${i + 1}: EstResponsable « ${c.EstResponsable ?? ''} » (O or N, required)`);
    });
  }
  if (blocked()) return out;

  // Codes in the nomenclatures.
  if (type === 'PER' && pp === '10') {
    if (!G07.has(f.TypeIdentifiantPM ?? '')) add('RG_CTR_010', `TypeIdentifiantPM « ${f.TypeIdentifiantPM} »`);
    if (has(f.CiviliteExercice) && !ref.nos.R11.has(f.CiviliteExercice)) add('RG_CTR_017', `CiviliteExercice « ${f.CiviliteExercice} » is not in R11`);
    if (!ref.nos.R37.has(f.CategorieProfessions ?? '')) add('RG_CTR_023', `CategorieProfessions « ${f.CategorieProfessions} » is not in R37`);
    if (!ref.nos.G15.has(f.Profession ?? '')) add('RG_CTR_026', `Profession « ${f.Profession} » is not in G15`);
    if (has(f.Specialite) && !ref.isSpeciality(f.Specialite)) add('RG_CTR_027', `Specialite « ${f.Specialite} » is not in R38, R40 or R44`);
  }
  if ((type === 'ORG' || type === 'APP') && !G07.has(f.TypeIdentifiantPM ?? '')) add('RG_CTR_012', `TypeIdentifiantPM « ${f.TypeIdentifiantPM} »`);
  if (type === 'CAB') {
    (r.coHolders ?? []).forEach((c, i) => {
      if (!['0', '8'].includes(c.TypeIdentifiantPP ?? ''))
        add('RG_CTR_140', `Cotulaire ${i + 1}: TypeIdentifiantPP « ${c.TypeIdentifiantPP} » (0 ADELI or 8 RPPS)`);
    });
  }
  if (blocked()) return out;

  // Every other control, even after an error.
  const at = (f.AdresseBAL ?? '').lastIndexOf('@');
  if (at < 0 || (f.AdresseBAL ?? '').slice(at + 1).toLowerCase() !== domain.toLowerCase()) add('RG_CTR_001', `${f.AdresseBAL} is not on ${domain}`);
  if (type === 'PER' && (pp === '0' || pp === '8')) personChecks(f, ref, add);
  if (type === 'PER' && pp === '10') internalChecks(f, ref, add);
  const structureRequired = type === 'ORG' || type === 'APP' || (type === 'PER' && pp === '10');
  if (structureRequired && has(f.IdentifiantPM)) {
    const s = ref.structure(f.TypeIdentifiantPM, f.IdentifiantPM);
    const social = type === 'PER' && f.CategorieProfessions === CATEGORIE_SOCIAL;
    if (!s) add(social ? 'RG_CTR_048' : 'RG_CTR_016', `${f.TypeIdentifiantPM}/${f.IdentifiantPM} is not in the référentiel`);
    else if ((f.TypeIdentifiantPM === '2' || f.TypeIdentifiantPM === '3') && s.hasFiness)
      add('RG_CTR_033', `${f.IdentifiantPM} belongs to a structure with a FINESS`);
  } else if (type === 'PER' && (pp === '0' || pp === '8') && (f.TypeIdentifiantPM === '2' || f.TypeIdentifiantPM === '3') && has(f.IdentifiantPM)) {
    if (ref.structure(f.TypeIdentifiantPM, f.IdentifiantPM)?.hasFiness) add('RG_CTR_033', `${f.IdentifiantPM} belongs to a structure with a FINESS`);
  }
  if (type === 'CAB') cabChecks(r, ref, add);
  // « groupées par enregistrement, puis par criticité » (§6.4.2.5.1.3): blocking first.
  return out.sort((a, b) => (a.criticite === b.criticite ? 0 : a.criticite === 'Bloquante' ? -1 : 1));
}

type Add = (rule: string, detail: string, annuaire?: Finding['annuaire']) => void;

function personChecks(f: Record<string, string>, ref: Referential, add: Add): void {
  const p = ref.person(f.TypeIdentifiantPP, f.IdentifiantPP);
  if (!p) {
    add('RG_CTR_008', `${f.TypeIdentifiantPP}/${f.IdentifiantPP} is not in the référentiel`);
    return;
  }
  const current = p.rpps ? (ref.person('8', p.rpps) ?? p) : p;
  // RG_CTR_045: an identifier that is no longer the valid one (an ADELI replaced by an RPPS).
  if (p.rpps) add('RG_CTR_045', `${p.id} is now RPPS ${p.rpps}`, { nom: current.nom, prenom: current.prenom, typeIdentifiantPP: '8', identifiantPP: p.rpps });
  if (initials(f.NomExercice ?? '', 2) !== initials(current.nom, 2) || initials(f.PrenomExercice ?? '', 1) !== initials(current.prenom, 1)) {
    add('RG_CTR_021', `${f.PrenomExercice} ${f.NomExercice} vs ${current.prenom} ${current.nom}`, { nom: current.nom, prenom: current.prenom });
  }
  if (current.student) add('RG_CTR_049', `${current.id} is a student's RPPS`);
  if (has(f.IdentifiantPM) && !(current.structures ?? []).includes(f.IdentifiantPM))
    add('RG_CTR_034', `${f.IdentifiantPM} is not a known practice place of ${current.id}`);
  if (has(f.ServiceRattachement) && !has(f.IdentifiantPM)) add('RG_CTR_036', 'ServiceRattachement without IdentifiantPM');
}

function internalChecks(f: Record<string, string>, ref: Referential, add: Add): void {
  const prof = f.Profession ?? '';
  const allowed = ref.nos.civilitesByProfession[prof];
  // Tableau 15: « La civilité d'exercice ne concerne que les professions de médecin,
  // pharmacien, chirurgien-dentiste … En cas d'erreur sur la civilité d'exercice par rapport
  // à la profession saisie, un code erreur MSS017 » (RG_CTR_018): missing for them, or given to another.
  if (allowed ? !allowed.includes(f.CiviliteExercice ?? '') : has(f.CiviliteExercice))
    add('RG_CTR_018', `CiviliteExercice « ${f.CiviliteExercice ?? ''} » for profession ${prof}`);
  if (f.CategorieProfessions !== CATEGORIE_SANTE) add('RG_CTR_024', `CategorieProfessions « ${f.CategorieProfessions} »: only 01`);
  if (has(f.Specialite) && !ref.specialityFits(prof, f.Specialite)) add('RG_CTR_028', `Specialite ${f.Specialite} for profession ${prof}`);
  if (f.IdentifiantPP !== f.AdresseBAL) add('RG_CTR_035', `IdentifiantPP « ${f.IdentifiantPP} » is not the BAL's address`);
  if (f.CategorieProfessions === CATEGORIE_SOCIAL && !has(f.IdentifiantPM)) add('RG_CTR_047', 'no IdentifiantPM for a professionnel social');
}

function cabChecks(r: SandboxRecord, ref: Referential, add: Add): void {
  const list = r.coHolders ?? [];
  const responsibles = list.filter((c) => c.EstResponsable === 'O');
  // « Un seul cotulaire de la liste pour être déclaré comme responsable ».
  if (responsibles.length !== 1) add('RG_CTR_106', `${responsibles.length} co-holders with EstResponsable O`);
  list.forEach((c, i) => {
    const p = ref.person(c.TypeIdentifiantPP, c.IdentifiantPP);
    if (!p) {
      add('RG_CTR_141', `Cotulaire ${i + 1}: ${c.TypeIdentifiantPP}/${c.IdentifiantPP} is not in the référentiel`);
      return;
    }
    if (initials(c.NomExercice ?? '', 2) !== initials(p.nom, 2))
      add('RG_CTR_142', `Cotulaire ${i + 1}: ${c.NomExercice} vs ${p.nom}`, { nom: p.nom, prenom: p.prenom });
    if (initials(c.PrenomExercice ?? '', 1) !== initials(p.prenom, 1))
      add('RG_CTR_143', `Cotulaire ${i + 1}: ${c.PrenomExercice} vs ${p.prenom}`, { nom: p.nom, prenom: p.prenom });
  });
}

/** RG_CTR_021: the first n letters « après la normalisation (sans : accents-tirets-apostrophe-espaces) ». */
export function initials(s: string, n: number): string {
  return s
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .replace(/[-'’\s]/g, '')
    .toUpperCase()
    .slice(0, n);
}
