// What was sent to SIPIL and what it answered, per month, in the state store (shared by the
// nodes when Redis is used): the deposit Id to ask the report with (§6.9.3.2.1.1.2), when to
// ask again (EX_SSU_5820: 12 hours), the verdict, and the names of files SIPIL accepted
// (the duplicate warning, controls n°10/11).
import type { StateStore } from '../store/store.js';
import type { ReportVerdict } from './sipil-codes.js';

export interface SubmissionRecord {
  month: string;
  /** Deposits made for this month, oldest first. */
  deposits: Array<{ id?: string; at: string; code: number; sha256: string; mode: 'classic' | 'segmented'; parts: number }>;
  /** The deposit whose report is awaited or was read. */
  currentId?: string;
  currentSha256?: string;
  verdict?: ReportVerdict;
  /** Last getReport: when, and its global code. */
  reportAt?: string;
  reportCode?: number;
  /** Not before this time (a report not ready). */
  nextReportAfter?: string;
  /** Archive sha256 values SIPIL rejected (a rebuild giving the same bytes is not sent again). */
  rejected: string[];
}

const key = (month: string): string => `stats:month:${month}`;
const acceptedKey = (name: string): string => `stats:accepted:${name}`;

export class Submissions {
  constructor(private readonly store: StateStore) {}

  async get(month: string): Promise<SubmissionRecord> {
    const raw = await this.store.get(key(month));
    return raw ? (JSON.parse(raw) as SubmissionRecord) : { month, deposits: [], rejected: [] };
  }

  async put(r: SubmissionRecord): Promise<void> {
    await this.store.set(key(r.month), JSON.stringify(r));
  }

  async markAccepted(names: readonly string[]): Promise<void> {
    for (const n of names) await this.store.set(acceptedKey(n), new Date().toISOString());
  }

  async wasAccepted(name: string): Promise<boolean> {
    return (await this.store.get(acceptedKey(name))) !== undefined;
  }

  /** Which month a deposit Id belongs to (for `stats report --id`). */
  async monthOfId(id: string, months: readonly string[]): Promise<string | undefined> {
    for (const m of months) if ((await this.get(m)).deposits.some((d) => d.id === id)) return m;
    return undefined;
  }
}
