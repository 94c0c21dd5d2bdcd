// What the sandbox Annuaire checks in a request's Header, with the codes of Tableau 56
// (§9.7.1): WS-Addressing (Tableau 4), then the VIHF token (Tableau 5) against the TLS client
// certificate and the liste blanche. The first problem found is the fault returned, as a
// server stops at its first refusal. Written from the text and its example (Figure 24),
// which must pass: Issuer in either X509SubjectName format, between spaces; NotBefore equal
// to IssueInstant; an assertion ID starting with a digit; HL7 attributes qualified (hl7:code)
// or not; no FaultTo.
import { SignedXml } from 'xml-crypto';
import type { CertInfo } from '../../src/pki/certificate.js';
import { dnValues, parseDn, type Dn } from '../../src/pki/dn.js';
import { parseXml } from '../../src/whitelist/xml.js';
import { ACTIONS, ASSERTION_LIFETIME_MS, DSIG, ISSUER_FORMATS, SAML2, VIHF, VIHF_VALUES, WSA, WSSE, type ServiceName } from './spec.js';
import { child, children, trimmed, type XNode } from './xml-read.js';
import type { AnsList } from '../whitelist-reader.js';

export interface SandboxFault {
  code: string;
  reason: string;
}

export interface HeaderContext {
  service: ServiceName;
  client: CertInfo;
  whitelist: AnsList | undefined;
  now: Date;
  /** The request text, to verify a signed assertion on its exact characters. */
  text: string;
}

const fault = (code: string, reason: string): SandboxFault => ({ code, reason });

/** xs:dateTime with a zone, e.g. 2015-02-03T13:20:12Z (trailing space tolerated, as Figure 24 writes it). */
function dateOf(v: string | undefined): number | undefined {
  const s = v?.trim();
  if (!s || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(s)) return undefined;
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : t;
}

/** Tableau 4: ACTION, TO, MESSAGEID, REPLYTO « Oui »; FAULTO « Oui » too, but Figure 24 has none: optional. */
function wsAddressing(header: XNode, service: ServiceName): SandboxFault | undefined {
  const action = trimmed(child(header, 'Action', WSA));
  if (action !== ACTIONS[service]) return fault('WSMSS12', `wsa:Action « ${action} » is not ${ACTIONS[service]}`);
  const id = trimmed(child(header, 'MessageID', WSA));
  if (!id) return fault('WSMSS12', 'wsa:MessageID is missing');
  // Figure 24 writes the service URL and ?wsdl: the address, with or without the query.
  const to = trimmed(child(header, 'To', WSA));
  if (!/^https:\/\/\S+\/WS(?:CR)?ALIMENTATIONMSS(?:\?wsdl)?$/i.test(to)) return fault('WSMSS12', `wsa:To « ${to} » is not the service's address`);
  const replyTo = child(header, 'ReplyTo', WSA);
  // Figure 24 writes <Address> in the default namespace of ReplyTo (xmlns="…addressing " with
  // a trailing space in the text as printed): the element named Address, whatever it is bound to.
  if (!replyTo || !trimmed(child(replyTo, 'Address'))) return fault('WSMSS12', 'wsa:ReplyTo/Address is missing');
  return undefined;
}

function attributes(assertion: XNode): Map<string, XNode[]> {
  const out = new Map<string, XNode[]>();
  for (const a of children(child(assertion, 'AttributeStatement', SAML2), 'Attribute', SAML2))
    out.set(a.attrs.get('Name') ?? '', children(a, 'AttributeValue', SAML2));
  return out;
}

const textValue = (values: XNode[] | undefined): string => trimmed(values?.[0]);
/** An HL7 CE value: the AttributeValue's element, attributes code/codeSystem qualified by hl7: (Figure 24) or not (HL7 v3). */
const coded = (values: XNode[] | undefined): { code?: string; codeSystem?: string } => {
  const ce = values?.[0]?.children[0];
  return { code: ce?.attrs.get('code'), codeSystem: ce?.attrs.get('codeSystem') };
};

