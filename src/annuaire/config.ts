// Configuration of TM1.1.1P (publication to the Annuaire Santé, §6.4.2) — section `annuaire`.
import { z } from 'zod';
import { httpsUrl, positiveInt } from '../config/atoms.js';

/** §9.1.1 and §9.1.2.1 (Tableaux 50, 51). */
export const ANNUAIRE_ENDPOINTS = {
  production: {
    feed: 'https://ws.annuaire.mssante.fr/webservices/V1011/Alimentation/WSALIMENTATIONMSS',
    report: 'https://ws.annuaire.mssante.fr/webservices/V1011/CR/WSCRALIMENTATIONMSS',
  },
  /** The test Annuaire ("partenaires"); it also processes feeds at 11:00 and 15:00. */
  test: {
    feed: 'https://ws.partenaires.annuaire.sante.fr/web/services/V1011/Alimentation/WSALIMENTATIONMSS?wsdl',
    report: 'https://ws.partenaires.annuaire.sante.fr/web/services/V1011/CR/WSCRALIMENTATIONMSS?wsdl',
  },
} as const;

const clock = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a local time such as 02:00');

export const annuaireSection = z.strictObject({
  /** Which Annuaire: production, or the test one ("partenaires") of the test Espace de Confiance. */
  environment: z.enum(['production', 'test']).default('production'),
  /** Explicit endpoints (the sandbox); default: those of `environment`. */
  feedUrl: httpsUrl.optional(),
  reportUrl: httpsUrl.optional(),
  /** Deadline of one call, body included (a 50,000-mailbox feed is ~20 MB). */
  timeoutMs: positiveInt.default(300_000),
  /** Largest SOAP response accepted (the report ZIP travels in it). */
  maxResponseBytes: positiveInt.default(128 * 1024 * 1024),
  /** Largest uncompressed report XML accepted (ZIP bombs). */
  maxReportBytes: positiveInt.default(512 * 1024 * 1024),
  /** Sign the VIHF assertion with the operator key (optional in §6.3.2.3.3.1). */
  signAssertion: z.boolean().default(false),
  vihf: z
    .strictObject({
      /** urn:…:subject-id; default operator.name (the example uses the raison sociale). */
      subjectId: z.string().min(1).optional(),
      /** Secteur_Activite, optional, e.g. "SA07^1.2.250.1.71.4.2.4". */
      secteurActivite: z.string().min(1).optional(),
      /** LPS_ID: identifier of this installation; default the host name. */
      installationId: z.string().min(1).optional(),
    })
    .prefault({}),
  schedule: z
    .strictObject({
      /** §6.4.2.5: the Annuaire's batch runs between 02:00 and 04:00 (operator.timeZone). */
      batchStart: clock.default('02:00'),
      batchEnd: clock.default('04:00'),
      /** RE_1.1.1_5020: publish at least this often even without change (days, at most 7). */
      maxIntervalDays: z.number().int().min(1).max(7).default(7),
    })
    .prefault({}),
  /** EX_PBA_5100: apply the national identifiers the report corrects to the registry. */
  applyCorrections: z.boolean().default(true),
});

export type AnnuaireConfig = z.output<typeof annuaireSection>;

export function endpointsOf(cfg: AnnuaireConfig): { feed: string; report: string } {
  const base = ANNUAIRE_ENDPOINTS[cfg.environment];
  return { feed: cfg.feedUrl ?? base.feed, report: cfg.reportUrl ?? base.report };
}
