// The "Echanges" lines of one month, from the message journal (EX_PSU_5830, §6.9.3.1.1).
//
// How lines derive from events (docs/stats.md, "From events to lines"):
//  - the population is the `submitted` events whose time falls in the month (operator time
//    zone): one per message accepted on the submission side, i.e. sent from one of our
//    mailboxes; `received` events are never read (mail received is counted by its sender's
//    operator, EX_PSU_5830);
//  - one line per distinct recipient of such a message, all sharing MAIL_ID (the Postfix
//    queue id), DATE (the submission time) and TAILLE;
//  - `delivery` events only remove lines: a recipient whose every known attempt was
//    `deferred` (never delivered, never refused by the destination) was not sent. Several
//    attempts ending in `delivered` count once; `bounced` (the destination answered an
//    error) counts; a recipient with no delivery event (local delivery by Postfix) counts;
//  - EX_PSU_5820: null-sender messages, messages from excluded mailboxes and lines to our
//    own test mailboxes are left out.
// Memory: the journal is streamed a block at a time (Journal.readBatches); the only set kept
// is the (message, recipient) pairs that had a deferred attempt, a small part of a month.
import type { Journal } from '../journal/journal.js';
import type { DeliveryEvent, SubmittedEvent } from '../journal/events.js';
import type { Registry } from '../registry/registry.js';
import type { CsvFile } from './csv-writer.js';
import { exclusionOf, type Exclusion } from './exclusions.js';
import { insFlag, safeValue, SEPARATOR, statsAddress, type Column } from './format.js';
import { ZonedFormatter, type MonthRange } from './month.js';

/** Delivery attempts of a month's messages are read until this long after the month. */
const DELIVERY_LOOKAHEAD_MS = 10 * 86_400_000;

export interface EchangesInput {
  journal: Journal;
  registry: Registry;
  range: MonthRange;
  timeZone: string;
  /** The build time: delivery events are read up to it. */
  now: Date;
  columns: readonly Column[];
  /** The file of a managed domain. */
  fileOf: (domain: string) => CsvFile | undefined;
}

export interface EchangesSummary {
  messages: number;
  lines: number;
  left: {
    nullSender: number;
    foreignSender: number;
    excludedSender: Partial<Record<Exclusion, number>>;
    testRecipient: number;
    notSent: number;
    duplicateRecipient: number;
  };
  /** Senders that are on our domains but not in the registry (counted, but worth a look). */
  unknownSenders: number;
  /** X-MSS-INS values other than O/N, written empty. */
  insDropped: number;
  /** APP mailboxes: last message sent in the month (RE_SSU_5800 fallback). */
  appLastSend: Map<string, number>;
  journalSkipped: number;
}

const keyOf = (mailId: string, recipient: string): string => `${mailId}\n${recipient.toLowerCase()}`;

/** (message, recipient) pairs whose only attempts were deferred. */
async function deferredOnly(input: EchangesInput): Promise<Set<string>> {
  const from = new Date(input.range.startMs);
  const to = new Date(Math.min(input.now.getTime(), input.range.endMs + DELIVERY_LOOKAHEAD_MS));
  const pending = new Set<string>();
  for await (const batch of input.journal.readBatches({ from, to, types: ['delivery'], contains: '"deferred"' })) {
    for (const e of batch) {
      const d = e as DeliveryEvent;
      if (d.outcome === 'deferred') pending.add(keyOf(d.mailId, d.recipient));
    }
  }
  if (pending.size === 0) return pending;
  // Writers are not ordered with one another: a final outcome removes the pair whatever
  // came first. Only the messages concerned are parsed.
  const ids = new Set<string>();
  for (const k of pending) ids.add(k.slice(0, k.indexOf('\n')));
  const concerned = (data: string): boolean => {
    const at = data.indexOf('"mailId":"');
    if (at < 0) return true; // unusual layout: let the parser decide
    const start = at + 10;
    const id = data.slice(start, data.indexOf('"', start));
    return (id.endsWith('\\') || ids.has(id)) && data.includes('"delivery"'); // an escaped quote: parse it
  };
  for await (const batch of input.journal.readBatches({ from, to, types: ['delivery'], contains: concerned })) {
    for (const e of batch) {
      const d = e as DeliveryEvent;
      if (d.outcome !== 'deferred') pending.delete(keyOf(d.mailId, d.recipient));
    }
  }
  return pending;
}

