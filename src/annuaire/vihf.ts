// The VIHF token (Référentiel #1 §6.3.2.3.3.1, Tableau 5): a SAML 2.0 assertion in
// wsse:Security identifying the calling system in indirect authentication. Every field and
// attribute of Tableau 5 is written; the Issuer is the DN of the operator certificate that
// also authenticates the TLS connection (WSMSS13), the structure the certificate's
// (WSMSS14). Signing is optional ("Oui pour les jetons signés"): enveloped XMLDSig,
// exclusive c14n, rsa-sha256, placed after the Issuer as SAML 2.0 requires.
import { randomUUID } from 'node:crypto';
import { SignedXml } from 'xml-crypto';
import { ALG } from '../whitelist/signature.js';
import { ASSERTION_MAX_LIFETIME_S, AUTHN_CONTEXT, ISSUER_FORMAT, NS, RESOURCE_URN, VIHF_ATTR, VIHF_CODES, type CodedValue } from './contract.js';
import { xmlAttr, xmlText } from './feed-xml.js';

export interface VihfInput {
  /** Subject DN of the operator certificate, RFC 4514 string (CN first). */
  issuerDn: string;
  /** Subject/NameID: declarative in indirect authentication; the certificate's CN. */
  nameId: string;
  /** urn:…:subject-id: who or what acts (the structure's raison sociale by default). */
  subjectId: string;
  /** Identifiant_Structure: the structure IdNat of the certificate (OU). */
  structureId: string;
  software: { name: string; version: string; id: string };
  /** Secteur_Activite (optional, e.g. SA07^1.2.250.1.71.4.2.4). */
  secteurActivite?: string;
  now: Date;
  /** Sign with the operator key (Issuer is then the signing certificate's DN: the same one). */
  sign?: { keyPem: string; certPem: string };
}

export interface Assertion {
  xml: string;
  id: string;
  issueInstant: Date;
  notBefore: Date;
  notOnOrAfter: Date;
}

/**
 * Allowance for the Annuaire's clock being behind ours: IssueInstant and NotBefore are set
 * in the past so that issueInstant < notBefore < now holds on arrival (WSMSS04/WSMSS08).
 */
export const CLOCK_SKEW_S = 60;

/** xs:dateTime to the second, UTC, as in the example. */
export function samlTime(d: Date): string {
  return `${d.toISOString().slice(0, 19)}Z`;
}

/** §6.3.2.3.3.1: issueInstant < notBefore < now < NotOnOrAfter ≤ issueInstant + 1 h. */
export function validityWindow(now: Date): { issueInstant: Date; notBefore: Date; notOnOrAfter: Date } {
  const t = Math.floor(now.getTime() / 1000) * 1000;
  const issueInstant = new Date(t - 2 * CLOCK_SKEW_S * 1000);
  const notBefore = new Date(t - CLOCK_SKEW_S * 1000);
  const notOnOrAfter = new Date(issueInstant.getTime() + ASSERTION_MAX_LIFETIME_S * 1000);
  return { issueInstant, notBefore, notOnOrAfter };
}

const attr = (name: string, value?: string): string =>
  value === undefined
    ? `<saml2:Attribute Name="${xmlAttr(name)}"/>`
    : `<saml2:Attribute Name="${xmlAttr(name)}"><saml2:AttributeValue>${xmlText(value)}</saml2:AttributeValue></saml2:Attribute>`;

/** An HL7 v3 CE value (xsi:type="CE") in an AttributeValue. */
const coded = (name: string, c: CodedValue): string =>
  `<saml2:Attribute Name="${xmlAttr(name)}"><saml2:AttributeValue><${c.element} xmlns="${NS.hl7}" xsi:type="CE" code="${xmlAttr(c.code)}" codeSystem="${xmlAttr(c.codeSystem)}" codeSystemName="${xmlAttr(c.codeSystemName)}" displayName="${xmlAttr(c.displayName)}"/></saml2:AttributeValue></saml2:Attribute>`;

export function buildAssertion(input: VihfInput): Assertion {
  // SAML IDs are xs:ID (an NCName): a UUID may start with a digit, hence the underscore.
  const id = `_${randomUUID()}`;
  const { issueInstant, notBefore, notOnOrAfter } = validityWindow(input.now);
  const A = VIHF_ATTR;
  const xml =
    `<saml2:Assertion xmlns:saml2="${NS.saml}" xmlns:xsi="${NS.xsi}" ID="${id}" IssueInstant="${samlTime(issueInstant)}" Version="2.0">` +
    `<saml2:Issuer Format="${ISSUER_FORMAT}">${xmlText(input.issuerDn)}</saml2:Issuer>` +
    `<saml2:Subject><saml2:NameID>${xmlText(input.nameId)}</saml2:NameID></saml2:Subject>` +
    `<saml2:Conditions NotBefore="${samlTime(notBefore)}" NotOnOrAfter="${samlTime(notOnOrAfter)}"/>` +
    `<saml2:AuthnStatement AuthnInstant="${samlTime(issueInstant)}"><saml2:AuthnContext><saml2:AuthnContextClassRef>${AUTHN_CONTEXT}</saml2:AuthnContextClassRef></saml2:AuthnContext></saml2:AuthnStatement>` +
    '<saml2:AttributeStatement>' +
    attr(A.version, '2.0') +
    // Required; "non significatif" for an operator: sent without value, as in the example.
    attr(A.role) +
    (input.secteurActivite ? attr(A.secteur, input.secteurActivite) : '') +
    attr(A.resourceId, '') +
    attr(A.resourceUrn, RESOURCE_URN) +
    coded(A.purposeOfUse, VIHF_CODES.purposeOfUse) +
    attr(A.modeAccesRaison, '') +
    attr(A.subjectId, input.subjectId) +
    attr(A.structure, input.structureId) +
    attr(A.lpsNom, input.software.name) +
    attr(A.lpsVersion, input.software.version) +
    attr(A.lpsId, input.software.id) +
    coded(A.profil, VIHF_CODES.profil) +
    attr(A.profilPerimetre, '') +
    coded(A.vihfProfil, VIHF_CODES.vihfProfil) +
    '</saml2:AttributeStatement></saml2:Assertion>';
  return { xml: input.sign ? signAssertion(xml, input.sign) : xml, id, issueInstant, notBefore, notOnOrAfter };
}

/** Enveloped signature of the assertion (by its ID), after the Issuer, with the signing certificate in KeyInfo. */
export function signAssertion(xml: string, signer: { keyPem: string; certPem: string }): string {
  const sx = new SignedXml({
    privateKey: signer.keyPem,
    publicCert: signer.certPem,
    signatureAlgorithm: ALG.RSA_SHA256,
    canonicalizationAlgorithm: ALG.EXC_C14N,
  });
  sx.addReference({ xpath: '/*', transforms: [ALG.ENVELOPED, ALG.EXC_C14N], digestAlgorithm: ALG.SHA256 });
  sx.computeSignature(xml, { prefix: 'ds', location: { reference: "/*/*[local-name(.)='Issuer']", action: 'after' } });
  return sx.getSignedXml();
}
