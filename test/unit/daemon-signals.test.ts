// `serve` and its signals (systemd's ExecReload sends SIGHUP; stop sends SIGTERM): a reload
// asked while the services are still starting must neither kill the daemon (Node's default
// action for SIGHUP) nor be lost.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import type { Config } from '../../src/config/schema.js';
import { runDaemon, type RunningDaemon } from '../../src/daemon/run.js';
import { silentLogger } from '../../src/log.js';

function fakeDaemon(counts: { reloads: number; stops: number }): RunningDaemon {
  return {
    services: [],
    shared: { reload: async () => void counts.reloads++ } as unknown as RunningDaemon['shared'],
    service: () => undefined,
    stop: async () => void counts.stops++,
  };
}

test('SIGHUP during start-up is handled (not fatal) and the reload runs once the services are up; SIGHUP after reloads; SIGTERM stops', async () => {
  const signals = new EventEmitter();
  const counts = { reloads: 0, stops: 0 };
  let started!: () => void;
  const starting = new Promise<void>((resolve) => (started = resolve));
  const run = runDaemon({} as Config, silentLogger, {
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
