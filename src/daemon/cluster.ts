// `mss-sidecar serve` on several cores (serve.workers > 1; docs/performance.md). A single
// Node process tops out at one core; node:cluster runs N worker processes that share the
// listeners (the primary accepts and hands each connection to the next worker in turn).
//
// What runs where, so that no rule changes:
//  - the gates and the milter in every worker: each connection is judged within one worker,
//    and what outlives a connection is in the state store and the files every process of a
//    node already shares (rate-limit counters, the journal, the traces: one writer per
//    process, as the timer jobs), or is read from disk by each (registry, liste blanche,
//    CRLs, each reloaded on change or on SIGHUP, which the primary passes on);
//  - the API LPS (checker endpoint and fronts: the one-time tickets a front issues are
//    redeemed by the checker from memory), the supervision endpoint and the portal in worker
//    1 only (the metrics are counted in every worker and summed by worker 1's /metrics);
//  - the connection caps a process enforces on its own (gates.in.maxConnections,
//    maxUnverifiedPerSource, verifiedReserve, gates.out.maxConnections, milter.maxConnections,
//    the outbound connection cache) are shared out between the workers, so that together
//    they hold what the configuration says.
// The primary runs no service: it forks the workers, waits until each listens, passes
// SIGHUP on, stops them on SIGTERM/SIGINT, and starts again a worker that died.
import cluster, { type Worker } from 'node:cluster';
import { EventEmitter } from 'node:events';
import type { Config } from '../config/schema.js';
import { MssError } from '../errors.js';
import { serveClusterMetrics } from '../health/cluster-metrics.js';
import type { Logger } from '../log.js';
import { removeStaleSocket } from '../util/unix-socket.js';
import { runDaemon, startDaemon } from './run.js';
import { WORKER_ENV, workerIndex } from './worker-index.js';

/**
 * The services every worker runs; worker 1 runs every enabled service. `metrics` counts in
 * every worker what that worker handles and listens in worker 1 only, which sums them
 * through the primary (health/cluster-metrics.ts).
 */
export const EVERY_WORKER: ReadonlySet<string> = new Set(['gates', 'milter', 'metrics']);

type ToWorker = { kind: 'signal'; signal: NodeJS.Signals };
type ToPrimary = { kind: 'ready'; services: string[] };

/** The configuration a worker runs with: the per-process caps divided between `workers`. */
export function workerConfig(config: Config, workers: number): Config {
  const share = (n: number): number => (n === 0 ? 0 : Math.max(1, Math.ceil(n / workers)));
  const { gates, milter } = config;
  return {
    ...config,
    gates: {
      ...gates,
      in: {
        ...gates.in,
        maxConnections: share(gates.in.maxConnections),
        maxUnverifiedPerSource: share(gates.in.maxUnverifiedPerSource),
        verifiedReserve: share(gates.in.verifiedReserve),
      },
      out: {
        ...gates.out,
        maxConnections: share(gates.out.maxConnections),
        connectionCache: { ...gates.out.connectionCache, maxIdle: share(gates.out.connectionCache.maxIdle) },
      },
    },
    milter: { ...milter, maxConnections: share(milter.maxConnections) },
  };
}

/**
 * A worker: the services of its number, stopped by SIGTERM/SIGINT whether it comes from the
 * primary or from the system (systemd signals every process of the unit), reloaded by the
 * SIGHUP the primary passes on.
 */
