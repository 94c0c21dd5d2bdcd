// What the sandbox Annuaire knows of the web services, written from the Référentiel #1
// v1.6.0 itself (§6.3.2, §6.4.2, §9.7.1, §9.7.3: Tableaux 4, 5, 13–16, the CAB table,
// 20–24, 56, 57, 59, Figures 24, 26) and NOT from the client's src/annuaire: the sandbox is
// the ANS peer that checks our client, so it must not share the client's reading. Where the
// text leaves a choice, the reading taken here is the most literal one, and where the
// client decided otherwise docs/annuaire.md ("Two readings") says who wins and why; the
// tests show each difference. Nothing here is imported by the client.

// ---------------------------------------------------------------- §6.3.2.1, §6.3.2.3.3.1

/** « spécifie le namespace SOAP-ENV http://schemas.xmlsoap.org/soap/envelope/ » (§6.3.2.3.3.1). */
export const SOAP11 = 'http://schemas.xmlsoap.org/soap/envelope/';
/** WS-Addressing « étend les spécifications du protocole SOAP 1.2 »: an envelope in SOAP 1.2 is read too. */
export const SOAP12 = 'http://www.w3.org/2003/05/soap-envelope';
/** Figure 24: `xmlns:wsa="http://www.w3.org/2005/08/addressing"`. */
export const WSA = 'http://www.w3.org/2005/08/addressing';
export const WSA_ANONYMOUS = 'http://www.w3.org/2005/08/addressing/anonymous';
/** Figure 24: `wsse:Security xmlns:wsse=…wssecurity-secext-1.0.xsd`. */
export const WSSE = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd';
/** Tableau 5: `//Assertion/@xmlns:saml2` = urn:oasis:names:tc:SAML:2.0:assertion. */
export const SAML2 = 'urn:oasis:names:tc:SAML:2.0:assertion';
export const DSIG = 'http://www.w3.org/2000/09/xmldsig#';
/** Figure 24: `xmlns:hl7="urn:hl7-org:v3"`. */
export const HL7 = 'urn:hl7-org:v3';
export const XOP = 'http://www.w3.org/2004/08/xop/include';

/** §6.3.2.1: `https://ws.annuaire.mssante.fr/webservices/VERSION/ACTION/<Nom du WS>`, VERSION 1011 (§6.3.2.3.2: V1011). */
export const FEED_PATH = '/webservices/V1011/Alimentation/WSALIMENTATIONMSS';
export const REPORT_PATH = '/webservices/V1011/CR/WSCRALIMENTATIONMSS';
/** §6.3.2.3.2: « Chaque service est associé à un namespace différent, portant le numéro de version ». */
export const FEED_NS = `https://ws.annuaire.mssante.fr${FEED_PATH}`;
export const REPORT_NS = `https://ws.annuaire.mssante.fr${REPORT_PATH}`;

/**
 * Figure 24's Action for the feed, verbatim. The text gives none for the report service:
 * the same pattern, its own service name (`…/cr/WSCRAlimentationMSS/crAlimentationMSS`).
 */
export const ACTIONS = {
  feed: 'http://annuaire.mssante.fr/webservices/V1011/alimentation/WSAlimentationMSS/alimentationMSS',
  report: 'http://annuaire.mssante.fr/webservices/V1011/cr/WSCRAlimentationMSS/crAlimentationMSS',
} as const;
export type ServiceName = keyof typeof ACTIONS;

// ---------------------------------------------------------------- Tableau 5 (VIHF)

/**
 * `//Assertion/Issuer/@Format`: Tableau 5 says the SAML 1.1 URN, Figure 24 writes
 * `…SAML:2.0:nameid-format:X509SubjectName`. The ANS's own example must pass: both.
 */
export const ISSUER_FORMATS = new Set([
  'urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName',
  'urn:oasis:names:tc:SAML:2.0:nameid-format:X509SubjectName',
]);
/** « NotOnOrAfter (issueInstant (temps Opérateur) + 1 heure) ». */
export const ASSERTION_LIFETIME_MS = 3_600_000;

/** The AttributeStatement's attributes, Tableau 5 with Figure 24's spelling (Profil_Utilisateur, VIHF_Profil). */
export const VIHF = {
  version: 'VIHF_Version',
  role: 'urn:oasis:names:tc:xacml:2.0:subject:role',
  resourceUrn: 'Ressource_URN',
  purposeOfUse: 'urn:oasis:names:tc:xspa:1.0:subject:purposeofuse',
  subjectId: 'urn:oasis:names:tc:xspa:1.0:subject:subject-id',
  structure: 'Identifiant_Structure',
  lpsNom: 'LPS_Nom',
  lpsVersion: 'LPS_Version',
  lpsId: 'LPS_ID',
  profil: 'Profil_Utilisateur',
  vihfProfil: 'VIHF_Profil',
} as const;

