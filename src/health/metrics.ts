// What a NOC graphs and alerts on (EX_SSI_5120), as Prometheus metrics of one `serve`
// process (prom-client). Labels are low-cardinality on purpose: a service, an outcome, a
// requirement ID, a login method, a PSC endpoint, a CA or certificate label — never an
// address, a queue id or a DN of a peer.
//   - messages, refusals and logins are counted from the functional traces as they are
//     written (one place where every decision is recorded already, traces/trace-log.ts);
//   - PSC and gate timings and store errors come from health/instruments.ts;
//   - the liste blanche's age, CRLs, certificates, the store and the spool from the checks
//     (checks.ts), evaluated at scrape time (cached health.metrics.cacheMs).
// examples/prometheus/alerts.yml and examples/grafana/mss-sidecar.json use these names; a
// test checks that every name they use is exported here.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { TraceRecord } from '../traces/record.js';
import type { CheckResult } from './checks.js';
import type { ExchangeService, InstrumentListener } from './instruments.js';

const SEVERITY_VALUE: Record<CheckResult['severity'], number> = { ok: 0, warning: 1, critical: 2, unknown: -1 };

/** A requirement cited by a refusal (EX_3.1_5030, RE_GBM_4420, §5.4.3…), or "none". */
const REQUIREMENT = /\b(?:EX|RE|RG|EXI)_[0-9A-Z.]+_\d{4}\b|§\d+(?:\.\d+)*/;

// serve.workers > 1 (cluster-metrics.ts): the gauges below come from the checks, which run
// in worker 1 only, or are the same in every worker; the node's value is the largest, not
// the sum (counters and histograms are summed).
const ONE_WORKER = 'max' as const;

const MESSAGE_ACTIONS = new Set(['message.submit', 'message.receive', 'message.send']);

export class DaemonMetrics implements InstrumentListener {
  readonly registry = new Registry();
  private readonly r = [this.registry];