/** « issueInstant < notBefore < now < NotOnOrAfter (issueInstant + 1 heure) »; Figure 24 has NotBefore = IssueInstant: accepted. */
function timing(assertion: XNode, now: number): SandboxFault | undefined {
  const issueRaw = assertion.attrs.get('IssueInstant');
  if (issueRaw === undefined) return fault('WSMSS03', 'IssueInstant is missing');
  const issue = dateOf(issueRaw);
  if (issue === undefined || issue >= now || now - issue > ASSERTION_LIFETIME_MS)
    return fault('WSMSS04', `IssueInstant ${issueRaw} (arrival ${new Date(now).toISOString()})`);
  const conditions = child(assertion, 'Conditions', SAML2);
  if (!conditions) return undefined;
  const nbRaw = conditions.attrs.get('NotBefore');
  if (nbRaw === undefined) return fault('WSMSS07', 'Conditions/@NotBefore is missing');
  const nb = dateOf(nbRaw);
  if (nb === undefined || nb < issue || nb >= now) return fault('WSMSS08', `NotBefore ${nbRaw}: not after IssueInstant ${issueRaw} or not before arrival`);
  const naRaw = conditions.attrs.get('NotOnOrAfter');
  if (naRaw === undefined) return fault('WSMSS09', 'Conditions/@NotOnOrAfter is missing');
  const na = dateOf(naRaw);
  if (na === undefined || na <= now || na > issue + ASSERTION_LIFETIME_MS)
    return fault('WSMSS10', `NotOnOrAfter ${naRaw}: must be after arrival and at most IssueInstant + 1 h`);
  return undefined;
}

function issuer(assertion: XNode, ctx: HeaderContext): SandboxFault | undefined {
  const el = child(assertion, 'Issuer', SAML2);
  const text = trimmed(el);
  if (!el || !text) return fault('WSMSS05', 'Issuer is missing');
  const format = el.attrs.get('Format') ?? '';
  if (!ISSUER_FORMATS.has(format)) return fault('WSMSS12', `Issuer/@Format « ${format} » is not an X509SubjectName format`);
  let dn: Dn;
  try {
    dn = parseDn(text);
  } catch {
    return fault('WSMSS18', `Issuer « ${text} » is not a DN`);
  }
  if (dn.canonical !== ctx.client.subject.canonical) return fault('WSMSS13', `Issuer « ${text} » is not the DN of the TLS client certificate`);
  if (!ctx.whitelist?.hasDn(dn)) return fault('WSMSS06', `« ${text} » is not in the liste blanche`);
  return undefined;
}

function vihfAttributes(assertion: XNode, client: CertInfo): SandboxFault | undefined {
  const attrs = attributes(assertion);
  const profil = attrs.get(VIHF.profil);
  if (!profil) return fault('WSMSS11', `${VIHF.profil} is missing`);
  const p = coded(profil);
  if (p.code !== VIHF_VALUES.profil.code || p.codeSystem !== VIHF_VALUES.profil.codeSystem)
    return fault('WSMSS21', `${VIHF.profil} is ${p.code ?? '?'}/${p.codeSystem ?? '?'}`);
  const structure = textValue(attrs.get(VIHF.structure));
  if (!structure) return fault('WSMSS22', `${VIHF.structure} is missing`);
  if (!dnValues(client.subject, 'OU').includes(structure)) return fault('WSMSS14', `${VIHF.structure} ${structure} is not the certificate's structure`);
  // Tableau 5's other required attributes (the role may be empty, as in Figure 24).
  const required: Array<[string, (v: XNode[]) => boolean]> = [
    [VIHF.version, (v) => textValue(v) === VIHF_VALUES.version],
    [VIHF.role, () => true],
    [VIHF.resourceUrn, (v) => textValue(v) === VIHF_VALUES.resourceUrn],
    [VIHF.purposeOfUse, (v) => coded(v).code === VIHF_VALUES.purposeOfUse.code && coded(v).codeSystem === VIHF_VALUES.purposeOfUse.codeSystem],
    [VIHF.subjectId, (v) => textValue(v) !== ''],
    [VIHF.lpsNom, (v) => textValue(v) !== ''],
    [VIHF.lpsVersion, (v) => textValue(v) !== ''],
    [VIHF.lpsId, (v) => textValue(v) !== ''],
    [VIHF.vihfProfil, (v) => coded(v).code === VIHF_VALUES.vihfProfil.code && coded(v).codeSystem === VIHF_VALUES.vihfProfil.codeSystem],
  ];
  for (const [name, ok] of required) {
    const v = attrs.get(name);
    if (!v || !ok(v)) return fault('WSMSS12', `VIHF attribute ${name} is ${v ? 'invalid' : 'missing'}`);
  }
  return undefined;
}

