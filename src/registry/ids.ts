// National identifiers as the registry writes them, and what the Annuaire feed derives
// from them (Référentiel #1 §6.4.2.3.3, Tableaux 14–16).
//   - A person's IdNat is the identifier Pro Santé Connect returns (SubjectNameID):
//     `8` + RPPS (11 digits) or `0` + ADELI (9 characters). Anything else is an internal
//     identifier (local identity provider); such a PER is published with
//     TypeIdentifiantPP 10 and IdentifiantPP = the BAL address (Tableau 15, MSS034).
//   - A structure is FINESS (type 1, 9 characters, Corsica 2A/2B), SIREN (2, 9 digits) or
//     SIRET (3, 14 digits); its IdNat, as in the OU of an IGC-Santé certificate, is the
//     type digit followed by the number.

export const RPPS_IDNAT = /^8\d{11}$/;
export const ADELI_IDNAT = /^0(?:\d{2}|2[AB])\d{7}$/;
/** Any identity a login can carry: national, or from a local identity provider. */
export const ANY_IDNAT = /^[A-Za-z0-9][A-Za-z0-9._:@/-]{0,127}$/;

export type PersonIdKind = 'rpps' | 'adeli' | 'internal';

export function personIdKind(idNat: string): PersonIdKind {
  if (RPPS_IDNAT.test(idNat)) return 'rpps';
  if (ADELI_IDNAT.test(idNat)) return 'adeli';
  return 'internal';
}

export function isNationalId(idNat: string): boolean {
  return personIdKind(idNat) !== 'internal';
}

/** TypeIdentifiantPP / IdentifiantPP of a PER holder or CAB co-holder. */
export function annuairePersonId(idNat: string, address: string): { type: '0' | '8' | '10'; id: string } {
  switch (personIdKind(idNat)) {
    case 'rpps':
      return { type: '8', id: idNat.slice(1) };
    case 'adeli':
      return { type: '0', id: idNat.slice(1) };
    default:
      return { type: '10', id: address };
  }
}

export type StructureType = 'FINESS' | 'SIREN' | 'SIRET';

export const STRUCTURE_ID: Record<StructureType, RegExp> = {
  FINESS: /^(?:\d{2}|2[AB])\d{7}$/,
  SIREN: /^\d{9}$/,
  SIRET: /^\d{14}$/,
};

/** TypeIdentifiantPM (G07). */
export const STRUCTURE_TYPE_CODE: Record<StructureType, '1' | '2' | '3'> = { FINESS: '1', SIREN: '2', SIRET: '3' };

/** The structure's IdNat as found in the OU of its IGC-Santé certificates. */
export function structureIdNat(type: StructureType, id: string): string {
  return `${STRUCTURE_TYPE_CODE[type]}${id}`;
}
