// The WSDL (DR2) and XSD (DR3) of WSALIMENTATIONMSS / WSCRALIMENTATIONMSS as far as the
// Référentiel #1 describes them (§6.3.2, §6.4.2.3, §6.4.2.5, Tableaux 4, 5, 13–16, 20–24).
// DR2/DR3 are not in the seeds: every element name, namespace, nesting and order the
// client writes and the sandbox expects is here, derived from the tables, so that fixing
// them against the real documents is a change to this file only. Each guess is marked
// ASSUMPTION and listed in docs/annuaire.md.

/** Version of the web services, carried by the URL and the namespaces (§6.3.2.3.2). */
export const WS_VERSION = 'V1011';

// ---------------------------------------------------------------- namespaces (§6.3.2.1)

export const NS = {
  /**
   * §6.3.2.3.3.1 names the SOAP 1.1 envelope namespace; the fault example (Figure 26) has
   * the SOAP 1.2 shape. ASSUMPTION: the envelope is SOAP 1.1 (the namespace the text
   * requires); faults are read in both shapes (soap-response.ts).
   */
  soap: 'http://schemas.xmlsoap.org/soap/envelope/',
  soap12: 'http://www.w3.org/2003/05/soap-envelope',
  wsa: 'http://www.w3.org/2005/08/addressing',
  wsse: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd',
  saml: 'urn:oasis:names:tc:SAML:2.0:assertion',
  ds: 'http://www.w3.org/2000/09/xmldsig#',
  hl7: 'urn:hl7-org:v3',
  xsi: 'http://www.w3.org/2001/XMLSchema-instance',
  xsd: 'http://www.w3.org/2001/XMLSchema',
  xop: 'http://www.w3.org/2004/08/xop/include',
  mssante: 'http://annuaire.mssante.fr/webservices/commun',
  mssanteEntete: 'http://annuaire.mssante.fr/webservices/commun/entete',
  /** `https://ws.annuaire.mssante.fr/webservices/VERSION/ACTION/<Nom du WS>` (§6.3.2.1). */
  feed: `https://ws.annuaire.mssante.fr/webservices/${WS_VERSION}/Alimentation/WSALIMENTATIONMSS`,
  report: `https://ws.annuaire.mssante.fr/webservices/${WS_VERSION}/CR/WSCRALIMENTATIONMSS`,
} as const;

/** SOAP 1.1 over HTTP: text/xml and a SOAPAction header carrying the WS-Addressing Action. */
export const SOAP_CONTENT_TYPE = 'text/xml; charset=utf-8';

// ---------------------------------------------------------------- WS-Addressing (Tableau 4)

/**
 * wsa:Action. The feed's is the example's, verbatim (its casing differs from the URL's).
 * ASSUMPTION: the report's follows the same pattern.
 */
export const ACTION = {
  feed: `http://annuaire.mssante.fr/webservices/${WS_VERSION}/alimentation/WSAlimentationMSS/alimentationMSS`,
  report: `http://annuaire.mssante.fr/webservices/${WS_VERSION}/cr/WSCRAlimentationMSS/crAlimentationMSS`,
} as const;

export const WSA_ANONYMOUS = 'http://www.w3.org/2005/08/addressing/anonymous';

/**
 * Tableau 4 lists FAULTO as required, the example has none. ASSUMPTION: send wsa:FaultTo
 * with the anonymous address (valid WS-Addressing, same meaning as leaving it out).
 */
export const SEND_FAULT_TO = true;

/**
 * wsa:To. The example writes the endpoint followed by `?wsdl`; the production URLs of §9.1.1
 * have no query. ASSUMPTION: To is the address the message is posted to, without `?wsdl`
 * (the query names the WSDL document, DR2, not the service).
 */
export function serviceAddress(url: string): string {
  return url.replace(/\?wsdl$/i, '');
}

// ---------------------------------------------------------------- VIHF (Tableau 5)

/**
 * Tableau 5 says SAML 1.1's X509SubjectName URN, the example a "SAML:2.0" one that no
 * standard defines (SAML 2.0 core §8.3.3 keeps the 1.1 URN). The table wins.
 */
export const ISSUER_FORMAT = 'urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName';
export const AUTHN_CONTEXT = 'urn:oasis:names:tc:SAML:2.0:ac:classes:Password';

/** Attribute names as the example writes them (Tableau 5 capitalises some differently). */
export const VIHF_ATTR = {
  version: 'VIHF_Version',
  role: 'urn:oasis:names:tc:xacml:2.0:subject:role',
  secteur: 'Secteur_Activite',
  resourceId: 'urn:oasis:names:tc:xacml:2.0:resource:resource-id',
  resourceUrn: 'Ressource_URN',
  purposeOfUse: 'urn:oasis:names:tc:xspa:1.0:subject:purposeofuse',
  modeAccesRaison: 'Mode_Acces_Raison',
  subjectId: 'urn:oasis:names:tc:xspa:1.0:subject:subject-id',
  structure: 'Identifiant_Structure',
  lpsNom: 'LPS_Nom',
  lpsVersion: 'LPS_Version',
  lpsId: 'LPS_ID',
  profil: 'Profil_Utilisateur',
  /** Not in the example: Tableau 5's spelling. */
  profilPerimetre: 'PROFIL_UTILISATEUR_PERIMETRE',
  vihfProfil: 'VIHF_Profil',
} as const;

