// The feed body as XML text, written as a stream of chunks: a 50,000-mailbox feed is about
// 20 MB, built, hashed and sent without ever holding it (or a DOM of it) in memory.
// Element names and order come from contract.ts.
import { createHash } from 'node:crypto';
import { CO_HOLDER_FIELDS, FEED, FIELD_ORDER, recordKind } from './contract.js';
import type { DomainFeed } from './feed.js';
import type { FeedRecord } from './record.js';

export function xmlText(s: string): string {
  return s.replace(/[&<>]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : '&gt;'));
}

export function xmlAttr(s: string): string {
  return s.replace(/[&<>"]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&quot;'));
}

/** Prefix of the feed service namespace in the body. */
export const FEED_PREFIX = 'alim';

const el = (name: string, value: string): string => `<${FEED_PREFIX}:${name}>${xmlText(value)}</${FEED_PREFIX}:${name}>`;

export function recordXml(r: FeedRecord): string {
  const p = FEED_PREFIX;
  let out = `<${p}:${FEED.compte}>`;
  for (const field of FIELD_ORDER[recordKind(r.TypeBAL, r.TypeIdentifiantPP)]) {
    const v = r[field];
    if (v !== undefined) out += el(field, v);
  }
  if (r.coHolders) {
    out += `<${p}:${FEED.coHolders}>`;
    for (const c of r.coHolders) {
      out += `<${p}:${FEED.coHolder}>`;
      for (const field of CO_HOLDER_FIELDS) if (c[field] !== undefined) out += el(field, c[field]);
      out += `</${p}:${FEED.coHolder}>`;
    }
    out += `</${p}:${FEED.coHolders}>`;
  }
  return `${out}</${p}:${FEED.compte}>`;
}

/** Records per chunk: ~250 KB of text, large enough for throughput, small for memory. */
const RECORDS_PER_CHUNK = 500;

/** The content of the body's operation element: one MESSAGE per domain (Figure 29, §6.4.2.3.1). */
export function* feedBodyChunks(domains: readonly DomainFeed[]): Generator<string> {
  const p = FEED_PREFIX;
  for (const d of domains) {
    yield `<${p}:${FEED.message}><${p}:${FEED.domaine}>${el(FEED.domaineName, d.domain)}</${p}:${FEED.domaine}><${p}:${FEED.comptes}>`;
    let chunk = '';
    for (let i = 0; i < d.records.length; i++) {
      chunk += recordXml(d.records[i] as FeedRecord);
      if ((i + 1) % RECORDS_PER_CHUNK === 0) {
        yield chunk;
        chunk = '';
      }
    }
    yield `${chunk}</${p}:${FEED.comptes}></${p}:${FEED.message}>`;
  }
}

export interface FeedDigest {
  /** SHA-256 of the whole body content (what decides "the feed changed"). */
  sha256: string;
  /** Per domain, for withdrawals and the report's reconciliation. */
  domains: Record<string, string>;
  bytes: number;
  records: number;
}

/** Digest of the feed's content: deterministic (no date, no id), computed from the stream. */
export function digestFeed(domains: readonly DomainFeed[]): FeedDigest {
  const all = createHash('sha256');
  const per: Record<string, string> = {};
  let bytes = 0;
  let records = 0;
  for (const d of domains) {
    const h = createHash('sha256');
    for (const chunk of feedBodyChunks([d])) {
      h.update(chunk);
      all.update(chunk);
      bytes += Buffer.byteLength(chunk);
    }
    per[d.domain] = h.digest('hex');
    records += d.records.length;
  }
  return { sha256: all.digest('hex'), domains: per, bytes, records };
}
