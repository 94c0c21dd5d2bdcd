// The two calls: send a feed and get its ticket (WSALIMENTATIONMSS), ask for a ticket's
// report (WSCRALIMENTATIONMSS). Both carry a fresh VIHF token and WS-Addressing header.
import os from 'node:os';
import type { Config } from '../config/schema.js';
import { MssError } from '../errors.js';
import { softwareVersion } from '../version.js';
import { callAnnuaire, type CallOptions } from './client.js';
import { endpointsOf } from './config.js';
import { REPORT_WS } from './contract.js';
import type { AnnuaireCredentials } from './credentials.js';
import { envelopeFrame, reportRequestBody } from './envelope.js';
import type { DomainFeed } from './feed.js';
import { feedBodyChunks } from './feed-xml.js';
import { buildAssertion } from './vihf.js';
import type { SoapReply } from './soap-response.js';
import type { XElement } from './xml-scanner.js';
import { NS } from './contract.js';

function assertionFor(config: Config, creds: AnnuaireCredentials, now: Date): string {
  const a = config.annuaire;
  return buildAssertion({
    issuerDn: creds.dn,
    nameId: creds.cn,
    subjectId: a.vihf.subjectId ?? config.operator.name,
    structureId: config.operator.structureId,
    software: { name: 'mss-sidecar', version: softwareVersion(), id: a.vihf.installationId ?? os.hostname() },
    ...(a.vihf.secteurActivite ? { secteurActivite: a.vihf.secteurActivite } : {}),
    now,
    ...(a.signAssertion ? { sign: { keyPem: creds.keyPem, certPem: creds.certPem } } : {}),
  }).xml;
}

function callOptions(config: Config, creds: AnnuaireCredentials): CallOptions {
  return { creds, timeoutMs: config.annuaire.timeoutMs, maxResponseBytes: config.annuaire.maxResponseBytes };
}

/** The ticket number in the answer: the text of the TICKET entry (or of a leaf inside it). */
export function ticketOf(payload: XElement): string | undefined {
  const stack: XElement[] = [payload];
  while (stack.length > 0) {
    const el = stack.shift() as XElement;
    if (/^(TICKET|Ticket|NumeroTicket|ticket)$/.test(el.local)) {
      if (el.children.length === 0 && el.text.trim() !== '') return el.text.trim();
      const inner = el.children.find((c) => c.children.length === 0 && /ticket/i.test(c.local) && c.text.trim() !== '');
      if (inner) return inner.text.trim();
    }
    stack.push(...el.children);
  }
  return undefined;
}

export async function sendFeed(
  config: Config,
  creds: AnnuaireCredentials,
  domains: readonly DomainFeed[],
  now: Date,
): Promise<{ ticket: string; messageId: string }> {
  const endpoint = endpointsOf(config.annuaire).feed;
  const frame = envelopeFrame('feed', endpoint, assertionFor(config, creds, now));
  const reply = await callAnnuaire('feed', endpoint, frame, feedBodyChunks(domains), callOptions(config, creds), { domains: domains.map((d) => d.domain) });
  const ticket = ticketOf(reply.payload);
  if (!ticket)
    throw new MssError('ANNUAIRE_NO_TICKET', `the Annuaire accepted the feed but its answer carries no TICKET (${reply.payload.local}); see docs/annuaire.md`, {
      messageId: frame.messageId,
    });
  return { ticket, messageId: frame.messageId };
}

/** The report ZIP of a ticket: inline base64, or an MTOM/SwA attachment (xop:Include href="cid:…"). */
export async function requestReport(
  config: Config,
  creds: AnnuaireCredentials,
  ticket: string,
  now: Date,
): Promise<{ zip: Buffer; delivery: 'inline' | 'mtom' }> {
  const endpoint = endpointsOf(config.annuaire).report;
  const frame = envelopeFrame('report', endpoint, assertionFor(config, creds, now));
  const reply = await callAnnuaire('report', endpoint, frame, [reportRequestBody(ticket)], callOptions(config, creds), { ticket });
  return reportZipOf(reply, ticket);
}

/** The report's ZIP in an answer: inline base64 in Fichier, an xop:Include, or the one attachment. */
export function reportZipOf(reply: SoapReply, ticket: string): { zip: Buffer; delivery: 'inline' | 'mtom' } {
  const file = findFile(reply.payload);
  const include = file?.children.find((c) => c.local === 'Include' && c.ns === NS.xop);
  const href = include?.attrs.find((a) => a.local === 'href')?.value;
  if (href) {
    const id = decodeURIComponent(href.replace(/^cid:/i, ''));
    const part = reply.attachments.get(id);
    if (!part)
      throw new MssError('ANNUAIRE_REPORT_MISSING', `the report answer for ticket ${ticket} refers to attachment ${href}, which is not in the message`, {
        ticket,
      });
    return { zip: part, delivery: 'mtom' };
  }
  const inline = file?.text.replace(/\s+/g, '') ?? '';
  if (inline !== '') return { zip: Buffer.from(inline, 'base64'), delivery: 'inline' };
  // SOAP with attachments without xop:Include: the one attachment there is.
  const [only] = reply.attachments.values();
  if (only) return { zip: only, delivery: 'mtom' };
  throw new MssError('ANNUAIRE_REPORT_MISSING', `the report answer for ticket ${ticket} carries no ZIP (no ${REPORT_WS.file}, no attachment)`, { ticket });
}

function findFile(payload: XElement): XElement | undefined {
  const stack: XElement[] = [payload];
  while (stack.length > 0) {
    const el = stack.shift() as XElement;
    if (el.local === REPORT_WS.file) return el;
    stack.push(...el.children);
  }
  return undefined;
}