export async function buildEchanges(input: EchangesInput): Promise<EchangesSummary> {
  const { registry, range, timeZone, columns } = input;
  const width = columns.length;
  const dates = new ZonedFormatter(timeZone);
  const notSent = await deferredOnly(input);
  const s: EchangesSummary = {
    messages: 0,
    lines: 0,
    left: { nullSender: 0, foreignSender: 0, excludedSender: {}, testRecipient: 0, notSent: 0, duplicateRecipient: 0 },
    unknownSenders: 0,
    insDropped: 0,
    appLastSend: new Map(),
    journalSkipped: 0,
  };
  const excludedByBal = new Map<string, Exclusion | undefined>();
  const skippedBefore = input.journal.skipped;
  const linesOf = (m: SubmittedEvent): void => {
    // EX_PSU_5820: "les messages d'erreurs de type serveur" (null sender).
    if (m.sender === '') {
      s.left.nullSender++;
      return;
    }
    const sender = m.sender.toLowerCase();
    const domain = sender.slice(sender.lastIndexOf('@') + 1);
    const file = input.fileOf(domain);
    if (!file) {
      s.left.foreignSender++;
      return;
    }
    const bal = registry.get(sender);
    if (bal) {
      let why = excludedByBal.get(sender);
      if (!excludedByBal.has(sender)) {
        why = exclusionOf(bal, range, timeZone); // EX_PSU_5820
        excludedByBal.set(sender, why);
      }
      if (why) {
        s.left.excludedSender[why] = (s.left.excludedSender[why] ?? 0) + 1;
        return;
      }
    } else s.unknownSenders++;
    const atMs = Date.parse(m.at);
    if (bal?.type === 'APP' && atMs > (s.appLastSend.get(sender) ?? 0)) s.appLastSend.set(sender, atMs);
    s.messages++;
    const ins = insFlag(m.ins);
    if (ins.dropped) s.insDropped++;
    // Fields shared by every line of the message, in column order after the two addresses.
    const mailId = safeValue(m.mailId);
    const from = statsAddress(sender); // EX_PSU_5020
    const tail = [dates.format(atMs), String(m.size), ins.value, safeValue(m.codeCda), safeValue(m.nil)].slice(0, width - 3).join(SEPARATOR);
    const seen = m.recipients.length > 1 ? new Set<string>() : undefined;
    for (const r of m.recipients) {
      const to = r.toLowerCase();
      if (seen) {
        if (seen.has(to)) {
          s.left.duplicateRecipient++;
          continue;
        }
        seen.add(to);
      }
      if (registry.get(to)?.test) {
        s.left.testRecipient++; // EX_PSU_5820: test mailboxes
        continue;
      }
      if (notSent.size > 0 && notSent.has(keyOf(m.mailId, to))) {
        s.left.notSent++;
        continue;
      }
      file.push(`${mailId}${SEPARATOR}${from}${SEPARATOR}${statsAddress(to)}${SEPARATOR}${tail}`); // EX_PSU_5020
      s.lines++;
    }
  };
  for await (const batch of input.journal.readBatches({
    from: new Date(range.startMs),
    to: new Date(range.endMs),
    types: ['submitted'],
    contains: '"submitted"',
  })) {
    for (const e of batch) linesOf(e as SubmittedEvent);
  }
  s.journalSkipped = input.journal.skipped - skippedBefore;
  return s;
}
