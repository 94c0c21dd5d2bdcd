// Shape of one mailbox (BAL) in the registry file. Field lengths are those of the
// Annuaire's COMPTESMSS tables (Référentiel #1 §6.4.2.3.3, Tableaux 14–16 and the CAB
// table), so that everything the Annuaire feed (TM1.1.1P) needs is here and fits.
// Rules that involve several fields or several mailboxes live in rules.ts.
// The parsed output is valid input again: the compiled cache stores it and edits
// re-validate it without re-reading the YAML.
import { z } from 'zod';
import { ANY_IDNAT } from './ids.js';

const DATE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

/** A date (2025-03-01) or a date and time (2025-03-01T10:00:00Z). */
export const dateText = z
  .string({ error: 'a date such as 2025-03-01 (quoted or not)' })
  .regex(DATE, 'a date such as 2025-03-01 or 2025-03-01T10:00:00Z')
  .refine((s) => !Number.isNaN(parseDate(s)), 'a real calendar date');

export function parseDate(s: string): number {
  // Fast path for the usual YYYY-MM-DD (runs for every mailbox on every validation).
  if (s.length === 10 && s[4] === '-' && s[7] === '-') {
    const y = Number(s.slice(0, 4));
    const m = Number(s.slice(5, 7));
    const d = Number(s.slice(8, 10));
    const t = Date.UTC(y, m - 1, d);
    const back = new Date(t);
    return back.getUTCFullYear() === y && back.getUTCMonth() === m - 1 && back.getUTCDate() === d ? t : NaN;
  }
  const norm = s.length === 10 ? `${s}T00:00:00Z` : s.replace(' ', 'T');
  const withZone = /(?:Z|[+-]\d{2}:?\d{2})$/.test(norm) ? norm : `${norm}Z`;
  return Date.parse(withZone);
}

const idNat = z
  .string({ error: 'a string (quote identifiers so YAML keeps leading zeros: "0123456789")' })
  .regex(ANY_IDNAT, 'an IdNat such as "810001234567" (8 + RPPS), "0751234567" (0 + ADELI) or a local identifier');

const text = (max: number, field: string) =>
  z.string({ error: 'a text' }).min(1, 'a non-empty text').max(max, `at most ${max} characters (Annuaire ${field} X(${max}))`);

export const personSchema = z.strictObject({
  idNat,
  /** NomExercice. */
  lastName: text(80, 'NomExercice'),
  /** PrenomExercice. */
  firstName: text(50, 'PrenomExercice'),
});

export const holderSchema = personSchema.extend({
  // Only for a PER without national identifier (TypeIdentifiantPP 10, Tableau 15).
  /** CiviliteExercice (R11): PR, MG, MC, DR, PC, PG. */
  civilite: z.enum(['PR', 'MG', 'MC', 'DR', 'PC', 'PG']).optional(),
  /** Profession (G15), e.g. "10" médecin, "21" pharmacien, "40" chirurgien-dentiste. */
  profession: z
    .string()
    .regex(/^\d{2}$/, 'a G15 profession code such as "10"')
    .optional(),
  /** CategorieProfessions (R37): must be "01" (RG_CTR_024). */
  categorie: z
    .string()
    .regex(/^\d{2}$/, 'a category code such as "01"')
    .optional(),
  /** Specialite (R38/R40/R44), e.g. SM26, SCD01, SP01. */
  specialite: z
    .string()
    .regex(/^[A-Z0-9]{2,10}$/, 'a speciality code such as SM26')
    .optional(),
});

export const structureSchema = z.strictObject({
  /** TypeIdentifiantPM: FINESS (1), SIREN (2) or SIRET (3). */
  type: z.enum(['FINESS', 'SIREN', 'SIRET']),
  /** IdentifiantPM: the FINESS géographique of the site the BAL belongs to (EX_PBA_5011). */
  id: z.string({ error: 'a string (quote it: "130000001")' }).min(1).max(32, 'at most 32 characters (Annuaire IdentifiantPM X(32))'),
  /** The id is the FINESS juridique of a parent structure, for a BAL mutualised across sites. */
  mutualised: z.boolean().default(false),
});

export const coHolderSchema = personSchema.extend({
  /** EstResponsable: exactly one co-holder of a CAB is the Responsable opérationnel. */
  responsible: z.boolean().default(false),
});

export const responsibleSchema = z.strictObject({
  /** Login identity of the Responsable opérationnel, when they use the BAL themselves. */
  idNat: idNat.optional(),
  /** Annuaire `Responsable`: free text naming who is operationally responsible. */
  name: text(160, 'Responsable'),
  /** EX_GBM_4220: a responsible who is not habilité does not access the content. */
  accessesContent: z.boolean().default(true),
});

export const delegateSchema = z.strictObject({
  idNat,
  name: z.string().max(160).optional(),
  /** The holder, responsible or co-holder on whose behalf the delegate acts (§5.4.2). */
  for: idNat,
  /** Who granted it (the holder, responsible or a co-holder). */
  grantedBy: idNat.optional(),
  grantedAt: dateText.optional(),
});

export const balSchema = z.strictObject({
  address: z
    .string({ error: 'an address such as prenom.nom@ch-exemple.mssante.fr' })
    .min(3)
    .max(256, 'at most 256 characters (RFC 5321, Annuaire AdresseBAL X(256))')
    .transform((a) => a.toLowerCase()),
  type: z.enum(['PER', 'ORG', 'CAB', 'APP']),
  created: dateText,
  test: z.boolean().default(false),
  status: z.enum(['active', 'suspended', 'deleted']).default('active'),
  suspension: z
    .strictObject({
      at: dateText,
      reason: z.string().min(1, 'the reason, for the structure manager (RE_GBM_4430)').max(500),
      by: z.string().max(128).optional(),
    })
    .optional(),
  deletion: z
    .strictObject({
      at: dateText,
      reason: z.string().max(500).optional(),
      by: z.string().max(128).optional(),
    })
    .optional(),
  holder: holderSchema.optional(),
  structure: structureSchema.optional(),
  /** ServiceRattachement. */
  service: text(160, 'ServiceRattachement').optional(),
  responsible: responsibleSchema.optional(),
  coHolders: z.array(coHolderSchema).default([]),
  /** Description (required for ORG, APP, CAB). */
  description: text(160, 'Description').optional(),
  /** Telephone. */
  phone: z
    .string()
    .max(20, 'at most 20 characters (Annuaire Telephone X(20))')
    .regex(/^[0-9 +().-]*$/, 'a phone number')
    .optional(),
  /** The user's own liste rouge choice (EX_PBA_5040); depublication for inactivity is run-time state. */
  listeRouge: z.boolean().default(false),
  /** Where lifecycle notices go, outside the Espace de Confiance (EX_GBM_4440, EX_GBM_6010). */
  contact: z
    .strictObject({
      email: z.email('an e-mail address').max(256).optional(),
      phone: z.string().max(32).optional(),
    })
    .optional(),
  delegates: z.array(delegateSchema).default([]),
  /** EX_GBM_4311: a homonym on the domain allows a suffix after prenom.nom. */
  homonym: z.boolean().default(false),
});

export type BalEntry = z.output<typeof balSchema>;
export type BalInput = z.input<typeof balSchema>;
export type BalType = BalEntry['type'];
export type BalStatus = BalEntry['status'];
export type Delegate = z.output<typeof delegateSchema>;
export type CoHolder = z.output<typeof coHolderSchema>;
