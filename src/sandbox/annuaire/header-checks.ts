// What the sandbox Annuaire checks in a request's Header, with the codes of §9.7.1
// (Tableau 56): WS-Addressing (Tableau 4), then the VIHF token (Tableau 5) against the
// client certificate of the TLS connection and the liste blanche. The first problem found
// is the fault returned, as a real server stops at its first refusal.
import { SignedXml } from 'xml-crypto';
import { ACTION, ISSUER_FORMAT, NS, RESOURCE_URN, VIHF_ATTR, VIHF_CODES } from '../../annuaire/contract.js';
import type { Service } from '../../annuaire/envelope.js';
import { attrValue, child, type XElement } from '../../annuaire/xml-scanner.js';
import type { CertInfo } from '../../pki/certificate.js';
import { dnValues, parseDn, type Dn } from '../../pki/dn.js';
import { DSIG_NS, parseXml } from '../../whitelist/xml.js';
import type { WhitelistIndex } from '../../whitelist/whitelist-index.js';

export interface SandboxFault {
  code: string;
  reason: string;
}

export interface HeaderContext {
  service: Service;
  client: CertInfo;
  whitelist: WhitelistIndex | undefined;
  now: Date;
  /** The request text, to verify a signed assertion on its exact bytes. */
  text: string;
}

const fault = (code: string, reason: string): SandboxFault => ({ code, reason });

function dateOf(v: string | undefined): number | undefined {
  if (!v || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(v.trim())) return undefined;
  const t = Date.parse(v.trim());
  return Number.isNaN(t) ? undefined : t;
}

function wsAddressing(header: XElement, service: Service): SandboxFault | undefined {
  const wsa = (name: string): XElement | undefined => child(header, name, NS.wsa);
  const action = wsa('Action')?.text.trim();
  if (action !== ACTION[service]) return fault('WSMSS12', `wsa:Action "${action ?? ''}" is not ${ACTION[service]}`);
  const id = wsa('MessageID')?.text.trim() ?? '';
  if (!/^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) return fault('WSMSS12', `wsa:MessageID "${id}" is not a urn:uuid`);
  if (!wsa('To')?.text.trim()) return fault('WSMSS12', 'wsa:To is missing');
  const replyTo = wsa('ReplyTo');
  if (!replyTo || !child(replyTo, 'Address', NS.wsa)?.text.trim()) return fault('WSMSS12', 'wsa:ReplyTo/wsa:Address is missing');
  return undefined;
}

/** Attributes of the AttributeStatement by Name: the AttributeValue elements of each. */
function attributes(assertion: XElement): Map<string, XElement[]> {
  const out = new Map<string, XElement[]>();
  const statement = child(assertion, 'AttributeStatement', NS.saml);
  for (const a of statement?.children ?? []) {
    if (a.local !== 'Attribute' || a.ns !== NS.saml) continue;
    out.set(attrValue(a, 'Name') ?? '', a.children.filter((v) => v.local === 'AttributeValue'));
  }
  return out;
}

const textValue = (values: XElement[] | undefined): string | undefined => values?.[0]?.text.trim();
const codedValue = (values: XElement[] | undefined): { code?: string; codeSystem?: string } => {
  const ce = values?.[0]?.children[0];
  return ce ? { code: attrValue(ce, 'code'), codeSystem: attrValue(ce, 'codeSystem') } : {};
};

function timing(assertion: XElement, now: number): SandboxFault | undefined {
  const issueRaw = attrValue(assertion, 'IssueInstant');
  if (issueRaw === undefined) return fault('WSMSS03', 'IssueInstant is missing');
  const issue = dateOf(issueRaw);
  // The assertion was issued before it arrived, and less than an hour ago.
  if (issue === undefined || issue >= now || now - issue > 3_600_000) return fault('WSMSS04', `IssueInstant ${issueRaw} (arrival ${new Date(now).toISOString()})`);
  const conditions = child(assertion, 'Conditions', NS.saml);
  if (!conditions) return undefined;
  const nbRaw = attrValue(conditions, 'NotBefore');
  if (nbRaw === undefined) return fault('WSMSS07', 'Conditions/@NotBefore is missing');
  const nb = dateOf(nbRaw);
  if (nb === undefined || !(issue < nb && nb < now)) return fault('WSMSS08', `NotBefore ${nbRaw}: must be after IssueInstant ${issueRaw} and before arrival`);
  const naRaw = attrValue(conditions, 'NotOnOrAfter');
  if (naRaw === undefined) return fault('WSMSS09', 'Conditions/@NotOnOrAfter is missing');
  const na = dateOf(naRaw);
  if (na === undefined || na <= now || na > issue + 3_600_000) return fault('WSMSS10', `NotOnOrAfter ${naRaw}: must be after arrival and at most IssueInstant + 1 h`);
  return undefined;
}

