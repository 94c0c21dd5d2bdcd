// The test professionals the sandbox PSC's login page offers (as PSC's test e-CPS cards
// would), on the identities of sandbox operator A's registry (sandbox/annuaire/
// registry-a.ts) plus one professional no mailbox names yet, to be made a delegate.
export interface TestProfessional {
  idNat: string;
  givenName: string;
  familyName: string;
  /** What the login page says about them. */
  note: string;
}

export const TEST_PROFESSIONALS: readonly TestProfessional[] = [
  {
    idNat: '810100000011',
    givenName: 'Jean',
    familyName: 'DUPONT',
    note: 'cardiologue — titulaire de jean.dupont@, responsable du secrétariat de cardiologie',
  },
  { idNat: '810100000066', givenName: 'Paul', familyName: 'MOREAU', note: 'responsable du cabinet-moreau@' },
  { idNat: '810100000077', givenName: 'Julie', familyName: 'SIMON', note: 'cotitulaire du cabinet-moreau@' },
  { idNat: '810100000022', givenName: 'Sophie', familyName: 'MARTIN', note: 'titulaire de sophie.martin@ (liste rouge)' },
  { idNat: '810100000088', givenName: 'Claire', familyName: 'FABRE', note: 'aucune boîte : peut être déclarée déléguée' },
];
