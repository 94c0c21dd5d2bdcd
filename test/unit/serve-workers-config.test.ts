// serve.workers (docs/performance.md): how many processes `serve` runs, and what each worker
// enforces on its own — the per-process connection caps are shared out, so that together
// the workers hold the configured limits (daemon/cluster.ts).
import assert from 'node:assert/strict';
import os from 'node:os';
import { test } from 'node:test';
import { parseConfigText } from '../../src/config/load.js';
import { isMssError } from '../../src/errors.js';
import { workerCount } from '../../src/daemon/config.js';
import { EVERY_WORKER, workerConfig } from '../../src/daemon/cluster.js';

const MINIMAL = `
operator:
  name: CH Exemple
  domains: [ch-exemple.mssante.fr]
  structureId: "1130000000"
  certificate: tls/operator.crt
  key: tls/operator.key
trust:
  dir: trust
`;

test('serve.workers: 1 by default (one process, as before), a number up to 64, or auto (one per core); anything else is refused naming the key', () => {
  assert.equal(workerCount(parseConfigText(MINIMAL, '/etc/mss-sidecar/config.yaml').serve), 1);
  assert.equal(workerCount(parseConfigText(`${MINIMAL}serve:\n  workers: 2\n`, '/etc/mss-sidecar/config.yaml').serve), 2);
  assert.equal(workerCount(parseConfigText(`${MINIMAL}serve:\n  workers: auto\n`, '/etc/mss-sidecar/config.yaml').serve), os.availableParallelism());
  for (const bad of ['0', '65', '1.5', 'many']) {
    assert.throws(
      () => parseConfigText(`${MINIMAL}serve:\n  workers: ${bad}\n`, '/etc/mss-sidecar/config.yaml'),
      (e: unknown) => isMssError(e) && /serve\.workers/.test(e.message),
      bad,
    );
  }
});

test('in a multi-process serve, each worker enforces its share of the connection caps (together, the configured limits); rules and everything else unchanged', () => {
  const config = parseConfigText(
    `${MINIMAL}gates:\n  in:\n    maxConnections: 1001\n    maxUnverifiedPerSource: 7\n    verifiedReserve: 0\n`,
    '/etc/mss-sidecar/config.yaml',
  );
  const w = workerConfig(config, 2);
  assert.deepEqual(
    [
      w.gates.in.maxConnections,
      w.gates.in.maxUnverifiedPerSource,
      w.gates.in.verifiedReserve,
      w.gates.out.maxConnections,
      w.gates.out.connectionCache.maxIdle,
      w.milter.maxConnections,
    ],
    [
      501,
      4,
      0,
      Math.ceil(config.gates.out.maxConnections / 2),
      Math.ceil(config.gates.out.connectionCache.maxIdle / 2),
      Math.ceil(config.milter.maxConnections / 2),
    ],
  );
  // Nothing else differs: the sending and receiving rules read the same settings.
  const strip = (c: typeof config) => ({
    ...c,
    gates: {
      in: { ...c.gates.in, maxConnections: 0, maxUnverifiedPerSource: 0, verifiedReserve: 0 },
      out: { ...c.gates.out, maxConnections: 0, connectionCache: { ...c.gates.out.connectionCache, maxIdle: 0 } },
    },
    milter: { ...c.milter, maxConnections: 0 },
  });
  assert.deepEqual(strip(w), strip(config));
  assert.deepEqual(workerConfig(config, 1), config);
  assert.deepEqual([...EVERY_WORKER].sort(), ['gates', 'metrics', 'milter']);
});
