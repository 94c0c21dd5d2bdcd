// /metrics of a multi-process `serve` (serve.workers > 1, daemon/cluster.ts). Every worker
// judges messages, so every worker counts what it handles (messages, refusals, gate
// timings, store errors, spooled writes) in its own registry; worker 1 alone listens on
// health.metrics.listen, and a scrape there must show the node, not one worker. So worker 1
// asks the primary, which asks every worker for its registry over the cluster's IPC channel
// and adds them up (prom-client's AggregatorRegistry: counters and histograms summed, each
// gauge by the aggregator it names).
import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';
import { MssError } from '../errors.js';

const REQUEST = 'mss-sidecar:metrics-request';
const RESPONSE = 'mss-sidecar:metrics-response';

interface Request {
  type: typeof REQUEST;
  id: number;
}
interface Response {
  type: typeof RESPONSE;
  id: number;
  text?: string;
  error?: string;
}

/** True in a worker of a multi-process `serve`: its own registry is only a part. */
export const inClusterWorker = (): boolean => cluster.isWorker;

/** In a worker: answer the primary's requests with `registry` (prom-client's listener). */
export function shareWorkerMetrics(registry: Registry): void {
  AggregatorRegistry.setRegistries([registry]);
  new AggregatorRegistry(); // installs the worker's side of prom-client's cluster protocol
}

/** In the primary: answer worker 1's requests with every worker's metrics added up. */
export function serveClusterMetrics(): () => void {
  const aggregator = new AggregatorRegistry();
  const onMessage = (worker: Worker, m: Request): void => {
    if (m?.type !== REQUEST) return;
    const reply = (r: Omit<Response, 'type' | 'id'>): void => {
      if (worker.isConnected()) worker.send({ type: RESPONSE, id: m.id, ...r } satisfies Response);
    };
    aggregator.clusterMetrics().then(
      (text) => reply({ text }),
      (err: unknown) => reply({ error: err instanceof Error ? err.message : String(err) }),
    );
  };
  cluster.on('message', onMessage);
  return () => void cluster.off('message', onMessage);
}

let nextId = 0;

/** In worker 1: the node's metrics (every worker's), through the primary. */
export function clusterMetrics(timeoutMs = 10_000): Promise<string> {
  const id = nextId++;
  return new Promise<string>((resolve, reject) => {
    const done = (err: Error | undefined, text?: string): void => {
      clearTimeout(timer);
      process.off('message', onMessage);
      if (err) reject(err);
      else resolve(text ?? '');
    };
    const onMessage = (m: Response): void => {
      if (m?.type !== RESPONSE || m.id !== id) return;
      done(m.error === undefined ? undefined : new MssError('METRICS_CLUSTER', `the serve workers' metrics could not be gathered: ${m.error}`), m.text);
    };
    const timer = setTimeout(
      () => done(new MssError('METRICS_CLUSTER', `the serve primary did not answer with the workers' metrics within ${timeoutMs} ms`)),
      timeoutMs,
    );
    process.on('message', onMessage);
    if (!process.send) return done(new MssError('METRICS_CLUSTER', 'not a serve worker: no primary to ask for the metrics'));
    process.send({ type: REQUEST, id } satisfies Request);
  });
}
