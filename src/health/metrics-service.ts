// The supervision endpoint of `serve` (EX_SSI_5120), on loopback by default: GET /metrics in
// the Prometheus text format (health/metrics.ts: messages, refusals, logins, PSC and gate
// timings, the store and its spool, and the supervision checks), GET /health as JSON with
// HTTP 200, or 503 when a check is critical, for monitors that only read status codes.
// In a multi-process serve (serve.workers > 1) it runs in every worker, counting what that
// worker handles; worker 1 alone listens, and its /metrics adds every worker's up
// (cluster-metrics.ts).
import http from 'node:http';
import type { Config } from '../config/schema.js';
import type { Service, ServiceFactory } from '../daemon/service.js';
import type { SharedResources } from '../daemon/shared.js';
import type { Logger } from '../log.js';
import { selfIdentity } from './as-user.js';
import { workerIndex } from '../daemon/worker-index.js';
import { clusterMetrics, inClusterWorker, shareWorkerMetrics } from './cluster-metrics.js';
import { runHealthChecks, thresholdsFrom, worstSeverity, type CheckResult } from './checks.js';
import { instruments } from './instruments.js';
import { DaemonMetrics } from './metrics.js';

export class MetricsService implements Service {
  readonly name = 'metrics';
  readonly metrics: DaemonMetrics;
  private server: http.Server | undefined;
  private cached: { at: number; results: CheckResult[] } | undefined;
  private readonly unsubscribe: Array<() => unknown> = [];

  constructor(
    private readonly config: Config,
    private readonly log: Logger,
    /** The daemon's resources: its store and traces (counted as they are written). */
    private readonly shared: SharedResources,
  ) {
    this.metrics = new DaemonMetrics({ monitorMode: config.submission.mode === 'monitor' });
  }

  private async results(): Promise<CheckResult[]> {
    const now = Date.now();
    if (!this.cached || now - this.cached.at > this.config.health.metrics.cacheMs) {
      const shared = this.shared;
      // The daemon's own access to its files is what counts: checked as itself.
      const results = await runHealthChecks(this.config, new Date(now), thresholdsFrom(this.config), {
        identity: selfIdentity(),
        store: shared.store(),
      });
      this.cached = { at: now, results };
      this.metrics.onChecks(results);
    }
    return this.cached.results;
  }

  async start(): Promise<void> {
    const shared = this.shared;
    const cluster = inClusterWorker();
    if (cluster) shareWorkerMetrics(this.metrics.registry);
    this.unsubscribe.push(shared.traces().observe((t) => this.metrics.onTrace(t)));
    shared.spoolEvents = { deferred: (n) => this.metrics.spoolDeferred.inc(n), replayed: (n) => this.metrics.spoolReplayed.inc(n) };
    this.unsubscribe.push(instruments.listen(this.metrics));
    // Workers other than the first count only: the primary sums them into worker 1's /metrics.
    if (cluster && workerIndex() !== 1) return;
    const { host, port } = this.config.health.metrics.listen;
    this.server = http.createServer((req, res) => {
      void (async () => {
        try {
          if (req.method === 'GET' && req.url === '/metrics') {
            await this.results();
            const text = cluster ? await clusterMetrics() : await this.metrics.registry.metrics();
            res.writeHead(200, { 'content-type': this.metrics.registry.contentType }).end(text);
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
    for (const u of this.unsubscribe.splice(0)) u();
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

export const metricsServiceFactory: ServiceFactory = {
  name: 'metrics',
  create(config: Config, log: Logger, shared) {
    return config.health.metrics.enabled ? new MetricsService(config, log, shared) : undefined;
  },
};