/** Tableau 5's constants. */
export const VIHF_VALUES = {
  version: '2.0',
  resourceUrn: 'urn:MSSANTE',
  purposeOfUse: { code: 'normal', codeSystem: '1.2.250.1.213.1.1.4.248' },
  profil: { code: 'OPER', codeSystem: '1.2.250.1.213.1.9.1.1' },
  vihfProfil: { code: 'profil_annuaire_PS', codeSystem: '1.2.250.1.213.1.1.4.312' },
} as const;

// ---------------------------------------------------------------- Tableau 56 (§9.7.1)

export const WSMSS: Readonly<Record<string, string>> = {
  WSMSS01: "L'en-tête de sécurité n'existe pas dans le message SOAP",
  WSMSS02: "Le jeton SAML n'a pas été trouvé dans l'en-tête du message SOAP",
  WSMSS03: "La date d'émission de l'assertion SAML (attribut IssueInstant) est obligatoire dans le jeton VIHf",
  WSMSS04:
    "La date d'émission de l'assertion SAML (attribut IssueInstant) n'est pas valide, elle doit être antérieure à l'heure d'arrivée de l'assertion et inférieure au délai maximum acceptable",
  WSMSS05: "L'identité de l'émetteur contenue dans le certificat de l'assertion SAML (élément Issuer) est obligatoire dans le jeton VIHf",
  WSMSS06:
    "Echec d'authentification - L'identité de l'émetteur contenue dans le certificat de l'assertion SAML (élément Issuer) n'est pas présente dans la liste blanche des domaines autorisés",
  WSMSS07:
    "La date de début de validité de l'assertion SAML (attribut NotBefore de l'élément Conditions) est obligatoire dans le jeton VIHf, si un élément Conditions est présent",
  WSMSS08:
    "La date de début de validité de l'assertion SAML (attribut NotBefore de l'élément Conditions) n'est pas valide, elle doit être antérieure à l'heure d'arrivée de l'assertion et ultérieure à sa date d'émission",
  WSMSS09:
    "La date de fin de validité de l'assertion SAML (attribut NotOnOrAfter de l'élément Conditions) est obligatoire dans le jeton VIHf, si un élément Conditions est présent",
  WSMSS10:
    "La date de fin de validité de l'assertion SAML (attribut NotOnOrAfter de l'élément Conditions) n'est pas valide, elle doit être ultérieure à l'heure d'arrivée de l'assertion",
  WSMSS11: "L'élément Profil_Utilisateur est obligatoire dans le jeton VIHf",
  WSMSS12: 'Schéma XML non conforme',
  WSMSS13: "La valeur renseignée dans le champ Issuer est différent du DN du certificat d'authentification de l'Opérateur",
  WSMSS14: "La valeur renseignée dans le champ Identifiant_structure est différent de l'identifiant structure du certificat d'authentification de l'Opérateur",
  WSMSS15: 'Le message ne peut pas être déposé dans le SAS de stockage pour être traité',
  WSMSS16: "Le numéro de ticket ne correspond pas au DN du certificat d'authentification de l'Opérateur",
  WSMSS17: "Le traitement n'est pas démarré ou est en cours. Le compte-rendu n'est pas encore disponible",
  WSMSS18: "Le DN du certificat d'authentification de l'Opérateur n'est pas valide",
  WSMSS19: "L'identifiant de l'utilisateur final (élément Subject NameID) est obligatoire dans le jeton VIHf",
  WSMSS21: "La valeur de l'élément Profil_Utilisateur n'est pas valide",
  WSMSS22: "L'élément Identifiant_structure est obligatoire dans le jeton VIHf",
  WSMSS23: "Le numéro de ticket n'existe pas",
  WSMSS24: "La demande d'alimentation est en échec",
  WSMSS25: "Le fichier du compte-rendu de l'alimentation n'existe pas",
  WSMSS26: "Le fichier du compte-rendu de l'alimentation ne peut être récupéré du SAS de stockage",
};

// ---------------------------------------------------------------- body (§6.4.2.3, §6.4.2.5.1)

/**
 * Figures 29–32 are images: the names come from the text. §6.4.2.3.1: one message per
 * domain « comporte deux entrées » DOMAINE and COMPTEMSS (the tables say COMPTESMSS for the
 * structure); each record's children are the attribute names of Tableaux 13–16; the CAB
 * co-holders sit in « une balise ListeCotitulaires avec à l'intérieur une ou plusieurs
 * balises Cotulaire ». The report request carries the TICKET entry (§6.4.2.5.1.1).
 */