export async function runWorker(config: Config, log: Logger, workers: number): Promise<void> {
  const index = workerIndex();
  const wlog = log.child({ worker: index });
  const signals = new EventEmitter();
  const relay = (signal: NodeJS.Signals): void => void signals.emit(signal, signal);
  // Kept for the worker's whole life: a second SIGINT (the terminal's and the primary's)
  // must not kill it halfway through its stop.
  for (const s of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(s, relay);
  process.on('message', (m: ToWorker) => {
    if (m?.kind === 'signal') relay(m.signal);
  });
  // The primary gone, the shared listeners are gone with it: stop.
  process.on('disconnect', () => relay('SIGTERM'));
  const only = index === 1 ? undefined : EVERY_WORKER;
  try {
    await runDaemon(workerConfig(config, workers), wlog, {
      signals,
      start: (c, l) => startDaemon(c, l, only ? { only } : {}),
      announce: (d) => {
        const services = d.services.map((s) => s.name);
        wlog.info({ services }, 'worker ready');
        process.send?.({ kind: 'ready', services } satisfies ToPrimary);
      },
    });
  } finally {
    // Stopped, or failed to start: let the IPC channel go so that the process ends.
    if (process.connected) process.disconnect?.();
  }
}

export interface PrimaryDeps {
  signals?: Pick<NodeJS.EventEmitter, 'on' | 'off'>;
  /** Delay before a worker that died is started again (doubling, up to 30 s). */
  restartDelayMs?: number;
  /** How long workers have to stop before they are killed. */
  stopTimeoutMs?: number;
}

/** The primary of a multi-process `serve`: until SIGTERM or SIGINT. */
export async function runPrimary(config: Config, log: Logger, workers: number, deps: PrimaryDeps = {}): Promise<void> {
  const signals = deps.signals ?? process;
  const stopTimeoutMs = deps.stopTimeoutMs ?? 30_000;
  // A socket file left by a previous run is removed once, here: each worker's listen on the
  // same path is the primary's one socket, which a worker must not take for a stranger's.
  // (Each worker then sets the socket's group and mode: the same file, the same values.)
  if (config.milter.enabled && config.milter.listen.kind === 'unix') await removeStaleSocket(config.milter.listen.path, 'MILTER_LISTEN');
  const gateOut = config.gates.out.listen.endpoint;
  if (config.gates.out.enabled && gateOut.kind === 'unix') await removeStaleSocket(gateOut.path, 'GATE_OUT_LISTEN');

  const slots = new Map<number, Worker>();
  const services = new Set<string>();
  let stopping = false;
  let onStartFailure: ((err: Error) => void) | undefined;
  let onReady: (() => void) | undefined;
  const crashes = new Map<number, number>();

  const fork = (index: number): Worker => {
    const worker = cluster.fork({ [WORKER_ENV]: String(index) });
    slots.set(index, worker);
    let ready = false;
    worker.on('message', (m: ToPrimary) => {
      if (m?.kind !== 'ready') return;
      ready = true;
      for (const s of m.services) services.add(s);
      onReady?.();
    });
    worker.on('exit', (code, signal) => {
      if (slots.get(index) === worker) slots.delete(index);
      if (stopping) return;
      if (onStartFailure && !ready) {
        onStartFailure(
          new MssError('SERVE_WORKER_START', `serve worker ${index} stopped before it listened (${signal ?? `exit ${code}`}); its error is above`, {
            worker: index,
          }),
        );
        return;
      }
      // A worker died while serving: Postfix retries what it was doing; start another.
      const n = (crashes.get(index) ?? 0) + 1;
      crashes.set(index, n);
      const delay = Math.min(30_000, (deps.restartDelayMs ?? 1000) * 2 ** (n - 1));
      log.error({ worker: index, pid: worker.process.pid, code, signal, restartInMs: delay }, 'serve worker died; starting another');
      setTimeout(() => {
        if (!stopping) fork(index);
      }, delay).unref();
    });
    return worker;
  };

  const broadcast = (signal: NodeJS.Signals): void => {
    for (const w of slots.values()) if (w.isConnected()) w.send({ kind: 'signal', signal } satisfies ToWorker);
  };
  const stopAll = async (): Promise<void> => {
    stopping = true;
    const exited = [...slots.values()].map((w) => new Promise<void>((resolve) => (w.isDead() ? resolve() : w.once('exit', () => resolve()))));
    broadcast('SIGTERM');
    const timer = setTimeout(() => {
      for (const w of slots.values()) if (!w.isDead()) w.process.kill('SIGKILL');
    }, stopTimeoutMs);
    await Promise.all(exited);
    clearTimeout(timer);
  };

  const onHangup = (): void => {
    log.info({ signal: 'SIGHUP', workers }, 'passing the reload on to the workers');
    broadcast('SIGHUP');
  };
  // Installed before the workers start: a stop asked during start-up stops them all.
  let stopAsked: (() => void) | undefined;
  const stopSignal = new Promise<NodeJS.Signals>((resolve) => (stopAsked = () => resolve('SIGTERM')));
  const onSignal = (signal: NodeJS.Signals): void => {
    log.info({ signal, workers }, 'stopping');
    stopAsked?.();
  };
  signals.on('SIGHUP', onHangup);
  signals.on('SIGTERM', onSignal);
  signals.on('SIGINT', onSignal);
  // Worker 1's /metrics asks here for the sum of every worker's counters.
  const stopMetrics = config.health.metrics.enabled ? serveClusterMetrics() : undefined;
  try {
    const started = new Promise<void>((resolve, reject) => {
      let readyCount = 0;
      onReady = () => {
        readyCount += 1;
        if (readyCount === workers) resolve();
      };
      onStartFailure = reject;
      for (let i = 1; i <= workers; i += 1) fork(i);
    });
    if ((await Promise.race([started.then(() => 'started' as const), stopSignal])) === 'started') {
      onStartFailure = undefined;
      onReady = () => crashes.clear();
      log.info({ workers, services: [...services] }, 'ready');
      await stopSignal;
    }
  } finally {
    await stopAll();
    stopMetrics?.();
    signals.off('SIGHUP', onHangup);
    signals.off('SIGTERM', onSignal);
    signals.off('SIGINT', onSignal);
  }
}
