// The milter under test in a process of its own (as `mss-sidecar serve` runs it), so the
// load generator and the timing proxies do not delay it and its CPU time can be read from
// /proc like postfwd's. It runs the real submission rules and reports how long each
// decision took inside the server, once told to ('observe': the phase through Postfix; the
// direct phase runs untimed, as `serve` does, since timing every packet costs the milter
// CPU the floor engine does not pay). Driven over IPC: 'observe', 'take' → decisions so
// far; 'stop'.
// With BENCH_MILTER_WORKERS=N (N > 1) it is a node:cluster primary with N workers sharing
// the listener, as `serve` runs with serve.workers: N (daemon/cluster.ts): each worker has
// its own rules, journal and trace writers on the same kind of files.
import cluster from 'node:cluster';
import { createLogger } from '../../src/log.js';
import type { MilterHandler } from '../../src/milter/handler.js';
import { MilterServer } from '../../src/milter/server.js';
import { DECISION_CODES } from './decisions.js';
import { benchRules } from './submission-rules.js';

const WORKERS = Number(process.env.BENCH_MILTER_WORKERS ?? 1);
/** A unix socket to listen on (the shipped transport, the bench's default) instead of a loopback TCP port (BENCH_TRANSPORT=tcp). */
const SOCKET = process.env.BENCH_MILTER_SOCKET;
/**
 * BENCH_MILTER_HANDLER=continue: the session framework alone (the FRAME engine of
 * bench/milter.ts) — the rules replaced by a handler that answers the same events as the
 * submission rules (MAIL, RCPT, end of message: the same negotiation and 12 awaited replies)
 * with continue, the end of message synchronously as the rules decide it on the embedded
 * store, whose journal append is synchronous (issue 20, 2026-12-07; it was a promise before).
 */
const CONTINUE_ONLY = process.env.BENCH_MILTER_HANDLER === 'continue';

function continueOnly(): { handler: MilterHandler; close(): Promise<void> } {
  return {
    handler: {
      addsHeaders: false,
      mail: () => undefined,
      rcpt: () => undefined,
      eom: () => undefined,
    },
    close: () => Promise.resolve(),
  };
}

async function serveMilter(): Promise<{ port: number; observe(): void; take(): number[]; stop(): Promise<void> }> {
  const decisionsNs: number[] = [];
  const rules = CONTINUE_ONLY ? continueOnly() : benchRules(createLogger({ level: 'warn', pretty: false }));
  const server = new MilterServer({
    listen: SOCKET ? { kind: 'unix', path: SOCKET } : { kind: 'inet', host: '127.0.0.1', port: 0 },
    handler: rules.handler,
    log: createLogger({ level: 'warn', pretty: false }),
  });
  await server.start();
  return {
    port: server.port ?? 0,
    observe: () =>
      server.observe((code, ns) => {
        if (DECISION_CODES.includes(code)) decisionsNs.push(ns);
      }),
    take: () => decisionsNs.splice(0),
    stop: () => server.stop(200).then(() => rules.close()),
  };
}

if (WORKERS <= 1) {
  const m = await serveMilter();
  process.send?.({ port: m.port });
  process.on('message', (msg: string) => {
    if (msg === 'observe') m.observe();
    if (msg === 'take') process.send?.({ decisionsNs: m.take() });
    if (msg === 'stop') void m.stop().then(() => process.exit(0));
  });
} else if (cluster.isWorker) {
  const m = await serveMilter();
  process.send?.({ kind: 'ready', port: m.port });
  process.on('message', (msg: string) => {
    if (msg === 'observe') m.observe();
    if (msg === 'take') process.send?.({ kind: 'taken', decisionsNs: m.take() });
    if (msg === 'stop') void m.stop().then(() => process.exit(0));
  });
} else {
  const workers = Array.from({ length: WORKERS }, () => cluster.fork());
  const ports = await Promise.all(
    workers.map((w) => new Promise<number>((resolve) => w.on('message', (m: { kind: string; port: number }) => m.kind === 'ready' && resolve(m.port)))),
  );
  process.send?.({ port: ports[0] });
  process.on('message', (msg: string) => {
    if (msg === 'observe') for (const w of workers) w.send('observe');
    if (msg === 'take') {
      void Promise.all(
        workers.map(
          (w) =>
            new Promise<number[]>((resolve) => {
              const on = (m: { kind: string; decisionsNs: number[] }): void => {
                if (m.kind !== 'taken') return;
                w.off('message', on);
                resolve(m.decisionsNs);
              };
              w.on('message', on);
              w.send('take');
            }),
        ),
      ).then((all) => process.send?.({ decisionsNs: all.flat() }));
    }
    if (msg === 'stop') void Promise.all(workers.map((w) => new Promise((r) => (w.once('exit', r), w.send('stop'))))).then(() => process.exit(0));
  });
}
