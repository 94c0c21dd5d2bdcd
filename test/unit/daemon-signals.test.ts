// `serve` and its signals (systemd's ExecReload sends SIGHUP; stop sends SIGTERM): a reload
// asked while the services are still starting must neither kill the daemon (Node's default
// action for SIGHUP) nor be lost.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import type { Config } from '../../src/config/schema.js';
import { runDaemon, type RunningDaemon } from '../../src/daemon/run.js';
import { silentLogger } from '../../src/log.js';
import { captureLogger } from '../helpers/log.js';

function fakeDaemon(counts: { reloads: number; stops: number }): RunningDaemon {
  return {
    services: [],
    shared: {
      reload: async () => (counts.reloads++, { registry: 'unchanged: 3 mailboxes', crl: 'reloaded: 2 CRLs, 0 deltas' }),
    } as unknown as RunningDaemon['shared'],
    service: () => undefined,
    stop: async () => void counts.stops++,
  };
}

test('SIGHUP during start-up is handled (not fatal) and the reload runs once the services are up; SIGHUP after reloads; SIGTERM stops', async () => {
  const signals = new EventEmitter();
  const counts = { reloads: 0, stops: 0 };
  let started!: () => void;
  const starting = new Promise<void>((resolve) => (started = resolve));
  const { log, lines } = captureLogger();
  const run = runDaemon({} as Config, log, {
    signals,
    start: async () => {
      await starting;
      return fakeDaemon(counts);
    },
  });
  await new Promise((r) => setImmediate(r));
  // While the services start: a handler is there (no listener would mean Node's default, exit).
  assert.equal(signals.listenerCount('SIGHUP'), 1);
  signals.emit('SIGHUP');
  assert.equal(counts.reloads, 0, 'nothing to reload before the services are up');
  started();
  await new Promise((r) => setImmediate(r));
  assert.equal(counts.reloads, 1, 'the reload asked during start-up runs once they are');
  signals.emit('SIGHUP');
  assert.equal(counts.reloads, 2);
  await new Promise((r) => setImmediate(r));
  const done = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'reload done');
  assert.equal(done.length, 2, 'each SIGHUP says what was reloaded');
  assert.deepEqual([done[1]?.registry, done[1]?.crl], ['unchanged: 3 mailboxes', 'reloaded: 2 CRLs, 0 deltas']);
  signals.emit('SIGTERM');
  await run;
  assert.equal(counts.stops, 1);
  assert.equal(signals.listenerCount('SIGHUP') + signals.listenerCount('SIGTERM') + signals.listenerCount('SIGINT'), 0, 'handlers removed');
});

test('a start-up failure removes the SIGHUP handler and is thrown', async () => {
  const signals = new EventEmitter();
  await assert.rejects(
    runDaemon({} as Config, silentLogger, {
      signals,
      start: async () => {
        throw new Error('FRONT_LISTEN');
      },
    }),
    /FRONT_LISTEN/,
  );
  assert.equal(signals.listenerCount('SIGHUP'), 0);
});
