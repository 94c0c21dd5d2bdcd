// The milter under test in a process of its own (as `mss-sidecar serve` runs it), so the
// load generator and the timing proxies do not delay it and its CPU time can be read from
// /proc like postfwd's. It runs the real submission rules and reports how long each
// decision took inside the server. Driven over IPC: 'take' → decisions so far; 'stop'.
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
process.send?.({ port: server.port });
process.on('message', (msg: string) => {
  if (msg === 'take') process.send?.({ decisionsNs: decisionsNs.splice(0) });
  if (msg === 'stop') void server.stop(200).then(() => rules.close()).then(() => process.exit(0));
});
