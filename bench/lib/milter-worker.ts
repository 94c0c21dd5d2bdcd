// The milter under test, on its own thread (its own event loop, as in `mss-sidecar serve`),
// so the load generator and the timing proxies in the main thread do not delay it. It
// reports how long each decision took inside the server.
import { parentPort } from 'node:worker_threads';
import { createLogger } from '../../src/log.js';
import { MilterServer } from '../../src/milter/server.js';
import { policyHandler } from './policy.js';

const decisionsNs: number[] = [];
const server = new MilterServer({
  listen: { kind: 'inet', host: '127.0.0.1', port: 0 },
  handler: policyHandler(),
  log: createLogger({ level: 'warn', pretty: false }),
  observe: (code, ns) => {
    if (code === 'R' || code === 'E') decisionsNs.push(ns);
  },
});
await server.start();
parentPort?.postMessage({ port: server.port });
parentPort?.on('message', (msg: string) => {
  if (msg === 'take') parentPort?.postMessage({ decisionsNs: decisionsNs.splice(0) });
  if (msg === 'stop') void server.stop(200).then(() => process.exit(0));
});