export interface CodedValue {
  element: string;
  code: string;
  codeSystem: string;
  codeSystemName: string;
  displayName: string;
}

/**
 * HL7 v3 CE values (Tableau 5). The example writes the attributes `hl7:code` (OCR'd as
 * `h17:`) and binds `xsi` to the HL7 namespace. ASSUMPTION: unqualified attributes and the
 * real XML Schema instance namespace, as HL7 v3 defines CE.
 */
export const VIHF_CODES = {
  purposeOfUse: {
    element: 'PurposeOfUse',
    code: 'normal',
    codeSystem: '1.2.250.1.213.1.1.4.248',
    codeSystemName: 'modes accès VIHF 1.0',
    displayName: 'Accès normal',
  },
  profil: { element: 'Profil_Utilisateur', code: 'OPER', codeSystem: '1.2.250.1.213.1.9.1.1', codeSystemName: 'R84', displayName: 'Opérateur MSSanté' },
  vihfProfil: {
    element: 'VIHF_Profil',
    code: 'profil_annuaire_PS',
    codeSystem: '1.2.250.1.213.1.1.4.312',
    codeSystemName: 'profil VIHF',
    displayName: 'Profil pour annuaire de professionnels de santé du VIHF 2.0',
  },
} as const satisfies Record<string, CodedValue>;

export const RESOURCE_URN = 'urn:MSSANTE';
/** §6.3.2.3.3.1: issueInstant < notBefore < now < NotOnOrAfter ≤ issueInstant + 1 h. */
export const ASSERTION_MAX_LIFETIME_S = 3600;

// ---------------------------------------------------------------- feed body (§6.4.2.3, Figure 29)

/**
 * Body of WSALIMENTATIONMSS. ASSUMPTION (Figure 29 is an image): an operation element named
 * after the Action's last segment, holding one MESSAGE per domain, each with the DOMAINE
 * entry (Tableau 13) and the COMPTESMSS entry, a list of COMPTEMSS records.
 */
export const FEED = {
  operation: 'alimentationMSS',
  response: 'alimentationMSSResponse',
  message: 'MESSAGE',
  domaine: 'DOMAINE',
  domaineName: 'Domaine',
  comptes: 'COMPTESMSS',
  compte: 'COMPTEMSS',
  /** The CAB table: "ListeCotitulaires" holding "Cotulaire" elements, spelt as in the text. */
  coHolders: 'ListeCotitulaires',
  coHolder: 'Cotulaire',
  /** §6.4.2.3.4: the answer carries the TICKET entry. */
  ticket: 'TICKET',
} as const;

/** Body of WSCRALIMENTATIONMSS (§6.4.2.5.1, Figures 31–32). ASSUMPTION: element names. */
export const REPORT_WS = {
  operation: 'crAlimentationMSS',
  response: 'crAlimentationMSSResponse',
  /** Request: the ticket number; response: the entry holding the number and the ZIP. */
  ticket: 'TICKET',
  ticketNumber: 'NumeroTicket',
  /** xsd:base64Binary, inline or an xop:Include (MTOM). */
  file: 'Fichier',
} as const;

/** Every field a COMPTEMSS record may carry (the union of Tableaux 14–16 and the CAB table). */
export const RECORD_FIELDS = [
  'TypeBAL',
  'AdresseBAL',
  'TypeIdentifiantPP',
  'IdentifiantPP',
  'TypeIdentifiantPM',
  'IdentifiantPM',
  'ServiceRattachement',
  'CiviliteExercice',
  'NomExercice',
  'PrenomExercice',
  'CategorieProfessions',
  'Profession',
  'Specialite',
  'Responsable',
  'Description',
  'Telephone',
  'Dematerialisation',
  'ListeRouge',
] as const;
export type RecordField = (typeof RECORD_FIELDS)[number];

export const CO_HOLDER_FIELDS = ['TypeIdentifiantPP', 'IdentifiantPP', 'NomExercice', 'PrenomExercice', 'EstResponsable'] as const;
export type CoHolderField = (typeof CO_HOLDER_FIELDS)[number];

/**
 * Element order per kind of record, as the tables list them. ASSUMPTION: the XSD sequence
 * follows the tables (CAB: ListeRouge before Description, then the co-holders). Tableau 14
 * does not list ServiceRattachement although RG_CTR_036 checks it for PER 0/8: it goes
 * where Tableaux 15 and 16 put it. Dematerialisation is never sent (removed in v1.6, §1.4).
 */