export const BODY = {
  feedOperation: 'alimentationMSS',
  reportOperation: 'crAlimentationMSS',
  message: 'MESSAGE',
  domaine: 'DOMAINE',
  domaineName: 'Domaine',
  /** The list of records: COMPTESMSS (the tables' name); COMPTEMSS (§6.4.2.3.1's entry name) is read too. */
  comptes: new Set(['COMPTESMSS', 'COMPTEMSS']),
  /** One record. */
  compte: 'COMPTEMSS',
  coHolders: 'ListeCotitulaires',
  coHolder: 'Cotulaire',
  ticket: 'TICKET',
} as const;

/** Every attribute of Tableaux 14, 15, 16 and the CAB table, with its X(n) (the XSD's maxLength). */
export const RECORD_ATTRIBUTES: Readonly<Record<string, number>> = {
  TypeBAL: 3,
  AdresseBAL: 256,
  TypeIdentifiantPP: 2,
  IdentifiantPP: 256,
  TypeIdentifiantPM: 1,
  IdentifiantPM: 32,
  ServiceRattachement: 160,
  CiviliteExercice: 3,
  NomExercice: 80,
  PrenomExercice: 50,
  CategorieProfessions: 2,
  Profession: 2,
  Specialite: 10,
  Responsable: 160,
  Description: 160,
  Telephone: 20,
  Dematerialisation: 1,
  ListeRouge: 1,
};

/** The CAB table's « Cotulaire » attributes. */
export const CO_HOLDER_ATTRIBUTES: Readonly<Record<string, number>> = {
  TypeIdentifiantPP: 1,
  IdentifiantPP: 11,
  NomExercice: 80,
  PrenomExercice: 50,
  EstResponsable: 1,
};

/** EX_GBM_3030: « limitée à 20 dont le responsable opérationnel ». */
export const MAX_CO_HOLDERS = 20;

// ---------------------------------------------------------------- Tableau 59 (§9.7.3)

export type Criticite = 'Bloquante' | 'Warning';

export interface Rule {
  code: string;
  criticite: Criticite;
  /** « Message d'erreur affiché » of Tableau 59. */
  message: string;
}

const B: Criticite = 'Bloquante';
const W: Criticite = 'Warning';

