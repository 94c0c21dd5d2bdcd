// Reading a request to the sandbox Annuaire as a stream: the Header is kept whole (the
// VIHF checks need it), the body's records are turned into FeedRecords one by one and
// dropped, so a 50,000-mailbox feed costs what its records cost. Anything outside the
// shape of contract.ts is a schema error (WSMSS12).
import { CO_HOLDER_FIELDS, FEED, NS, RECORD_FIELDS, REPORT_WS, type CoHolderField, type RecordField } from '../../annuaire/contract.js';
import type { CoHolderRecord, FeedRecord } from '../../annuaire/record.js';
import { scanXml, type XElement } from '../../annuaire/xml-scanner.js';

export interface RequestMessage {
  domain: string;
  records: FeedRecord[];
}

export interface ParsedRequest {
  envelopeNs: string;
  header?: XElement;
  operation?: { ns: string; local: string };
  messages: RequestMessage[];
  ticket?: string;
  /** Schema problems (the first few), each naming where. */
  schemaErrors: string[];
}

const RECORD_SET = new Set<string>(RECORD_FIELDS);
const CO_SET = new Set<string>(CO_HOLDER_FIELDS);
const SERVICE_NS = new Set<string>([NS.feed, NS.report]);

export function parseRequest(text: string, source: string): ParsedRequest {
  const out: ParsedRequest = { envelopeNs: '', messages: [], schemaErrors: [] };
  const err = (why: string): void => {
    if (out.schemaErrors.length < 10) out.schemaErrors.push(why);
  };
  let records: FeedRecord[] = [];
  const inHeader = (ancestors: readonly XElement[]): boolean => ancestors.length >= 2 && ancestors[1]?.local === 'Header';
  const root = scanXml(text, {
    source,
    code: 'SANDBOX_WSMSS12',
    onOpen: (el, ancestors) => {
      if (ancestors.length === 0) out.envelopeNs = el.ns;
      if (el.local === FEED.message && ancestors.length === 3) records = [];
    },
    onClose: (el, ancestors) => {
      const depth = ancestors.length;
      if (depth <= 1 || inHeader(ancestors)) {
        if (depth === 1 && el.local === 'Header') out.header = el;
        return true;
      }
      // Inside the Body: the operation, then the service's own elements.
      if (!SERVICE_NS.has(el.ns)) {
        err(`element {${el.ns}}${el.local} is not in a service namespace`);
        return false;
      }
      if (depth === 2) {
        out.operation = { ns: el.ns, local: el.local };
        const t = el.children.find((c) => c.local === REPORT_WS.ticket);
        if (t) out.ticket = t.text.trim();
        return false;
      }
      if (el.local === FEED.compte) {
        records.push(toRecord(el, err));
        return false;
      }
      if (el.local === FEED.message) {
        const domaine = el.children.find((c) => c.local === FEED.domaine);
        const name = domaine?.children.find((c) => c.local === FEED.domaineName)?.text.trim();
        if (!name) err(`${FEED.message} without ${FEED.domaine}/${FEED.domaineName}`);
        out.messages.push({ domain: (name ?? '').toLowerCase(), records });
        records = [];
        return false;
      }
      if (el.local === FEED.comptes) return false;
      // Leaves and small wrappers are kept for their parent to read.
      return true;
    },
  });
  if (root.local !== 'Envelope') err(`root element ${root.local}, expected Envelope`);
  return out;
}

function toRecord(el: XElement, err: (why: string) => void): FeedRecord {
  const r: FeedRecord = {};
  for (const c of el.children) {
    if (c.local === FEED.coHolders) {
      r.coHolders = c.children.filter((h) => h.local === FEED.coHolder).map((h) => toCoHolder(h, err));
      continue;
    }
    if (!RECORD_SET.has(c.local) || c.children.length > 0) {
      err(`${FEED.compte} has an unexpected element ${c.local}`);
      continue;
    }
    r[c.local as RecordField] = c.text.trim();
  }
  return r;
}

function toCoHolder(el: XElement, err: (why: string) => void): CoHolderRecord {
  const c: CoHolderRecord = {};
  for (const f of el.children) {
    if (!CO_SET.has(f.local)) err(`${FEED.coHolder} has an unexpected element ${f.local}`);
    else c[f.local as CoHolderField] = f.text.trim();
  }
  return c;
}
