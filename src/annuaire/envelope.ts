// The SOAP envelope of both Annuaire web services (§6.3.2.3.3, EX_WSA_5030, EX_WSA_5050):
// UTF-8, the namespaces of §6.3.2.1, a mandatory Header with the WS-Addressing elements of
// Tableau 4 and the VIHF token in wsse:Security, then the Body. Written as text around the
// body (which the feed streams), never as a DOM.
import { randomUUID } from 'node:crypto';
import { ACTION, FEED, NS, REPORT_WS, SEND_FAULT_TO, WSA_ANONYMOUS, serviceAddress } from './contract.js';
import { xmlText } from './feed-xml.js';

export type Service = 'feed' | 'report';

export interface EnvelopeFrame {
  /** Everything up to the body's content (XML declaration, envelope, header, body, operation). */
  head: string;
  tail: string;
  messageId: string;
  action: string;
  to: string;
}

/** Prefix of each service's body namespace. */
const BODY_PREFIX: Record<Service, string> = { feed: 'alim', report: 'cr' };
const OPERATION: Record<Service, string> = { feed: FEED.operation, report: REPORT_WS.operation };

export function envelopeFrame(service: Service, endpoint: string, assertionXml: string, messageId = `urn:uuid:${randomUUID()}`): EnvelopeFrame {
  const action = ACTION[service];
  const to = serviceAddress(endpoint);
  const p = BODY_PREFIX[service];
  const head =
    '<?xml version="1.0" encoding="UTF-8"?>' +
    `<soap:Envelope xmlns:soap="${NS.soap}" xmlns:xsd="${NS.xsd}" xmlns:mssante="${NS.mssante}" xmlns:mssanteEntete="${NS.mssanteEntete}">` +
    `<soap:Header xmlns:wsa="${NS.wsa}">` +
    `<wsa:Action>${xmlText(action)}</wsa:Action>` +
    `<wsa:MessageID>${xmlText(messageId)}</wsa:MessageID>` +
    `<wsa:To>${xmlText(to)}</wsa:To>` +
    `<wsa:ReplyTo><wsa:Address>${WSA_ANONYMOUS}</wsa:Address></wsa:ReplyTo>` +
    (SEND_FAULT_TO ? `<wsa:FaultTo><wsa:Address>${WSA_ANONYMOUS}</wsa:Address></wsa:FaultTo>` : '') +
    `<wsse:Security xmlns:wsse="${NS.wsse}">${assertionXml}</wsse:Security>` +
    '</soap:Header>' +
    `<soap:Body><${p}:${OPERATION[service]} xmlns:${p}="${NS[service]}">`;
  const tail = `</${p}:${OPERATION[service]}></soap:Body></soap:Envelope>`;
  return { head, tail, messageId, action, to };
}

/** The report request's body content: the ticket (§6.4.2.5.1.1, Figure 31). */
export function reportRequestBody(ticket: string): string {
  return `<cr:${REPORT_WS.ticket}>${xmlText(ticket)}</cr:${REPORT_WS.ticket}>`;
}
