// Configuration of the functional traces (Référentiel #1 §6.9.2) and of how long personal
// data collected during exchanges is kept. EX_GDT_5070: retention is the data
// controller's setting; the defaults are the CNIL AU-037 illustration (10 years / 1 year).
import path from 'node:path';
import { z } from 'zod';
import { filePath, listenAddress, positiveInt } from '../config/atoms.js';

/** Where Dovecot's event exporter posts: the listener of Dovecot's spool writer (91-mss-mail-log.conf), in the URL serve writes. */
export const DEFAULT_DOVECOT_EVENTS_PORT = 426;

export const tracesSection = z.strictObject({
  /** Where trace files live; default <state.dir>/traces. Keep it on local disk. */
  dir: filePath.optional(),
  retention: z
    .strictObject({
      /** Functional traces (operations on BALs, logins, messages): 10 years. */
      functionalDays: positiveInt.default(3650),
      /** Technical traces (job runs, maintenance): 1 year. */
      technicalDays: positiveInt.default(365),
      /** The message journal the statistics are built from (addresses, sizes): 400 days. */
      journalDays: positiveInt.default(400),
    })
    .prefault({}),
  /**
   * EX_GDT_5030: the operations on the mailboxes' content, as Dovecot's event exporter posts
   * them (dovecot/conf.d/91-mss-mail-log.conf) to its spool, become functional traces (`serve`
   * service dovecot-events, which reads the spool <urlFile's directory>/dovecot-events.spool).
   */
  dovecotEvents: z
    .strictObject({
      enabled: z.boolean().default(false),
      // The port of the mss-dovecot-events service in 91-mss-mail-log.conf (change both together). Below 1024: bound by
      // Dovecot's master, and no local user can bind it while Dovecot is stopped (docs/install.md, "The perimeter").
      listen: listenAddress.prefault({ port: DEFAULT_DOVECOT_EVENTS_PORT }),
      /** The URL (with its key) Dovecot reads with `transport_args = <file`; default <state.dir>/dovecot-events.url. */
      urlFile: filePath.optional(),
      maxEventBytes: positiveInt.default(65_536),
    })
    .prefault({}),
});

export type TracesConfig = z.output<typeof tracesSection>;

/** The URL file Dovecot's events are posted through (default <state.dir>/dovecot-events.url); the spool is beside it. */
export function dovecotEventsUrlFile(traces: TracesConfig, stateDir: string): string {
  return traces.dovecotEvents.urlFile ?? path.join(stateDir, 'dovecot-events.url');
}

export function tracesDir(traces: TracesConfig, stateDir: string): string {
  return traces.dir ?? path.join(stateDir, 'traces');
}
