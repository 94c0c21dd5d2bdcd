// Supervision (EX_SSI_5120): thresholds of `mss-sidecar status`, and the loopback endpoint
// `serve` exposes for a monitoring system (Prometheus text format on /metrics, JSON on /health).
import { z } from 'zod';
import { listenAddress, port, positiveInt } from '../config/atoms.js';

export const healthSection = z.strictObject({
  /** Warn this many days before a certificate expires (EX_SSI_5085), critical below criticalDays. */
  certificateWarnDays: positiveInt.default(30),
  certificateCriticalDays: positiveInt.default(7),
  /** Warn when a CRL's nextUpdate is closer than this (the gates then refuse peers). */
  crlWarnHours: positiveInt.default(12),
  /** EX_SDT_5010 fallback when no time daemon answers (containers): an SNTP query. */
  clock: z
    .strictObject({
      /** NTP server to compare this clock with (e.g. the site's or ntp.unice.fr); unset: no query. */
      ntpServer: z.string().min(1).optional(),
      ntpPort: port.default(123),
      /** Warning above this offset, critical above ten times it. */
      maxOffsetMs: positiveInt.default(500),
      timeoutMs: positiveInt.default(2000),
    })
    .prefault({}),
  /** Redis answering PING slower than this is a warning (the gates and the milter wait on it). */
  storeLatencyWarnMs: positiveInt.default(100),
  metrics: z
    .strictObject({
      enabled: z.boolean().default(false),
      listen: listenAddress.prefault({ port: 9465 }),
      /** Checks read files; cache their result this long between scrapes. */
      cacheMs: positiveInt.default(30_000),
    })
    .prefault({}),
});

export type HealthConfig = z.output<typeof healthSection>;
