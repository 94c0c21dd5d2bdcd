// The supervision endpoint of `serve` (EX_SSI_5120), on loopback by default: GET /metrics in
// the Prometheus text format (prom-client), GET /health as JSON with HTTP 200, or 503 when a
// check is critical, for monitors that only read status codes.
import http from 'node:http';
import { Gauge, Registry } from 'prom-client';
import type { Config } from '../config/schema.js';
import type { Service, ServiceFactory } from '../daemon/service.js';
import type { Logger } from '../log.js';
import type { SpoolStats } from '../store/spool.js';
import type { StateStore } from '../store/store.js';
import { selfIdentity } from './as-user.js';
import { runHealthChecks, thresholdsFrom, worstSeverity, type CheckResult } from './checks.js';

const SEVERITY_VALUE: Record<CheckResult['severity'], number> = { ok: 0, warning: 1, critical: 2, unknown: -1 };

export class MetricsService implements Service {
  readonly name = 'metrics';
  private readonly registry = new Registry();
  private readonly status = new Gauge({ name: 'mss_check_status', help: 'Supervision check: 0 ok, 1 warning, 2 critical, -1 unknown', labelNames: ['check', 'subject', 'requirement'], registers: [this.registry] });
  private readonly value = new Gauge({ name: 'mss_check_value', help: 'Value measured by a check (seconds for ages and expiries)', labelNames: ['check', 'subject'], registers: [this.registry] });
  private server: http.Server | undefined;
  private cached: { at: number; results: CheckResult[] } | undefined;

  constructor(
    private readonly config: Config,
    private readonly log: Logger,
    /** The daemon's store (shared with the gates and the milter), for the store check. */
    private readonly store?: StateStore,
    /** The daemon's spool of writes Redis did not take, as it is now. */
    private readonly spool?: () => SpoolStats | undefined,
  ) {}

  private async results(): Promise<CheckResult[]> {
    const now = Date.now();
    if (!this.cached || now - this.cached.at > this.config.health.metrics.cacheMs) {
      // The daemon's own access to its files is what counts: checked as itself.
      this.cached = { at: now, results: await runHealthChecks(this.config, new Date(now), thresholdsFrom(this.config), { identity: selfIdentity(), ...(this.store ? { store: this.store } : {}), ...(this.spool ? { spool: this.spool } : {}) }) };
    }
    return this.cached.results;
  }

  private async render(): Promise<string> {
    const results = await this.results();
    this.status.reset();
    this.value.reset();
    for (const r of results) {
      const subject = Object.values(r.labels ?? {})[0] ?? '';
      this.status.set({ check: r.check, subject, requirement: r.requirement ?? '' }, SEVERITY_VALUE[r.severity]);
      if (r.value !== undefined && Number.isFinite(r.value)) this.value.set({ check: r.check, subject }, r.value);
    }
    return this.registry.metrics();
  }

  async start(): Promise<void> {
    const { host, port } = this.config.health.metrics.listen;
    this.server = http.createServer((req, res) => {
      void (async () => {
        try {
          if (req.method === 'GET' && req.url === '/metrics') {
            res.writeHead(200, { 'content-type': this.registry.contentType }).end(await this.render());
          } else if (req.method === 'GET' && req.url === '/health') {
            const results = await this.results();
            const worst = worstSeverity(results);
            res.writeHead(worst === 'critical' ? 503 : 200, { 'content-type': 'application/json' }).end(`${JSON.stringify({ worst, checks: results })}\n`);
          } else res.writeHead(404).end();
        } catch (err) {
          this.log.error({ err }, 'metrics endpoint failed');
          if (!res.headersSent) res.writeHead(500).end();
        }
      })();
    });
    await new Promise<void>((resolve, reject) => {
      this.server?.once('error', reject);
      this.server?.listen(port, host, () => resolve());
    });
    this.log.info({ host, port }, 'supervision endpoint listening (/metrics, /health)');
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

export const metricsServiceFactory: ServiceFactory = {
  name: 'metrics',
  create(config: Config, log: Logger, shared) {
    return config.health.metrics.enabled ? new MetricsService(config, log, shared.store(), () => shared.spool()?.snapshot()) : undefined;
  },
};
