// Which worker of a multi-process `serve` this process is (daemon/cluster.ts forks them with
// the number in the environment). A module of its own, with no imports: the services and
// the shared resources ask it, and importing cluster.ts from them would make an import
// cycle (cluster → run → services → the service itself).

/** The environment variable the primary sets in each worker it forks. */
export const WORKER_ENV = 'MSS_SERVE_WORKER';

/** In a worker: its number (1..N); 1 in a single-process `serve`. */
export const workerIndex = (): number => Number(process.env[WORKER_ENV] ?? 1);
