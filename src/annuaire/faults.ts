// SOAP faults of the Annuaire (§6.3.2.3.4, §9.7.1 Tableau 56, §6.4.2.2 Tableau 12,
// §6.4.2.5 Tableau 19) turned into coded errors that say what to do (EX_WSA_5060).
// Codes starting with TEMPORARY_ exit 3 (try again later); the others exit 1.
import { MssError } from '../errors.js';

export interface SoapFault {
  /** WSMSSnn, "certificate_revoked", or the fault's own code when neither is found. */
  code: string;
  /** The Reason/faultstring text. */
  reason: string;
  /** soap:Code/Value (1.2) or faultcode (1.1). */
  faultCode?: string;
  httpStatus: number;
}

/** Tableau 56, for messages. */
export const WSMSS_TEXT: Readonly<Record<string, string>> = {
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
  WSMSS20:
    "L'identifiant de l'utilisateur final (élément Subject NameID) n'est pas valide, en authentification directe, il doit être renseigné avec le CN contenu dans le DN du certificat d'authentification",
  WSMSS21: "La valeur de l'élément Profil_Utilisateur n'est pas valide",
  WSMSS22: "L'élément Identifiant_structure est obligatoire dans le jeton VIHf",
  WSMSS23: "Le numéro de ticket n'existe pas",
  WSMSS24: "La demande d'alimentation est en échec",
  WSMSS25: "Le fichier du compte-rendu de l'alimentation n'existe pas",
  WSMSS26: "Le fichier du compte-rendu de l'alimentation ne peut être récupéré du SAS de stockage",
};

const VIHF_CODES = new Set([
  'WSMSS01',
  'WSMSS02',
  'WSMSS03',
  'WSMSS04',
  'WSMSS05',
  'WSMSS07',
  'WSMSS08',
  'WSMSS09',
  'WSMSS10',
  'WSMSS11',
  'WSMSS13',
  'WSMSS14',
  'WSMSS18',
  'WSMSS19',
  'WSMSS20',
  'WSMSS21',
  'WSMSS22',
]);

/** The WSMSS code (or certificate_revoked) carried by a fault's code, subcode or text. */
export function faultCodeOf(...texts: Array<string | undefined>): string | undefined {
  for (const t of texts) {
    if (!t) continue;
    const m = /WSMSS\s?0?(\d{1,2})\b/i.exec(t);
    if (m) return `WSMSS${(m[1] as string).padStart(2, '0')}`;
    if (/certificate[_ ]revoked/i.test(t)) return 'certificate_revoked';
  }
  return undefined;
}

export interface FaultContext {
  service: 'feed' | 'report';
  url: string;
  dn: string;
  ticket?: string;
  domains?: readonly string[];
}

/** The actionable error for a fault. */
export function faultError(f: SoapFault, ctx: FaultContext): MssError {
  const said = `${f.code}${WSMSS_TEXT[f.code] ? ` « ${WSMSS_TEXT[f.code]} »` : ''}${f.reason && !WSMSS_TEXT[f.code]?.startsWith(f.reason) ? ` (${f.reason})` : ''}`;
  const details = { wsmss: f.code, reason: f.reason, url: ctx.url, httpStatus: f.httpStatus, ...(ctx.ticket ? { ticket: ctx.ticket } : {}) };
  const domains = ctx.domains?.join(', ') ?? '';
  switch (f.code) {
    case 'WSMSS06':
      return new MssError(
        'ANNUAIRE_NOT_AUTHORIZED',
        `the Annuaire refused the call: ${said}. Check that ${ctx.dn} is listed${domains ? ` for ${domains}` : ''} in the liste blanche (\`mss-sidecar whitelist lookup\`) and that operator.certificate is the certificate declared to the ANS (EX_WSA_5010)`,
        details,
      );
    case 'WSMSS12':
      return new MssError(
        'ANNUAIRE_MALFORMED',
        `the Annuaire refused the message as not conforming to its schema: ${said}. Compare src/annuaire/contract.ts with the XSD (DR3), see docs/annuaire.md`,
        details,
      );
    case 'WSMSS15':
      return new MssError(
        'TEMPORARY_ANNUAIRE_SAS',
        `the Annuaire could not store the feed: ${said}; nothing was published, try again later (before 02:00)`,
        details,
      );
    case 'WSMSS16':
      return new MssError(
        'ANNUAIRE_TICKET_NOT_OURS',
        `ticket ${ctx.ticket ?? '?'} does not belong to ${ctx.dn}: ${said}. A report is fetched with the certificate that published it (EX_1.1.1_5020)`,
        details,
      );
    case 'WSMSS17':
      return new MssError('TEMPORARY_ANNUAIRE_PENDING', `the feed of ticket ${ctx.ticket ?? '?'} is not processed yet: ${said}; try again later`, details);
    case 'WSMSS23':
    case 'WSMSS25':
      return new MssError(
        'ANNUAIRE_TICKET_UNKNOWN',
        `the Annuaire has no report for ticket ${ctx.ticket ?? '?'}: ${said} (only the last 20 reports are kept); the next publication will send the feed again`,
        details,
      );
    case 'WSMSS24':
      return new MssError(
        'ANNUAIRE_FEED_FAILED',
        `the Annuaire failed to process the feed of ticket ${ctx.ticket ?? '?'}: ${said}; publish again, and contact the ANS support (monserviceclient.mssante@esante.gouv.fr) if it persists`,
        details,
      );
    case 'WSMSS26':
      return new MssError(
        'TEMPORARY_ANNUAIRE_REPORT_UNAVAILABLE',
        `the report of ticket ${ctx.ticket ?? '?'} cannot be read from the Annuaire's storage: ${said}; try again later`,
        details,
      );
    case 'certificate_revoked':
      return new MssError(
        'ANNUAIRE_CERT_REVOKED',
        `the Annuaire says the operator certificate ${ctx.dn} is revoked (certificate_revoked): get a new IGC-Santé certificate and declare it in the liste blanche`,
        details,
      );
    default:
      if (VIHF_CODES.has(f.code)) {
        return new MssError(
          'ANNUAIRE_VIHF_REFUSED',
          `the Annuaire refused the VIHF token: ${said}. Check the clock (NTP), operator.structureId and the certificate (docs/annuaire.md)`,
          details,
        );
      }
      return new MssError('ANNUAIRE_FAULT', `the Annuaire answered with a fault: ${said}`, details);
  }
}

/** SA7 of §6.4.2.2: "401: Authorization Required" for an expired certificate. */
export function unauthorizedError(ctx: FaultContext, status: number): MssError {
  return new MssError(
    'ANNUAIRE_CERT_EXPIRED',
    `the Annuaire answered HTTP ${status} (Authorization Required): the operator certificate ${ctx.dn} is not valid for it (expired?); renew it`,
    { url: ctx.url, httpStatus: status },
  );
}