export const FIELD_ORDER = {
  PER: [
    'TypeBAL',
    'AdresseBAL',
    'TypeIdentifiantPP',
    'IdentifiantPP',
    'TypeIdentifiantPM',
    'IdentifiantPM',
    'ServiceRattachement',
    'NomExercice',
    'PrenomExercice',
    'Telephone',
    'ListeRouge',
  ],
  PER10: [
    'TypeBAL',
    'AdresseBAL',
    'TypeIdentifiantPP',
    'IdentifiantPP',
    'TypeIdentifiantPM',
    'IdentifiantPM',
    'ServiceRattachement',
    'CiviliteExercice',
    'NomExercice',
    'PrenomExercice',
    'CategorieProfessions',
    'Profession',
    'Specialite',
    'Telephone',
    'ListeRouge',
  ],
  ORG: ['TypeBAL', 'AdresseBAL', 'TypeIdentifiantPM', 'IdentifiantPM', 'ServiceRattachement', 'Responsable', 'Description', 'Telephone', 'ListeRouge'],
  // The CAB table (§6.4.2.3.3.4) lists TypeBAL, AdresseBAL, ListeRouge, Description; EX_GBM_3030
  // adds "TypeIdentifiantPP ; IdentifiantPP" (the Responsable opérationnel's RPPS) and
  // RG_CTR_005/007 ("PER ou CAB") and RG_CTR_029 ("ORG ou APP ou CAB": Responsable) require
  // them. ASSUMPTION: they sit where Tableaux 14–16 put them (identifiers after AdresseBAL,
  // Responsable before ListeRouge), the table's own order kept for the rest.
  CAB: ['TypeBAL', 'AdresseBAL', 'TypeIdentifiantPP', 'IdentifiantPP', 'Responsable', 'ListeRouge', 'Description'],
} as const satisfies Record<string, readonly RecordField[]>;

export type RecordKind = keyof typeof FIELD_ORDER;

/** The order a record of this TypeBAL/TypeIdentifiantPP is written in. */
export function recordKind(typeBal: string | undefined, typePP: string | undefined): RecordKind {
  if (typeBal === 'CAB') return 'CAB';
  if (typeBal === 'ORG' || typeBal === 'APP') return 'ORG';
  return typePP === '10' ? 'PER10' : 'PER';
}

/** X(n) of the tables (XSD maxLength). ADELI X(9) / RPPS X(11) are checked by type. */
export const FIELD_MAX: Partial<Record<RecordField | CoHolderField | 'Domaine', number>> = {
  Domaine: 255,
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
  EstResponsable: 1,
};

// ---------------------------------------------------------------- report file (Tableaux 20–24)

/**
 * `cralimentationmss_numero_de_ticket_AAAAMMJJHHmss.xml` and `…_checksum.txt` (§6.4.2.5 and
 * §6.4.2.5.1.3 write the date with 13 characters each time; probably HHmmss, 14). DECISION:
 * the file the ANS sends counts, not the text's digit count — any run of digits is read as
 * the date and a report is never refused over it (docs/annuaire.md).
 */
export const REPORT_XML_FILE = /^cralimentationmss_(.+)_(\d+)\.xml$/;
export const REPORT_CHECKSUM_FILE = /^cralimentationmss_(.+)_(\d+)_checksum\.txt$/;

/**
 * Element names of the report XML. The tables give the leaves; ASSUMPTION: the wrappers.
 * The parser finds blocks by their leaves (a block is whatever holds a Domaine, an anomaly
 * whatever holds a CodeMSSO), so only the sandbox depends on the wrappers.
 */
export const REPORT_XML = {
  root: 'CompteRenduAlimentation',
  header: 'Entete',
  ticket: 'Ticket',
  rules: 'ListeReglesControle',
  rule: 'Regle',
  /** Tableau 21: the rule's description (X(320)) and its code. */
  ruleText: 'RegleControle',
  /** Tableau 21 writes CodeMSS0 (zero), Tableau 24 CodeMSSO (letter O); both are read. */
  ruleCode: 'CodeMSS0',
  domain: 'CompteRenduDomaine',
  domainName: 'Domaine',
  stats: 'Statistiques',
  anomalies: 'ListeAnomalies',
  anomaly: 'Anomalie',
  anomalyCode: 'CodeMSSO',
} as const;

export const REPORT_COUNTERS = ['NbBALLus', 'NbBALDelta', 'NbBALCrees', 'NbBALMaj', 'NbBALSup', 'NbBALErrBlo', 'NbBALErrNBlo'] as const;
export type ReportCounter = (typeof REPORT_COUNTERS)[number];

/** Tableau 24, in order. */
export const ANOMALY_FIELDS = [
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
export type AnomalyField = (typeof ANOMALY_FIELDS)[number];
