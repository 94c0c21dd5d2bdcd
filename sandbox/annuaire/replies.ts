// What the sandbox Annuaire answers: a ticket (§6.4.2.3.4: « un numéro de ticket … ou un
// message d'erreur »), a report inline or « en pièce jointe » (§6.4.2.5.1.2: an MTOM/XOP
// multipart/related message, W3C XOP), or a SOAP fault in the shape of Figure 26.
import { randomBytes } from 'node:crypto';
import { ACTIONS, BODY, FEED_NS, REPORT_NS, SOAP11, WSA, XOP } from './spec.js';
import { xmlEscape } from './xml-read.js';

/** The answer's Body element names: the operation's, with a Response suffix (the WSDL, DR2, is not in the seeds). */
export const RESPONSE = { feed: 'alimentationMSSResponse', report: 'crAlimentationMSSResponse', ticketNumber: 'NumeroTicket', file: 'Fichier' } as const;

const envelope = (relatesTo: string | undefined, action: string, body: string): string =>
  '<?xml version="1.0" encoding="UTF-8"?>' +
  `<soap:Envelope xmlns:soap="${SOAP11}"><soap:Header xmlns:wsa="${WSA}"><wsa:Action>${xmlEscape(action)}</wsa:Action>` +
  (relatesTo ? `<wsa:RelatesTo>${xmlEscape(relatesTo)}</wsa:RelatesTo>` : '') +
  `</soap:Header><soap:Body>${body}</soap:Body></soap:Envelope>`;

export function ticketReply(ticket: string, relatesTo?: string): string {
  return envelope(
    relatesTo,
    `${ACTIONS.feed}Response`,
    `<alim:${RESPONSE.feed} xmlns:alim="${FEED_NS}"><alim:${BODY.ticket}>${xmlEscape(ticket)}</alim:${BODY.ticket}></alim:${RESPONSE.feed}>`,
  );
}

/** Figure 26, verbatim in its shape: Code/Value soap:Receiver, Subcode/Value soap:<code>, Reason/Text xml:lang="fr". */
export function faultReply(code: string, text: string): string {
  return envelope(
    undefined,
    'http://www.w3.org/2005/08/addressing/soap/fault',
    '<soap:Fault><soap:Code><soap:Value>soap:Receiver</soap:Value>' +
      `<soap:Subcode><soap:Value>soap:${xmlEscape(code)}</soap:Value></soap:Subcode></soap:Code>` +
      `<soap:Reason><soap:Text xml:lang="fr">${xmlEscape(text)}</soap:Text></soap:Reason></soap:Fault>`,
  );
}

export function reportReply(ticket: string, zip: Uint8Array, delivery: 'inline' | 'mtom', relatesTo?: string): { contentType: string; body: Buffer } {
  const inner = (file: string): string =>
    `<cr:${RESPONSE.report} xmlns:cr="${REPORT_NS}"><cr:${BODY.ticket}><cr:${RESPONSE.ticketNumber}>${xmlEscape(ticket)}</cr:${RESPONSE.ticketNumber}>` +
    `<cr:${RESPONSE.file}>${file}</cr:${RESPONSE.file}></cr:${BODY.ticket}></cr:${RESPONSE.report}>`;
  const action = `${ACTIONS.report}Response`;
  if (delivery === 'inline') {
    return { contentType: 'text/xml; charset=utf-8', body: Buffer.from(envelope(relatesTo, action, inner(Buffer.from(zip).toString('base64'))), 'utf8') };
  }
  const id = `cralimentationmss_${ticket}.zip@annuaire.sandbox`;
  const root = envelope(relatesTo, action, inner(`<xop:Include xmlns:xop="${XOP}" href="cid:${encodeURIComponent(id)}"/>`));
  return xopMessage(root, id, zip);
}

/** A multipart/related XOP package: the SOAP part, then the ZIP as a binary part (W3C XOP §4, SOAP MTOM). */
function xopMessage(root: string, id: string, zip: Uint8Array): { contentType: string; body: Buffer } {
  const boundary = `uuid:${randomBytes(16).toString('hex')}`;
  const start = '<root.message@annuaire.sandbox>';
  const head = (headers: string[]): Buffer => Buffer.from(`--${boundary}\r\n${headers.join('\r\n')}\r\n\r\n`, 'utf8');
  const body = Buffer.concat([
    head(['Content-Type: application/xop+xml; charset=UTF-8; type="text/xml"', 'Content-Transfer-Encoding: 8bit', `Content-ID: ${start}`]),
    Buffer.from(root, 'utf8'),
    Buffer.from('\r\n'),
    head(['Content-Type: application/zip', 'Content-Transfer-Encoding: binary', `Content-ID: <${id}>`]),
    Buffer.from(zip),
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { contentType: `multipart/related; type="application/xop+xml"; boundary="${boundary}"; start="${start}"; start-info="text/xml"`, body };
}
