// One registry, one store, one trace chain per `serve` process: SharedResources is built once,
// by the daemon (src/daemon/run.ts), and handed to every part; no part builds its own when
// none is passed (issue #19).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { Config } from '../../src/config/schema.js';
import { openGateDeps } from '../../src/gate/deps.js';
import { startGates } from '../../src/gate/service.js';
import { MetricsService } from '../../src/health/metrics-service.js';
import { silentLogger } from '../../src/log.js';
import { openSubmission } from '../../src/submission/open.js';
import { apiLpsService } from '../../src/auth/service.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { tsFilesUnder } from '../helpers/import-graph.js';

test('SharedResources is built in one place of the product, the daemon (src/daemon/run.ts)', () => {
  const builders = tsFilesUnder(path.join(REPO_ROOT, 'src'))
    .filter((f) => /new SharedResources\(/.test(fs.readFileSync(f, 'utf8')))
    .map((f) => path.relative(REPO_ROOT, f));
  assert.deepEqual(builders, ['src/daemon/run.ts']);
});

test("the parts that use the daemon's resources require them: a call without them does not compile", () => {
  // Checked by tsc (make build), never run: each @ts-expect-error fails the build if the
  // argument becomes optional again.
  const calls = (config: Config): unknown[] => [
    // @ts-expect-error openGateDeps(config, log, shared)
    openGateDeps(config, silentLogger),
    // @ts-expect-error startGates(config, log, shared)
    startGates(config, silentLogger),
    // @ts-expect-error openSubmission(config, log, shared)
    openSubmission(config, silentLogger),
    // @ts-expect-error new MetricsService(config, log, shared)
    new MetricsService(config, silentLogger),
    // @ts-expect-error apiLpsService.create(config, log, shared)
    apiLpsService.create(config, silentLogger),
  ];
  assert.equal(typeof calls, 'function');
});
