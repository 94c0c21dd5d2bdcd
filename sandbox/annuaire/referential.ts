// What the sandbox Annuaire knows, like the test Annuaire holds only test CPx identities
// (§9.1.2): a few professionals (one ADELI since replaced by an RPPS, one student) and
// structures (FINESS sites of operator A, a SIRET without FINESS). The rules that need
// the Annuaire's data (RG_CTR_008, 016, 021, 033, 034, 045, 049, 141–143) run against it,
// and the nomenclature controls (RG_CTR_017, 023, 026, 027, 018, 028) against a test copy of
// the NOS tables of Tableau 6 (the NOS is not in the seeds; what Tableau 15 states is exact).

export interface KnownPerson {
  /** G08: 8 RPPS, 0 ADELI. */
  type: '8' | '0';
  id: string;
  nom: string;
  prenom: string;
  /** An ADELI replaced by this RPPS (RG_CTR_045). */
  rpps?: string;
  /** RG_CTR_049: the RPPS of a student. */
  student?: boolean;
  /** FINESS of the structures where they practise (RG_CTR_034). */
  structures?: string[];
}

export interface KnownStructure {
  /** G07: 1 FINESS, 2 SIREN, 3 SIRET. */
  type: '1' | '2' | '3';
  id: string;
  /** For a SIREN/SIRET: the structure also has a FINESS (RG_CTR_033). */
  hasFiness?: boolean;
}

export const SANDBOX_PEOPLE: readonly KnownPerson[] = [
  { type: '8', id: '10100000011', nom: 'DUPONT', prenom: 'Jean', structures: ['130099992'] },
  { type: '8', id: '10100000022', nom: 'MARTIN', prenom: 'Sophie', structures: ['130099992'] },
  { type: '0', id: '131234567', nom: 'BERNARD', prenom: 'Luc', rpps: '10100000033', structures: ['130099992'] },
  { type: '8', id: '10100000033', nom: 'BERNARD', prenom: 'Luc', structures: ['130099992'] },
  { type: '8', id: '10100000044', nom: 'PETIT', prenom: 'Claire', structures: ['130099992'] },
  { type: '8', id: '10100000055', nom: 'ROUX', prenom: 'Emma', student: true },
  { type: '8', id: '10100000066', nom: 'MOREAU', prenom: 'Paul' },
  { type: '8', id: '10100000077', nom: 'SIMON', prenom: 'Julie' },
  { type: '8', id: '10100000088', nom: 'GARCIA', prenom: 'Marc', structures: ['130099993'] },
];

export const SANDBOX_STRUCTURES: readonly KnownStructure[] = [
  { type: '1', id: '130099991' }, // FINESS juridique of operator A
  { type: '1', id: '130099992' }, // FINESS géographique: main site
  { type: '1', id: '130099993' }, // FINESS géographique: laboratory
  { type: '1', id: '331234567' }, // operator B
  { type: '3', id: '12345678900011' }, // a SIRET without FINESS
  { type: '3', id: '98765432100019', hasFiness: true }, // a SIRET of a structure that has a FINESS
];

/** The sandbox's copy of the NOS tables it checks (test data, as the test Annuaire's). */
export const SANDBOX_NOS = {
  /** R11 (Tableau 15). */
  R11: new Set(['PR', 'MG', 'MC', 'DR', 'PC', 'PG']),
  /** Tableau 15: « Médecin : PR / MG / MC / DR ; Pharmacien : PR / PC / PG / DR ; Chirurgien-dentiste : PR / DR ». */
  civilitesByProfession: { '10': ['PR', 'MG', 'MC', 'DR'], '21': ['PR', 'PC', 'PG', 'DR'], '40': ['PR', 'DR'] } as Readonly<Record<string, readonly string[]>>,
  /** R37: 01 professionnels de santé, 06 (Tableau 15's examples), and the other categories of the test NOS. */
  R37: new Set(['01', '02', '03', '04', '05', '06']),
  /** G15: the professions of the test NOS. */
  G15: new Set([
    '10',
    '21',
    '26',
    '28',
    '31',
    '35',
    '36',
    '40',
    '50',
    '60',
    '69',
    '70',
    '80',
    '81',
    '82',
    '83',
    '84',
    '85',
    '86',
    '91',
    '92',
    '93',
    '94',
    '95',
    '96',
    '98',
  ]),
};

export class Referential {
  readonly nos = SANDBOX_NOS;
  private readonly people = new Map<string, KnownPerson>();
  private readonly structures = new Map<string, KnownStructure>();

  constructor(people: readonly KnownPerson[] = SANDBOX_PEOPLE, structures: readonly KnownStructure[] = SANDBOX_STRUCTURES) {
    for (const p of people) this.people.set(`${p.type}/${p.id}`, p);
    for (const s of structures) this.structures.set(`${s.type}/${s.id}`, s);
  }

  person(type: string | undefined, id: string | undefined): KnownPerson | undefined {
    return this.people.get(`${type}/${id}`);
  }

  structure(type: string | undefined, id: string | undefined): KnownStructure | undefined {
    return this.structures.get(`${type}/${id}`);
  }

  /** R38 (SMnn, SCD01–03, SP01–04), R40 (CEXnn), R44 (PACnn) of the test NOS. */
  isSpeciality(code: string): boolean {
    return /^(?:SM\d{2}|SCD0[1-3]|SP0[1-4]|CEX\d{2}|PAC\d{2})$/.test(code);
  }

  /** Tableau 15: dentists SCD01–03, pharmacists SP01–04, doctors every other code, nobody else. */
  specialityFits(profession: string, code: string): boolean {
    if (profession === '40') return /^SCD0[1-3]$/.test(code);
    if (profession === '21') return /^SP0[1-4]$/.test(code);
    if (profession === '10') return !/^(?:SCD|SP)\d/.test(code);
    return false;
  }
}
