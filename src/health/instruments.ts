// Timings and errors the parts of the daemon report for /metrics without holding a metrics
// object: a call to PSC, a message's time through a gate, a failed state store command.
// The metrics service of the process listens (health/metrics.ts); with none listening
// (CLI jobs, tests) a report costs a Set iteration. Process-wide: the sandbox, which runs
// two operators' daemons in one process, counts both in each.

export interface InstrumentListener {
  /** A request to Pro Santé Connect (discovery, key set, UserInfo), its outcome and duration. */
  pscRequest?(endpoint: PscEndpoint, outcome: string, seconds: number): void;
  /** A message's time in a gate: from its DATA to the next hop's final answer. */
  gateDuration?(gate: 'in' | 'out', seconds: number): void;
  /** A state store command that failed (unreachable, timeout). */
  storeError?(backend: 'redis' | 'embedded'): void;
  /** An APP mailbox's last exchange (RE_SSU_5800) a service could not record. */
  exchangeNotRecorded?(service: ExchangeService): void;
}

export type ExchangeService = 'gate-in' | 'gate-out' | 'submission';

export type PscEndpoint = 'discovery' | 'certs' | 'userinfo' | 'introspect' | 'other';

const listeners = new Set<InstrumentListener>();

export const instruments = {
  listen(l: InstrumentListener): () => void {
    listeners.add(l);
    return () => listeners.delete(l);
  },
  pscRequest(endpoint: PscEndpoint, outcome: string, seconds: number): void {
    for (const l of listeners) l.pscRequest?.(endpoint, outcome, seconds);
  },
  gateDuration(gate: 'in' | 'out', seconds: number): void {
    for (const l of listeners) l.gateDuration?.(gate, seconds);
  },
  storeError(backend: 'redis' | 'embedded'): void {
    for (const l of listeners) l.storeError?.(backend);
  },
  exchangeNotRecorded(service: ExchangeService): void {
    for (const l of listeners) l.exchangeNotRecorded?.(service);
  },
};

/** The endpoint a PSC URL names (a fixed, small set: a metric label). */
export function pscEndpointOf(url: string): PscEndpoint {
  const p = (() => {
    try {
      return new URL(url).pathname;
    } catch {
      return '';
    }
  })();
  if (p.endsWith('/.well-known/openid-configuration')) return 'discovery';
  if (p.endsWith('/certs')) return 'certs';
  if (p.endsWith('/userinfo')) return 'userinfo';
  if (p.endsWith('/introspect')) return 'introspect';
  return 'other';
}

/** Seconds since `start` (performance.now() milliseconds). */
export function secondsSince(start: number): number {
  return (performance.now() - start) / 1000;
}