/** A signed token: « prendre le DN présent dans le certificat X509 de signature », which must be the TLS client certificate. */
function signature(assertion: XNode, ctx: HeaderContext): SandboxFault | undefined {
  if (!child(assertion, 'Signature', DSIG)) return undefined;
  const xml = ctx.text.slice(assertion.start, assertion.end);
  try {
    const doc = parseXml(xml, 'VIHF assertion', 'SANDBOX_WSMSS12');
    const node = doc.getElementsByTagNameNS(DSIG, 'Signature')[0];
    const sx = new SignedXml({ publicCert: ctx.client.x509.toString() });
    sx.loadSignature(node as never);
    const refs = sx.getReferences();
    if (refs.length !== 1 || refs[0]?.uri !== `#${assertion.attrs.get('ID') ?? ''}`) return fault('WSMSS06', 'the signature does not cover the assertion');
    if (!sx.checkSignature(xml)) return fault('WSMSS06', 'the assertion signature does not verify with the client certificate');
  } catch (err) {
    return fault('WSMSS06', `the assertion signature cannot be verified: ${(err as Error).message.split('\n')[0]}`);
  }
  return undefined;
}

export function checkHeader(header: XNode | undefined, ctx: HeaderContext): SandboxFault | undefined {
  if (!header) return fault('WSMSS01', 'no SOAP Header');
  const a = wsAddressing(header, ctx.service);
  if (a) return a;
  const security = child(header, 'Security', WSSE);
  if (!security) return fault('WSMSS01', 'no wsse:Security in the Header');
  const assertion = child(security, 'Assertion', SAML2);
  if (!assertion) return fault('WSMSS02', 'no saml2:Assertion in wsse:Security');
  // Tableau 5: Version « 2.0 », ID (Figure 24's starts with a digit: any non-empty ID).
  if (assertion.attrs.get('Version') !== '2.0' || !assertion.attrs.get('ID')) return fault('WSMSS12', 'Assertion/@Version 2.0 and @ID are required');
  const nameId = trimmed(child(child(assertion, 'Subject', SAML2), 'NameID', SAML2));
  const authn = child(assertion, 'AuthnStatement', SAML2);
  return (
    timing(assertion, ctx.now.getTime()) ??
    issuer(assertion, ctx) ??
    (nameId ? undefined : fault('WSMSS19', 'Subject/NameID is missing')) ??
    (dateOf(authn?.attrs.get('AuthnInstant')) !== undefined ? undefined : fault('WSMSS12', 'AuthnStatement/@AuthnInstant is missing or not an xs:dateTime')) ??
    (trimmed(child(child(authn, 'AuthnContext', SAML2), 'AuthnContextClassRef', SAML2))
      ? undefined
      : fault('WSMSS12', 'AuthnContext/AuthnContextClassRef is missing')) ??
    vihfAttributes(assertion, ctx.client) ??
    signature(assertion, ctx)
  );
}
