// The "Connexions" lines of one month (EX_PSU_5840, EX_SSU_5800, §6.9.3.1.2): every mailbox
// created on the domain, minus the EX_PSU_5820 exclusions, with its last connection:
//  - the last login up to the month's end recorded by the auth part (any successful
//    authentication, delegates included): the latest login if it is before the month's end,
//    else the per-month history (registry/login-history.ts) — a login after the month,
//    before the build, never replaces it;
//  - RE_SSU_5800: for an APP mailbox without a login, its last exchange (sent or received:
//    RuntimeFields.lastExchange when not after the month, or the month's last message sent);
//  - EX_SSU_5800: never connected → empty (never the word "null"); unknown → 1900-01-01
//    00:00:00: created before logins were recorded here (stats.loginsRecordedSince, else the
//    day a service first recorded logins: migrated mailboxes), or a month older than the
//    history kept.
import type { Bal, Registry } from '../registry/registry.js';
import type { RuntimeFields } from '../registry/runtime.js';
import type { CsvFile } from './csv-writer.js';
import { exclusionOf, type Exclusion } from './exclusions.js';
import { SEPARATOR, statsAddress, UNKNOWN_LAST_LOGIN } from './format.js';
import { monthText, registryDateMs, ZonedFormatter, type MonthRange } from './month.js';
import { lastLoginOfMonth } from '../registry/login-history.js';

export interface ConnexionsInput {
  registry: Registry;
  runtime: RuntimeFields;
  range: MonthRange;
  timeZone: string;
  fileOf: (domain: string) => CsvFile | undefined;
  /** APP mailboxes' last send seen in the journal this month. */
  appLastSend?: ReadonlyMap<string, number>;
  /** YYYY-MM-DD from which logins are recorded; 'never': no login was ever recorded here. */
  loginsRecordedSince: string | 'never';
}

export interface ConnexionsSummary {
  lines: number;
  neverConnected: number;
  unknown: number;
  fromExchange: number;
  left: Partial<Record<Exclusion | 'foreign-domain', number>>;
}

const BATCH = 1000;

export async function buildConnexions(input: ConnexionsInput): Promise<ConnexionsSummary> {
  const { range, timeZone } = input;
  const dates = new ZonedFormatter(timeZone);
  const recordedSinceMs = input.loginsRecordedSince === 'never' ? Number.POSITIVE_INFINITY : registryDateMs(input.loginsRecordedSince, timeZone);
  const s: ConnexionsSummary = { lines: 0, neverConnected: 0, unknown: 0, fromExchange: 0, left: {} };
  const month = monthText(range);
  const kept: Array<{ bal: Bal; file: CsvFile }> = [];
  for (const bal of input.registry.all()) {
    const file = input.fileOf(bal.domain);
    const why = file ? exclusionOf(bal, range, timeZone) : 'foreign-domain'; // EX_PSU_5820
    if (why || !file) {
      s.left[why ?? 'foreign-domain'] = (s.left[why ?? 'foreign-domain'] ?? 0) + 1;
      continue;
    }
    kept.push({ bal, file });
  }
  for (let i = 0; i < kept.length; i += BATCH) {
    const batch = kept.slice(i, i + BATCH);
    const runtime = await input.runtime.getMany(batch.map((k) => k.bal.address));
    batch.forEach(({ bal, file }, j) => {
      const rt = runtime[j] ?? {};
      let date = '';
      // EX_PSU_5840, §6.9.3.1 "du 1er au dernier jour du mois": the last login up to the
      // month's end, from the per-month history, whatever day the file is built.
      const login = lastLoginOfMonth(rt.lastLogin, rt.logins ?? { months: new Map() }, month, range.endMs);
      if (login.kind === 'date') date = dates.format(login.at.getTime());
      else if (bal.type === 'APP') {
        // RE_SSU_5800: an application mailbox's last exchange stands for its last connection
        // (the recorded one only if it is not after the month; the journal's sends of the month).
        const recorded = rt.lastExchange && rt.lastExchange.getTime() < range.endMs ? rt.lastExchange.getTime() : 0;
        const last = Math.max(recorded, input.appLastSend?.get(bal.address) ?? 0);
        if (last > 0) {
          date = dates.format(last);
          s.fromExchange++;
        }
      }
      if (date === '' && login.kind === 'unknown') {
        date = UNKNOWN_LAST_LOGIN; // EX_SSU_5800: logins of then are no longer known
        s.unknown++;
      } else if (date === '') {
        if (registryDateMs(bal.created, timeZone) < recordedSinceMs) {
          date = UNKNOWN_LAST_LOGIN; // EX_SSU_5800: information indisponible
          s.unknown++;
        } else s.neverConnected++; // EX_SSU_5800: empty, never "null"
      }
      file.push(`${statsAddress(bal.address)}${SEPARATOR}${date}`); // EX_PSU_5020
      s.lines++;
    });
  }
  return s;
}
