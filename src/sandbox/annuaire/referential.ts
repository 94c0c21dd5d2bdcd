// What the sandbox Annuaire knows, like the test Annuaire holds only test CPx identities
// (§9.1.2): a few professionals (one ADELI since replaced by an RPPS, one student) and
// structures (FINESS sites of operator A, a SIRET without FINESS). The rules that need
// the Annuaire's data (RG_CTR_008, 016, 021, 033, 034, 045, 049, 141–143) run against it.

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

export class Referential {
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
}
