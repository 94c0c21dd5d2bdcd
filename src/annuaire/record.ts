// One COMPTEMSS record, the way the Annuaire sees a mailbox (Tableaux 14–16 and the CAB
// table of §6.4.2.3.3): the field names of the XSD, the values as strings. The client
// builds records from the registry here; the sandbox reads them back from the XML; local
// validation and the sandbox's batch check the same objects.
import type { CoHolderField, RecordField } from './contract.js';
import { annuairePersonId, STRUCTURE_TYPE_CODE } from '../registry/ids.js';
import type { Publication } from '../registry/publication.js';
import type { Bal } from '../registry/registry.js';

export type CoHolderRecord = Partial<Record<CoHolderField, string>>;
export type FeedRecord = Partial<Record<RecordField, string>> & { coHolders?: CoHolderRecord[] };

const yesNo = (b: boolean): 'O' | 'N' => (b ? 'O' : 'N');

/**
 * The record of a published mailbox. Delegates are never declared (EX_GBM_5413), nor the
 * co-holders of an ORG BAL (Tableau 16); Dematerialisation was removed in v1.6.
 */
export function recordOf(bal: Bal, pub: Publication): FeedRecord {
  const r: FeedRecord = { TypeBAL: bal.type, AdresseBAL: bal.address };
  const pm = bal.structure ? { TypeIdentifiantPM: STRUCTURE_TYPE_CODE[bal.structure.type], IdentifiantPM: bal.structure.id } : {};
  if (bal.type === 'PER') {
    const h = bal.holder;
    // EX_PBA_5090: the RPPS/ADELI when the holder has one; otherwise type 10 and the BAL address.
    const id = h ? annuairePersonId(h.idNat, bal.address) : undefined;
    if (id) {
      r.TypeIdentifiantPP = id.type;
      r.IdentifiantPP = id.id;
    }
    Object.assign(r, pm);
    if (bal.service) r.ServiceRattachement = bal.service;
    if (h && id?.type === '10') {
      if (h.civilite) r.CiviliteExercice = h.civilite;
      r.NomExercice = h.lastName;
      r.PrenomExercice = h.firstName;
      if (h.categorie) r.CategorieProfessions = h.categorie;
      if (h.profession) r.Profession = h.profession;
      if (h.specialite) r.Specialite = h.specialite;
    } else if (h) {
      r.NomExercice = h.lastName;
      r.PrenomExercice = h.firstName;
    }
  } else if (bal.type === 'ORG' || bal.type === 'APP') {
    Object.assign(r, pm);
    if (bal.service) r.ServiceRattachement = bal.service;
    if (bal.responsible) r.Responsable = bal.responsible.name;
    if (bal.description) r.Description = bal.description;
  } else {
    // EX_GBM_3030: "rattacher … la BAL organisationnelle au numéro RPPS du Responsable
    // opérationnel en renseignant … typeBAL "CAB" ; TypeIdentifiantPP ; IdentifiantPP";
    // RG_CTR_005/007 check them for "PER ou CAB", RG_CTR_029 a Responsable for CAB (§9.7.3,
    // Tableau 59) although the CAB table of §6.4.2.3.3.4 lists none of them: sent.
    const responsible = bal.coHolders.find((c) => c.responsible);
    if (responsible) {
      const id = annuairePersonId(responsible.idNat, bal.address);
      r.TypeIdentifiantPP = id.type;
      r.IdentifiantPP = id.id;
      r.Responsable = `${responsible.firstName} ${responsible.lastName}`;
    }
    if (bal.description) r.Description = bal.description;
    r.coHolders = bal.coHolders.map((c) => {
      const id = annuairePersonId(c.idNat, bal.address);
      return { TypeIdentifiantPP: id.type, IdentifiantPP: id.id, NomExercice: c.lastName, PrenomExercice: c.firstName, EstResponsable: yesNo(c.responsible) };
    });
  }
  if (bal.phone && bal.type !== 'CAB') r.Telephone = bal.phone;
  // EX_PBA_5050: the user's choice (EX_PBA_5040) or the operator's depublication for inactivity (EX_GBM_4440).
  r.ListeRouge = yesNo(pub.listeRouge);
  return r;
}
