// Configuration of the monthly usage statistics (Référentiel #1 §6.9.3) and of their upload
// to SIPIL (§6.9.3.2, test environment §9.2.4).
import { z } from 'zod';
import { filePath, httpsUrl, positiveInt } from '../config/atoms.js';
import { dateText } from '../registry/schema.js';

/** §6.9.3.2: production web services. */
export const SIPIL_PRODUCTION = {
  postFileUrl: 'https://ws-sipil.mssante.fr/sipil/postFile',
  getReportUrl: 'https://ws-sipil.mssante.fr/sipil/getReport',
} as const;

/** §9.2.4: test Espace de Confiance (test liste blanche and test certificate required). */
export const SIPIL_TEST = {
  postFileUrl: 'https://ws-sipil.formation.mssante.fr/sipil/postFile',
  getReportUrl: 'https://ws-sipil.formation.mssante.fr/sipil/getReport',
} as const;

export const statsSection = z.strictObject({
  /** Where built files, archives and reports are kept; default <state.dir>/stats. */
  dir: filePath.optional(),
  /** v1.6: the 8 columns of Tableau 46; legacy-5: the 5 columns of §9.7.4.4.1 and the 2020 guide. */
  echangesFormat: z.enum(['v1.6', 'legacy-5']).default('v1.6'),
  /**
   * Logins have been recorded since this date. A mailbox created before it without any
   * recorded login gets 1900-01-01 00:00:00 ("information indisponible", EX_SSU_5800)
   * instead of an empty value ("never connected").
   */
  loginsRecordedSince: dateText.optional(),
  /** Optional ?email= of postFile: SIPIL also mails the report there (§6.9.3.2.1.1, recommended). */
  reportEmail: z.email('an e-mail address').optional(),
  sipil: z
    .strictObject({
      postFileUrl: httpsUrl.default(SIPIL_PRODUCTION.postFileUrl),
      getReportUrl: httpsUrl.default(SIPIL_PRODUCTION.getReportUrl),
      /** Deadline of one HTTP exchange (one segment, or one report download). */
      timeoutMs: positiveInt.default(600_000),
      /** Classic deposit up to this size; above, the segmented mode (§6.9.3.2.1.2). 70 Mo read as 70,000,000 bytes. */
      maxClassicBytes: positiveInt.max(70_000_000).default(70_000_000),
      /** Segment size: 10 Mo recommended, 70 Mo at most. */
      segmentBytes: positiveInt.max(70_000_000).default(10_000_000),
      /** Largest REPORT.ZIP accepted. */
      maxReportBytes: positiveInt.default(64 * 1024 * 1024),
    })
    .prefault({}),
  schedule: z
    .strictObject({
      /** EX_PSU_5810: within the first five days of the month. */
      deadlineDay: z.number().int().min(1).max(28).default(5),
      /** From this day on, a month not yet accepted is reported loudly as at risk. */
      warnFromDay: z.number().int().min(1).max(28).default(4),
      /** EX_SSU_5820 / §6.9.3.2.2.1: a report not ready is asked again no sooner than this. */
      reportRetryHours: positiveInt.default(12),
      /** Resubmissions of one month after blocking errors, before asking a person. */
      maxSubmissions: positiveInt.default(4),
    })
    .prefault({}),
  /** Line numbers listed per failed control (LigneErreur; the ANS caps them too). */
  maxErrorLines: positiveInt.default(100),
});

export type StatsConfig = z.output<typeof statsSection>;