/** Tableau 59, as printed (messages verbatim). */
export const RULES: Readonly<Record<string, Rule>> = {
  RG_CTR_000: { code: 'MSS000', criticite: B, message: "Le nom de domaine communiqué n'existe pas dans la liste blanche" },
  RG_CTR_001: { code: 'MSS001', criticite: B, message: 'Le domaine de la BAL ne correspond pas au domaine alimenté' },
  RG_CTR_005: {
    code: 'MSS005',
    criticite: B,
    message: "Le type d'identifiant personne physique est obligatoire pour les BAL MSSanté de type PER - Personnelle",
  },
  RG_CTR_007: {
    code: 'MSS007',
    criticite: B,
    message: "L'identifiant personne physique est obligatoire pour les adresses BAL MSSanté de type PER (Personnelle)",
  },
  RG_CTR_008: {
    code: 'MSS008',
    criticite: B,
    message: "L'identifiant national du professionnel de santé transmis n'existe pas dans le référentiel des identités PP/PM",
  },
  RG_CTR_009: {
    code: 'MSS009',
    criticite: B,
    message: "Le type d'identifiant de la structure d'activité est obligatoire pour les BAL MSSanté d'un professionnel de santé avec identifiant interne",
  },
  RG_CTR_010: {
    code: 'MSS010',
    criticite: B,
    message: "Le type d'identifiant de la structure d'activité transmis n'est pas présent dans la nomenclature de référence utilisée",
  },
  RG_CTR_011: {
    code: 'MSS011',
    criticite: B,
    message: "Le type d'identifiant de la structure d'activité est obligatoire pour les adresses de BAL MSSanté de type Organisationnelle ou Applicative",
  },
  RG_CTR_012: {
    code: 'MSS010',
    criticite: B,
    message: "Le type d'identifiant de la structure d'activité transmis n'est pas présent dans la nomenclature de référence utilisée",
  },
  RG_CTR_013: {
    code: 'MSS012',
    criticite: B,
    message: "L'identifiant de la structure d'activité est obligatoire pour les adresses de BAL MSSanté d'un professionnel de santé avec identifiant interne",
  },
  RG_CTR_014: {
    code: 'MSS013',
    criticite: B,
    message: "L'identifiant de la structure d'activité est obligatoire pour les BAL MSSanté de type Organisationnelle ou Applicative",
  },
  RG_CTR_016: {
    code: 'MSS015',
    criticite: B,
    message: "L'identifiant de la structure d'activité transmise n'existe pas dans le référentiel des identités PP/PM",
  },
  RG_CTR_017: { code: 'MSS016', criticite: B, message: "La valeur de la civilité d'exercice n'est pas conforme à la nomenclature utilisée" },
  RG_CTR_018: {
    code: 'MSS017',
    criticite: B,
    message: "La valeur de la civilité d'exercice n'est pas conforme à la profession transmise pour le professionnel de santé",
  },
  RG_CTR_019: { code: 'MSS018', criticite: B, message: "Le nom d'exercice est obligatoire pour tout professionnel de santé avec ou sans identifiant national" },
  RG_CTR_020: {
    code: 'MSS019',
    criticite: B,
    message: "Le prénom d'exercice est obligatoire pour tout professionnel de santé avec ou sans identifiant national",
  },
  RG_CTR_021: {
    code: 'MSS020',
    criticite: W,
    message:
      "Le nom et/ou le prénom d'exercice du professionnel de santé ne correspondent pas au nom et/ou prénom d'exercice rattachés à l'identifiant national dans l'Annuaire Santé",
  },
  RG_CTR_022: {
    code: 'MSS021',
    criticite: B,
    message: "La catégorie de profession est obligatoire pour la BAL d'un professionnel de santé avec identifiant interne",
  },
  RG_CTR_023: {
    code: 'MSS022',
    criticite: B,
    message: "La valeur transmise pour la catégorie de professions n'est pas présente dans la nomenclature de référence utilisée",
  },
  RG_CTR_024: { code: 'MSS023', criticite: B, message: "La valeur transmise pour la Catégorie de profession n'est pas autorisée" },
  RG_CTR_025: { code: 'MSS024', criticite: B, message: "La profession est obligatoire pour la BAL d'un professionnel de santé avec identifiant interne" },
  RG_CTR_026: { code: 'MSS025', criticite: B, message: "La valeur transmise pour la profession n'est pas présente dans la nomenclature de référence utilisée" },
  RG_CTR_027: { code: 'MSS026', criticite: B, message: "La valeur transmise pour la spécialité n'est pas présente dans la nomenclature de référence utilisée" },
  RG_CTR_028: { code: 'MSS027', criticite: B, message: "Cette spécialité n'est pas autorisée pour la profession indiquée" },
  RG_CTR_029: { code: 'MSS028', criticite: B, message: 'Le responsable est obligatoire pour une BAL de type Applicative ou Organisationnelle' },
  RG_CTR_030: { code: 'MSS029', criticite: B, message: 'La description est obligatoire pour une BAL de type Applicative ou Organisationnelle' },
  RG_CTR_033: { code: 'MSS032', criticite: B, message: "L'identification par un SIRET ou SIREN n'est acceptée que si la structure n'a pas de numéro FINESS" },
  RG_CTR_034: {
    code: 'MSS033',
    criticite: W,
    message:
      "L'identifiant de structure fourni ne correspond pas à une structure d'exercice connue de la personne : la BAL est rattachée à la PP et à la structure indiquée dans le flux d'alimentation (et uniquement à cette structure)",
  },
  RG_CTR_035: {
    code: 'MSS034',
    criticite: B,
    message: "L'identifiant interne pour un professionnel de santé avec identifiant interne doit être identique à la valeur de la BAL MSSanté",
  },
  RG_CTR_036: {
    code: 'MSS035',
    criticite: B,
    message:
      'Pour les types de BAL PP RPPS ou ADELI, la valeur indiquée pour le service de rattachement ne peut être prise en compte que si un identifiant de structure est renseigné',
  },
  RG_CTR_044: { code: 'MSS042', criticite: B, message: "L'adresse de la BAL MSSanté doit être unique dans le fichier d'alimentation" },
  RG_CTR_045: {
    code: 'MSS043',
    criticite: W,
    message: "L'identifiant national du professionnel de santé transmis n'est plus l'identifiant national valide dans le référentiel des identités PP/PM.",
  },
  RG_CTR_047: {
    code: 'MSS045',
    criticite: W,
    message: "L'identifiant de la structure d'activité est recommandé pour les adresses de BAL MSSanté d'un professionnel social",
  },
  RG_CTR_048: {
    code: 'MSS046',
    criticite: W,
    message: "L'identifiant de la structure d'activité transmise n'existe pas dans le référentiel des identités PP/PM",
  },
  RG_CTR_049: { code: 'MSS047', criticite: B, message: 'Le numéro RPPS indiqué est attribué à un étudiant.' },
  // The CAB table names these rules; §9.7.3 gives them no code or message: MSS + their number.
  RG_CTR_106: { code: 'MSS106', criticite: B, message: 'Un seul cotitulaire de la liste peut être déclaré comme responsable' },
  RG_CTR_120: { code: 'MSS120', criticite: B, message: 'Le type d’identifiant du cotitulaire est obligatoire' },
  RG_CTR_121: { code: 'MSS121', criticite: B, message: "L'identifiant du cotitulaire est obligatoire" },
  RG_CTR_122: { code: 'MSS122', criticite: B, message: "Le nom d'exercice du cotitulaire est obligatoire" },
  RG_CTR_123: { code: 'MSS123', criticite: B, message: "Le prénom d'exercice du cotitulaire est obligatoire" },
  RG_CTR_140: { code: 'MSS140', criticite: B, message: "Le type d'identifiant du cotitulaire n'est pas présent dans la nomenclature (0 ADELI, 8 RPPS)" },
  RG_CTR_141: { code: 'MSS141', criticite: B, message: "L'identifiant du cotitulaire n'existe pas dans le référentiel des identités PP/PM" },
  RG_CTR_142: { code: 'MSS142', criticite: W, message: "Le nom d'exercice du cotitulaire ne correspond pas à celui connu dans l'Annuaire Santé" },
  RG_CTR_143: { code: 'MSS143', criticite: W, message: "Le prénom d'exercice du cotitulaire ne correspond pas à celui connu dans l'Annuaire Santé" },
};

