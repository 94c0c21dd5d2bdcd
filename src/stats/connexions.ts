// The "Connexions" lines of one month (EX_PSU_5840, EX_SSU_5800, §6.9.3.1.2): every mailbox
// created on the domain, minus the EX_PSU_5820 exclusions, with its last connection:
//  - the last login recorded by the auth part (RuntimeFields.lastLogin, any successful
//    authentication, delegates included);
//  - RE_SSU_5800: for an APP mailbox without a recorded login, its last exchange (sent or
//    received: RuntimeFields.lastExchange, or the month's last message it sent);
//  - EX_SSU_5800: never connected → empty (never the word "null"); unknown (created before
//    logins were recorded, stats.loginsRecordedSince) → 1900-01-01 00:00:00.
// Dates are those known when the file is built (see docs/stats.md on logins after the month).
import type { Bal, Registry } from '../registry/registry.js';
import type { RuntimeFields } from '../registry/runtime.js';
import type { CsvFile } from './csv-writer.js';
import { exclusionOf, type Exclusion } from './exclusions.js';
import { SEPARATOR, statsAddress, UNKNOWN_LAST_LOGIN } from './format.js';
import { registryDateMs, ZonedFormatter, type MonthRange } from './month.js';

export interface ConnexionsInput {
  registry: Registry;
  runtime: RuntimeFields;
  range: MonthRange;
  timeZone: string;
  fileOf: (domain: string) => CsvFile | undefined;
  /** APP mailboxes' last send seen in the journal this month. */
  appLastSend?: ReadonlyMap<string, number>;
  loginsRecordedSince?: string;
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
  const recordedSinceMs = input.loginsRecordedSince ? registryDateMs(input.loginsRecordedSince, timeZone) : undefined;
  const s: ConnexionsSummary = { lines: 0, neverConnected: 0, unknown: 0, fromExchange: 0, left: {} };
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
      if (rt.lastLogin) date = dates.format(rt.lastLogin.getTime());
      else if (bal.type === 'APP') {
        // RE_SSU_5800: an application mailbox's last exchange stands for its last connection.
        const last = Math.max(rt.lastExchange?.getTime() ?? 0, input.appLastSend?.get(bal.address) ?? 0);
        if (last > 0) {
          date = dates.format(last);
          s.fromExchange++;
        }
      }
      if (date === '') {
        if (recordedSinceMs !== undefined && registryDateMs(bal.created, timeZone) < recordedSinceMs) {
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
