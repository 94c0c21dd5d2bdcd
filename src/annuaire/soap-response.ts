// Reading what the Annuaire answers: a SOAP envelope (plain, or the root of an MTOM
// multipart with the report ZIP attached), or a fault in either SOAP shape — the 1.2 shape
// of Figure 26 (Code/Value, Subcode/Value, Reason/Text) or the 1.1 one (faultcode,
// faultstring) — or an HTTP error without SOAP (401 for an expired certificate).
import { MssError } from '../errors.js';
import type { HttpsResponse } from '../net/https-request.js';
import { decodeXmlBytes, type XmlGuard } from '../whitelist/xml.js';
import { NS } from './contract.js';
import { faultCodeOf, faultError, unauthorizedError, type FaultContext, type SoapFault } from './faults.js';
import { isMultipart, parseMultipart } from './mtom.js';
import { scanWhole, type XElement } from './xml-scanner.js';

export const ANNUAIRE_XML_GUARD: XmlGuard = {
  what: 'an Annuaire message',
  limit: 'annuaire.maxResponseBytes',
  codes: {
    tooLarge: 'ANNUAIRE_TOO_LARGE',
    encoding: 'ANNUAIRE_XML_MALFORMED',
    dtd: 'ANNUAIRE_XML_DTD',
    malformed: 'ANNUAIRE_XML_MALFORMED',
    shape: 'ANNUAIRE_XML_MALFORMED',
  },
};

export interface SoapReply {
  /** The element inside soap:Body (the operation's response). */
  payload: XElement;
  /** MTOM/SwA attachments by Content-ID. */
  attachments: Map<string, Buffer>;
}

const ENVELOPE_NS = new Set<string>([NS.soap, NS.soap12]);

/** Envelope → Body → its first element, for any XML the Annuaire sends (SOAP 1.1 or 1.2). */
export function envelopeBody(root: XElement, source: string): XElement {
  if (root.local !== 'Envelope' || !ENVELOPE_NS.has(root.ns)) {
    throw new MssError('ANNUAIRE_NOT_SOAP', `${source}: the answer is not a SOAP envelope (root {${root.ns}}${root.local})`, { source });
  }
  const body = root.children.find((c) => c.local === 'Body' && c.ns === root.ns);
  const payload = body?.children[0];
  if (!payload) throw new MssError('ANNUAIRE_NOT_SOAP', `${source}: SOAP envelope without a Body element`, { source });
  return payload;
}

const textAt = (el: XElement | undefined, ...path: string[]): string | undefined => {
  let cur = el;
  for (const p of path) cur = cur?.children.find((c) => c.local === p);
  return cur?.text.trim();
};

/** Fault fields in the SOAP 1.2 shape (Figure 26) or the SOAP 1.1 one. */
export function readFault(fault: XElement, httpStatus: number): SoapFault {
  const value = textAt(fault, 'Code', 'Value');
  const subcode = textAt(fault, 'Code', 'Subcode', 'Value');
  const reason = textAt(fault, 'Reason', 'Text') ?? textAt(fault, 'faultstring') ?? '';
  const faultcode = textAt(fault, 'faultcode');
  const detail = fault.children.find((c) => c.local === 'detail' || c.local === 'Detail');
  const detailText = detail ? flatText(detail) : undefined;
  const code = faultCodeOf(subcode, value, faultcode, reason, detailText) ?? subcode ?? faultcode ?? value ?? 'UNKNOWN';
  return { code, reason, ...((value ?? faultcode) ? { faultCode: (value ?? faultcode) as string } : {}), httpStatus };
}

function flatText(el: XElement): string {
  return [el.text, ...el.children.map(flatText)].join(' ').trim();
}

/** Parse an answer; throws the mapped coded error for faults and HTTP errors. */
export function readSoapReply(res: HttpsResponse, ctx: FaultContext, maxBytes: number): SoapReply {
  const source = `Annuaire ${ctx.service === 'feed' ? 'WSALIMENTATIONMSS' : 'WSCRALIMENTATIONMSS'} answer`;
  if (res.status === 401) throw unauthorizedError(ctx, res.status);
  const contentType = String(res.headers['content-type'] ?? '');
  let xmlBytes: Buffer = res.body;
  const attachments = new Map<string, Buffer>();
  if (isMultipart(contentType)) {
    const mp = parseMultipart(res.body, contentType, source);
    xmlBytes = mp.root.body;
    for (const [id, part] of mp.byId) if (part !== mp.root) attachments.set(id, part.body);
  }
  const ok = res.status >= 200 && res.status < 300;
  let payload: XElement;
  try {
    payload = envelopeBody(scanWhole(decodeXmlBytes(xmlBytes, source, maxBytes, ANNUAIRE_XML_GUARD), source, 'ANNUAIRE_XML_MALFORMED'), source);
  } catch (err) {
    // Not SOAP: an HTTP error page, or a bare code such as certificate_revoked.
    if (ok) throw err;
    const text = res.body.subarray(0, 2000).toString('utf8');
    const code = faultCodeOf(text);
    if (code) throw faultError({ code, reason: text.trim().slice(0, 300), httpStatus: res.status }, ctx);
    throw httpError(res.status, ctx, text);
  }
  if (payload.local === 'Fault') throw faultError(readFault(payload, res.status), ctx);
  if (!ok) throw httpError(res.status, ctx, '');
  return { payload, attachments };
}

function httpError(status: number, ctx: FaultContext, text: string): MssError {
  const tail = text ? `: ${text.replace(/\s+/g, ' ').trim().slice(0, 200)}` : '';
  if (status >= 500)
    return new MssError('HTTP_SERVER_ERROR', `${ctx.url} answered HTTP ${status}${tail}; try again later`, { url: ctx.url, httpStatus: status });
  return new MssError('ANNUAIRE_HTTP', `${ctx.url} answered HTTP ${status}${tail}`, { url: ctx.url, httpStatus: status });
}