function issuer(assertion: XElement, ctx: HeaderContext): SandboxFault | undefined {
  const el = child(assertion, 'Issuer', NS.saml);
  const text = el?.text.trim();
  if (!el || !text) return fault('WSMSS05', 'Issuer is missing');
  if (attrValue(el, 'Format') !== ISSUER_FORMAT) return fault('WSMSS12', `Issuer/@Format "${attrValue(el, 'Format') ?? ''}" is not ${ISSUER_FORMAT}`);
  let dn: Dn;
  try {
    dn = parseDn(text);
  } catch {
    return fault('WSMSS18', `Issuer "${text}" is not a DN`);
  }
  if (dn.canonical !== ctx.client.subject.canonical) return fault('WSMSS13', `Issuer "${text}" is not the DN of the TLS client certificate`);
  if (!ctx.whitelist?.hasDn(dn)) return fault('WSMSS06', `"${text}" is not in the liste blanche`);
  return undefined;
}

function vihfAttributes(assertion: XElement, client: CertInfo): SandboxFault | undefined {
  const attrs = attributes(assertion);
  const A = VIHF_ATTR;
  const profil = attrs.get(A.profil);
  if (!profil) return fault('WSMSS11', `${A.profil} is missing`);
  const p = codedValue(profil);
  if (p.code !== VIHF_CODES.profil.code || p.codeSystem !== VIHF_CODES.profil.codeSystem) return fault('WSMSS21', `${A.profil} is ${p.code ?? '?'}/${p.codeSystem ?? '?'}`);
  const structure = textValue(attrs.get(A.structure));
  if (!structure) return fault('WSMSS22', `${A.structure} is missing`);
  if (!dnValues(client.subject, 'OU').includes(structure)) return fault('WSMSS14', `${A.structure} ${structure} is not the certificate's structure`);
  const required: Array<[string, (v: XElement[]) => boolean]> = [
    [A.version, (v) => textValue(v) === '2.0'],
    [A.role, () => true],
    [A.resourceUrn, (v) => textValue(v) === RESOURCE_URN],
    [A.purposeOfUse, (v) => codedValue(v).code === VIHF_CODES.purposeOfUse.code && codedValue(v).codeSystem === VIHF_CODES.purposeOfUse.codeSystem],
    [A.subjectId, (v) => !!textValue(v)],
    [A.lpsNom, (v) => !!textValue(v)],
    [A.lpsVersion, (v) => !!textValue(v)],
    [A.lpsId, (v) => !!textValue(v)],
    [A.vihfProfil, (v) => codedValue(v).code === VIHF_CODES.vihfProfil.code && codedValue(v).codeSystem === VIHF_CODES.vihfProfil.codeSystem],
  ];
  for (const [name, ok] of required) {
    const v = attrs.get(name);
    if (!v || !ok(v)) return fault('WSMSS12', `VIHF attribute ${name} is ${v ? 'invalid' : 'missing'}`);
  }
  return undefined;
}

/** A signed token: the signature must verify with the TLS client certificate, over the assertion. */
function signature(assertion: XElement, ctx: HeaderContext): SandboxFault | undefined {
  const sig = child(assertion, 'Signature', DSIG_NS);
  if (!sig) return undefined;
  const xml = ctx.text.slice(assertion.start, assertion.end);
  try {
    const doc = parseXml(xml, 'VIHF assertion', 'SANDBOX_WSMSS12');
    const node = doc.getElementsByTagNameNS(DSIG_NS, 'Signature')[0];
    const sx = new SignedXml({ publicCert: ctx.client.x509.toString() });
    sx.loadSignature(node as never);
    const ref = sx.getReferences()[0];
    if (sx.getReferences().length !== 1 || ref?.uri !== `#${attrValue(assertion, 'ID') ?? ''}`) return fault('WSMSS06', 'the signature does not cover the assertion');
    if (!sx.checkSignature(xml)) return fault('WSMSS06', 'the assertion signature does not verify with the client certificate');
  } catch (err) {
    return fault('WSMSS06', `the assertion signature cannot be verified: ${(err as Error).message.split('\n')[0]}`);
  }
  return undefined;
}

export function checkHeader(header: XElement | undefined, ctx: HeaderContext): SandboxFault | undefined {
  if (!header) return fault('WSMSS01', 'no SOAP Header');
  const a = wsAddressing(header, ctx.service);
  if (a) return a;
  const security = child(header, 'Security', NS.wsse);
  if (!security) return fault('WSMSS01', 'no wsse:Security in the Header');
  const assertion = child(security, 'Assertion', NS.saml);
  if (!assertion) return fault('WSMSS02', 'no saml2:Assertion in wsse:Security');
  if (attrValue(assertion, 'Version') !== '2.0' || !attrValue(assertion, 'ID')) return fault('WSMSS12', 'Assertion/@Version 2.0 and @ID are required');
  const now = ctx.now.getTime();
  return (
    timing(assertion, now) ??
    issuer(assertion, ctx) ??
    (child(child(assertion, 'Subject', NS.saml) ?? assertion, 'NameID', NS.saml)?.text.trim() ? undefined : fault('WSMSS19', 'Subject/NameID is missing')) ??
    (attrValue(child(assertion, 'AuthnStatement', NS.saml) ?? assertion, 'AuthnInstant') ? undefined : fault('WSMSS12', 'AuthnStatement/@AuthnInstant is missing')) ??
    vihfAttributes(assertion, ctx.client) ??
    signature(assertion, ctx)
  );
}