/** Tableau 21's example, the rule the report header recalls (« l'erreur la plus fréquemment constatée »). */
export const RG_CTR_021_TEXT =
  "Le contrôle de cohérence vérifie que la première lettre du prénom et les deux premières lettres du nom - après la normalisation (sans : accents-tirets-apostrophe-espaces) - sont identiques aux valeurs connues dans l'Annuaire Santé.";

// ---------------------------------------------------------------- nomenclatures (Tableaux 14–16, 6)

/** G08 (TypeIdentifiantPP): 0 ADELI, 8 RPPS, 10 identifiant interne. */
export const G08 = new Set(['0', '8', '10']);
/** G07 (TypeIdentifiantPM): 1 FINESS, 2 SIREN, 3 SIRET. */
export const G07 = new Set(['1', '2', '3']);
/** RG_CTR_024: « alimenté par la catégorie de profession "01" (Professionnel de Santé) ». */
export const CATEGORIE_SANTE = '01';
/** RG_CTR_047/048: « catégorie de profession "professionnel social" (code = "06") ». */
export const CATEGORIE_SOCIAL = '06';

// ---------------------------------------------------------------- report (Tableaux 20–24)

/** Tableau 23, in order. */
export const COUNTERS = ['NbBALLus', 'NbBALDelta', 'NbBALCrees', 'NbBALMaj', 'NbBALSup', 'NbBALErrBlo', 'NbBALErrNBlo'] as const;
export type Counter = (typeof COUNTERS)[number];

/** Tableau 24, in order (TypIdentifiant… spelt as the table spells them). */
export const ANOMALY_LEAVES = [
  'CodeMSSO',
  'MotifErreur',
  'CriticiteErreur',
  'TypeBAL',
  'AdresseBAL',
  'TypIdentifiantPP',
  'IdentifiantPP',
  'TypIdentifiantPM',
  'IdentifiantPM',
  'NomExerciceAnnuaire',
  'PrenomExerciceAnnuaire',
  'TypIdentifiantPPAnnuaire',
  'IdentifiantPPAnnuaire',
] as const;
export type AnomalyLeaf = (typeof ANOMALY_LEAVES)[number];

/** The report's own wrappers (the tables give only the leaves). */
export const REPORT_XML = {
  root: 'CompteRenduAlimentation',
  header: 'Entete',
  ticket: 'Ticket',
  rules: 'ListeReglesControle',
  rule: 'Regle',
  /** Tableau 21: the rule's description. */
  ruleText: 'RegleControle',
  /** Tableau 21 writes CodeMSS0 (a zero). */
  ruleCode: 'CodeMSS0',
  domainBlock: 'Detail',
  domain: 'Domaine',
  stats: 'ElementsStatistiques',
  anomalies: 'ListeAnomalies',
  anomaly: 'Anomalie',
} as const;

/** §6.4.2.5: « les X derniers générés, … dont le maximum est 20 ». */
export const REPORTS_KEPT = 20;