  readonly messages = new Counter({
    name: 'mss_messages_total',
    help: 'Messages accepted (submission, gate-in) or delivered, bounced, deferred per recipient (gate-out)',
    labelNames: ['service', 'outcome'],
    registers: this.r,
  });
  readonly refusals = new Counter({
    name: 'mss_refusals_total',
    help: 'Refusals by the rules, by the requirement they cite; kind: permanent (5xx), temporary (4xx), monitor (submission rules in monitor mode: would have refused)',
    labelNames: ['service', 'requirement', 'kind'],
    registers: this.r,
  });
  readonly logins = new Counter({
    name: 'mss_logins_total',
    help: 'Logins to mailboxes by method (PSC/XOAUTH2, AUTH-CLI…) and result (ok, fail, tempfail)',
    labelNames: ['method', 'result'],
    registers: this.r,
  });
  readonly psc = new Histogram({
    name: 'mss_psc_request_duration_seconds',
    help: 'Requests to Pro Santé Connect by endpoint (discovery, certs, userinfo) and outcome (ok, http_4xx, http_5xx, error code)',
    labelNames: ['endpoint', 'outcome'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
    registers: this.r,
  });
  readonly gate = new Histogram({
    name: 'mss_gate_duration_seconds',
    help: "A message's time through a gate: from its DATA to the next hop's final answer (in: Postfix; out: the remote operators)",
    labelNames: ['gate'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: this.r,
  });
  readonly storeErrors = new Counter({
    name: 'mss_store_errors_total',
    help: 'State store commands that failed (unreachable, timed out)',
    labelNames: ['backend'],
    registers: this.r,
  });
  readonly exchangesNotRecorded = new Counter({
    name: 'mss_exchanges_not_recorded_total',
    help: "APP mailboxes' last exchanges (RE_SSU_5800, the Connexions file) a service could not record; the message itself went on",
    labelNames: ['service'],
    registers: this.r,
  });
  readonly spoolDeferred = new Counter({
    name: 'mss_spool_deferred_total',
    help: 'Writes (journal events, logins) kept in the local spool because the state store did not answer',
    registers: this.r,
  });
  readonly spoolReplayed = new Counter({ name: 'mss_spool_replayed_total', help: 'Spooled writes replayed to the state store', registers: this.r });
  readonly spoolOperations = new Gauge({
    name: 'mss_spool_operations',
    help: 'Writes waiting in the local spool for the state store',
    aggregator: ONE_WORKER,
    registers: this.r,
  });
  readonly whitelistAge = new Gauge({
    name: 'mss_whitelist_age_seconds',
    help: 'Time since the liste blanche in use was last confirmed (whitelist sync)',
    aggregator: ONE_WORKER,
    registers: this.r,
  });
  readonly crlNextUpdate = new Gauge({
    name: 'mss_crl_next_update_seconds',
    help: "Time left until a CA's CRL nextUpdate (negative: out of date; the gates then refuse that CA's peers)",
    labelNames: ['issuer'],
    aggregator: ONE_WORKER,
    registers: this.r,
  });
  readonly certificateExpiry = new Gauge({
    name: 'mss_certificate_expiry_seconds',
    help: 'Time left until a certificate expires: operator, lps, and each CA of trust.dir',
    labelNames: ['certificate'],
    aggregator: ONE_WORKER,
    registers: this.r,
  });
  readonly storeUp = new Gauge({
    name: 'mss_store_up',
    help: 'The state store answers (Redis PING, or the embedded directory is writable): 1, else 0',
    labelNames: ['backend'],
    aggregator: ONE_WORKER,
    registers: this.r,
  });
  readonly storeLatency = new Gauge({
    name: 'mss_store_latency_seconds',
    help: 'Redis PING round trip at the last check',
    aggregator: ONE_WORKER,
    registers: this.r,
  });
  readonly monitorMode = new Gauge({
    name: 'mss_submission_monitor_mode',
    help: 'The submission rules only log what they would refuse (submission.mode: monitor): 1, else 0',
    aggregator: ONE_WORKER,
    registers: this.r,
  });
  readonly checkStatus = new Gauge({
    name: 'mss_check_status',
    help: 'Supervision check: 0 ok, 1 warning, 2 critical, -1 unknown',
    labelNames: ['check', 'subject', 'requirement'],
    aggregator: ONE_WORKER,
    registers: this.r,
  });
  readonly checkValue = new Gauge({
    name: 'mss_check_value',
    help: 'Value measured by a check (seconds for ages and expiries)',
    labelNames: ['check', 'subject'],
    aggregator: ONE_WORKER,
    registers: this.r,
  });

  constructor(opts: { monitorMode: boolean }) {
    collectDefaultMetrics({ register: this.registry });
    this.monitorMode.set(opts.monitorMode ? 1 : 0);
    // Every label set the alert rules and the dashboard select, at zero until it happens.
    for (const service of ['submission', 'gate-in', 'gate-out']) this.messages.inc({ service, outcome: service === 'gate-out' ? 'delivered' : 'accepted' }, 0);
    this.storeErrors.inc({ backend: 'redis' }, 0);
  }

  /** A trace as written: a message, a refusal, a login. */
  onTrace(t: TraceRecord): void {
    const response = t.response as TraceRecord['response'] & {
      temporary?: unknown;
      wouldRefuse?: unknown;
      refusedRecipients?: unknown;
      repeated?: unknown;
      rule?: unknown;
    };
    if (t.action === 'login') {
      // Identical refused logins are folded into one record with their count at the end of
      // a window (auth/failure-traces.ts): that record stands for `repeated` refusals.
      const repeated = typeof response.repeated === 'number' && response.repeated > 0 ? response.repeated : 1;
      this.logins.inc({ method: String(t.means?.authType ?? 'unknown'), result: response.ok ? 'ok' : response.temporary ? 'tempfail' : 'fail' }, repeated);
      return;
    }
    if (!MESSAGE_ACTIONS.has(t.action)) return;
    const service = String(t.means?.service ?? t.action);
    const outcome = (t.request as { outcome?: unknown } | undefined)?.outcome;
    if (response.ok || typeof outcome === 'string') {
      if (t.message) this.messages.inc({ service, outcome: typeof outcome === 'string' ? outcome : 'accepted' });
    }
    // Ours: a rule's reason or requirement as the code, not a remote server's reply relayed
    // (a bare SMTP code), nor a transaction the client gave up (no code: its refused
    // recipients are counted below).
    if (!response.ok && typeof response.code === 'string' && !/^\d+$/.test(response.code)) {
      this.refusals.inc({
        service,
        requirement: requirementOf(response),
        kind: response.temporary || /^4/.test(String(response.message ?? '')) ? 'temporary' : 'permanent',
      });
    }
    // Recipients refused at RCPT by the submission rules (EX_3.2_5060 outside the trust
    // space…) while the message went on for the others, or was given up.
    if (Array.isArray(response.refusedRecipients)) {
      for (const v of response.refusedRecipients as Array<{ ref?: string; reply?: string }>) {
        this.refusals.inc({
          service,
          requirement: requirementOf({ code: v.ref, message: v.reply }),
          kind: /^4/.test(String(v.reply ?? '')) ? 'temporary' : 'permanent',
        });
      }
    }
    // Monitor mode: what the rules would have refused, the message being let through.
    if (Array.isArray(response.wouldRefuse)) {
      for (const v of response.wouldRefuse as Array<{ ref?: string; reply?: string }>)
        this.refusals.inc({ service, requirement: requirementOf({ code: v.ref, message: v.reply }), kind: 'monitor' });
    }
  }

  /** The checks' results as gauges (the check results themselves, and the named series). */
  onChecks(results: readonly CheckResult[]): void {
    for (const g of [this.checkStatus, this.checkValue, this.crlNextUpdate, this.certificateExpiry, this.storeUp]) g.reset();
    for (const r of results) {
      const subject = Object.values(r.labels ?? {})[0] ?? '';
      this.checkStatus.set({ check: r.check, subject, requirement: r.requirement ?? '' }, SEVERITY_VALUE[r.severity]);
      const value = r.value !== undefined && Number.isFinite(r.value) ? r.value : undefined;
      if (value !== undefined) this.checkValue.set({ check: r.check, subject }, value);
      switch (r.check) {
        case 'whitelist.age':
          if (value !== undefined) this.whitelistAge.set(value);
          break;
        case 'crl.current':
          if (value !== undefined) this.crlNextUpdate.set({ issuer: r.labels?.issuer ?? '' }, value);
          break;
        case 'certificate.expiry':
        case 'ca.expiry':
          if (value !== undefined) this.certificateExpiry.set({ certificate: r.labels?.certificate ?? '' }, value);
          break;
        case 'store': {
          const backend = r.labels?.backend ?? '';
          const up = backend === 'redis' ? value !== undefined : r.severity !== 'critical';
          this.storeUp.set({ backend }, up ? 1 : 0);
          if (value !== undefined) this.storeLatency.set(value);
          break;
        }
        case 'store.spool':
          this.spoolOperations.set(value ?? 0);
          break;
      }
    }
  }

  pscRequest(endpoint: string, outcome: string, seconds: number): void {
    this.psc.observe({ endpoint, outcome }, seconds);
  }

  gateDuration(gate: 'in' | 'out', seconds: number): void {
    this.gate.observe({ gate }, seconds);
  }

  storeError(backend: 'redis' | 'embedded'): void {
    this.storeErrors.inc({ backend });
  }

  exchangeNotRecorded(service: ExchangeService): void {
    this.exchangesNotRecorded.inc({ service });
  }
}

function requirementOf(response: { code?: unknown; message?: unknown; rule?: unknown }): string {
  for (const v of [response.code, response.message]) {
    const m = typeof v === 'string' ? REQUIREMENT.exec(v) : null;
    if (m) return m[0];
  }
  return 'none';
}
