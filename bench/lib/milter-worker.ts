// The milter under test, on its own thread (its own event loop, as in `mss-sidecar serve`),
// so the load generator and the timing proxies in the main thread do not delay it. It runs
// the real submission rules and reports how long each decision took inside the server.
import { parentPort } from 'node:worker_threads';
import { createLogger } from '../../src/log.js';
import { MilterServer } from '../../src/milter/server.js';
import { DECISION_CODES } from './decisions.js';
import { benchRules } from './submission-rules.js';


const decisionsNs: number[] = [];
const rules = benchRules(createLogger({ level: 'warn', pretty: false }));
const server = new MilterServer({
  listen: { kind: 'inet', host: '127.0.0.1', port: 0 },
  handler: rules.handler,
  log: createLogger({ level: 'warn', pretty: false }),
  observe: (code, ns) => {
    if (DECISION_CODES.includes(code)) decisionsNs.push(ns);
  },
});
await server.start();
parentPort?.postMessage({ port: server.port });
parentPort?.on('message', (msg: string) => {
  if (msg === 'take') parentPort?.postMessage({ decisionsNs: decisionsNs.splice(0) });
  if (msg === 'stop') void server.stop(200).then(() => rules.close()).then(() => process.exit(0));
});
