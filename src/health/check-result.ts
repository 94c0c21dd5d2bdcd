// What one health check reports, in its own file: ./checks.ts runs the checks and
// ./clock.ts is one of them, so neither can hold the type without an import cycle.
export type Severity = 'ok' | 'warning' | 'critical' | 'unknown';

export interface CheckResult {
  /** Stable name, e.g. `whitelist.age`, `certificate.operator`. */
  check: string;
  severity: Severity;
  detail: string;
  /** The measured value for metrics (seconds, days…), when there is one. */
  value?: number;
  /** Labels for the metric (which certificate, which CA). */
  labels?: Record<string, string>;
  /** Requirement the check supports. */
  requirement?: string;
}
