// A request to the sandbox Annuaire, read as the text describes it (§6.3.2.3.3: an Envelope
// with a Header — WS-Addressing and the VIHF token — and a Body; §6.4.2.3.1 for the feed's
// body, §6.4.2.5.1.1 for the report's). The Header is kept whole for its checks; each record
// of the body becomes a SandboxRecord when it closes and its elements are dropped. Whatever
// is outside that shape is a schema error (WSMSS12).
import { BODY, CO_HOLDER_ATTRIBUTES, FEED_NS, RECORD_ATTRIBUTES, REPORT_NS, SOAP11, SOAP12 } from './spec.js';
import { readXml, trimmed, type XNode } from './xml-read.js';

/** One COMPTEMSS as received: attribute name → value (trimmed), and the CAB co-holders. */
export interface SandboxRecord {
  fields: Record<string, string>;
  coHolders?: Array<Record<string, string>>;
}

export interface RequestMessage {
  domain: string;
  records: SandboxRecord[];
}

export interface ParsedRequest {
  envelopeNs: string;
  header?: XNode;
  operation?: { ns: string; local: string };
  messages: RequestMessage[];
  ticket?: string;
  /** Schema problems (the first ten), each naming where. */
  schemaErrors: string[];
}

const SERVICE_NS = new Set([FEED_NS, REPORT_NS]);

/** The body's elements: in the service's namespace, or unqualified (the XSD, DR3, is not in the seeds: both are read). */
const bodyNs = (el: XNode, operation: XNode | undefined): boolean => el.ns === '' || el.ns === operation?.ns;

export function parseRequest(text: string): ParsedRequest {
  const out: ParsedRequest = { envelopeNs: '', messages: [], schemaErrors: [] };
  const err = (why: string): void => {
    if (out.schemaErrors.length < 10) out.schemaErrors.push(why);
  };
  let records: SandboxRecord[] = [];
  const root = readXml(text, {
    onClose: (el, ancestors) => {
      const depth = ancestors.length;
      const envelope = ancestors[0];
      if (depth === 1) {
        if (el.local === 'Header' && el.ns === envelope?.ns) out.header = el;
        else if (el.local !== 'Body' || el.ns !== envelope?.ns) err(`{${el.ns}}${el.local} in the Envelope: only a Header and a Body`);
        return false;
      }
      if (depth === 0 || ancestors[1]?.local !== 'Body') return true; // the Header's content is kept whole
      const operation = ancestors[2];
      if (depth === 2) {
        out.operation = { ns: el.ns, local: el.local };
        if (!SERVICE_NS.has(el.ns)) err(`the Body holds {${el.ns}}${el.local}, not an element of a service namespace`);
        const ticket = el.children.find((c) => c.local === BODY.ticket);
        if (ticket) out.ticket = trimmed(ticket);
        return false;
      }
      if (!bodyNs(el, operation)) {
        err(`{${el.ns}}${el.local} is neither in the service namespace nor unqualified`);
        return false;
      }
      if (el.local === BODY.compte && BODY.comptes.has(ancestors[depth - 1]?.local ?? '')) {
        records.push(toRecord(el, err));
        return false;
      }
      if (el.local === BODY.message && depth === 3) {
        const name = trimmed(el.children.find((c) => c.local === BODY.domaine)?.children.find((c) => c.local === BODY.domaineName));
        if (!name) err(`${BODY.message} without ${BODY.domaine}/${BODY.domaineName} (Tableau 13: Domaine, requis)`);
        if (!el.children.some((c) => BODY.comptes.has(c.local))) err(`${BODY.message} of ${name || '?'} without COMPTESMSS`);
        out.messages.push({ domain: name.toLowerCase(), records });
        records = [];
        return false;
      }
      if (BODY.comptes.has(el.local)) return true; // its records are gone already: an empty marker
      if (depth === 3 && el.local !== BODY.ticket) err(`${el.local} in ${operation?.local}: expected ${BODY.message} or ${BODY.ticket}`);
      return true; // DOMAINE, Domaine, TICKET: small, read by their parent
    },
  });
  out.envelopeNs = root.ns;
  if (root.local !== 'Envelope' || (root.ns !== SOAP11 && root.ns !== SOAP12)) err(`root {${root.ns}}${root.local}: expected a SOAP Envelope`);
  return out;
}

function toRecord(el: XNode, err: (why: string) => void): SandboxRecord {
  const r: SandboxRecord = { fields: {} };
  for (const c of el.children) {
    if (c.local === BODY.coHolders) {
      r.coHolders = c.children.map((h) => {
        if (h.local !== BODY.coHolder) err(`${BODY.coHolders} holds ${h.local}, expected ${BODY.coHolder}`);
        const fields: Record<string, string> = {};
        for (const f of h.children) {
          if (!(f.local in CO_HOLDER_ATTRIBUTES) || f.children.length > 0) err(`${BODY.coHolder} has an element ${f.local} the CAB table does not define`);
          else fields[f.local] = trimmed(f);
        }
        return fields;
      });
      continue;
    }
    if (!(c.local in RECORD_ATTRIBUTES) || c.children.length > 0) {
      err(`${BODY.compte} has an element ${c.local} that Tableaux 14–16 and the CAB table do not define`);
      continue;
    }
    if (c.local in r.fields) err(`${BODY.compte} has ${c.local} twice`);
    r.fields[c.local] = trimmed(c);
  }
  return r;
}
