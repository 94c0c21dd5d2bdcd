// What the sandbox Annuaire answers: a ticket (§6.4.2.3.4), a report inline or as an MTOM
// attachment (§6.4.2.5.1.2), or a SOAP fault in the shape of Figure 26.
import { ACTION, FEED, NS, REPORT_WS } from '../../annuaire/contract.js';
import { xmlText } from '../../annuaire/feed-xml.js';
import { buildMtom } from '../../annuaire/mtom.js';

const envelope = (relatesTo: string | undefined, action: string, body: string): string =>
  '<?xml version="1.0" encoding="UTF-8"?>' +
  `<soap:Envelope xmlns:soap="${NS.soap}"><soap:Header xmlns:wsa="${NS.wsa}"><wsa:Action>${xmlText(action)}</wsa:Action>` +
  (relatesTo ? `<wsa:RelatesTo>${xmlText(relatesTo)}</wsa:RelatesTo>` : '') +
  `</soap:Header><soap:Body>${body}</soap:Body></soap:Envelope>`;

export function ticketReply(ticket: string, relatesTo?: string): string {
  return envelope(relatesTo, `${ACTION.feed}Response`, `<alim:${FEED.response} xmlns:alim="${NS.feed}"><alim:${FEED.ticket}>${xmlText(ticket)}</alim:${FEED.ticket}></alim:${FEED.response}>`);
}

export function faultReply(code: string, text: string): string {
  return envelope(
    undefined,
    'http://www.w3.org/2005/08/addressing/soap/fault',
    '<soap:Fault><soap:Code><soap:Value>soap:Receiver</soap:Value>' +
      `<soap:Subcode><soap:Value>soap:${xmlText(code)}</soap:Value></soap:Subcode></soap:Code>` +
      `<soap:Reason><soap:Text xml:lang="fr">${xmlText(text)}</soap:Text></soap:Reason></soap:Fault>`,
  );
}

export function reportReply(ticket: string, zip: Uint8Array, delivery: 'inline' | 'mtom', relatesTo?: string): { contentType: string; body: Buffer } {
  const inner = (file: string): string =>
    `<cr:${REPORT_WS.response} xmlns:cr="${NS.report}"><cr:${REPORT_WS.ticket}><cr:${REPORT_WS.ticketNumber}>${xmlText(ticket)}</cr:${REPORT_WS.ticketNumber}>` +
    `<cr:${REPORT_WS.file}>${file}</cr:${REPORT_WS.file}></cr:${REPORT_WS.ticket}></cr:${REPORT_WS.response}>`;
  const action = `${ACTION.report}Response`;
  if (delivery === 'inline') {
    return { contentType: 'text/xml; charset=utf-8', body: Buffer.from(envelope(relatesTo, action, inner(Buffer.from(zip).toString('base64'))), 'utf8') };
  }
  const id = `cralimentationmss_${ticket}.zip@annuaire.sandbox`;
  return buildMtom(envelope(relatesTo, action, inner(`<xop:Include xmlns:xop="${NS.xop}" href="cid:${encodeURIComponent(id)}"/>`)), [{ id, contentType: 'application/zip', body: zip }]);
}
