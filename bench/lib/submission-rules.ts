// The real submission rules for the benchmark, wired as `serve` wires them but on files in
// a scratch directory: a registry with the sender, the liste blanche of DOMAINS, the
// embedded state store's journal and the functional traces (both written for every
// accepted message, as in production), enforce mode.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Journal } from '../../src/journal/journal.js';
import type { Logger } from '../../src/log.js';
import type { MilterHandler } from '../../src/milter/handler.js';
import { loadRegistry } from '../../src/registry/load.js';
import { EmbeddedStore } from '../../src/store/embedded.js';
import { submissionSection } from '../../src/submission/config.js';
import { submissionHandler } from '../../src/submission/handler.js';
import { MessageRecorder } from '../../src/submission/record.js';
import { RateLimiter } from '../../src/submission/rules/rate-limit.js';
import { TraceLog } from '../../src/traces/trace-log.js';
import { DOMAIN, LOAD, per, writeRegistry } from '../../test/helpers/registry.js';
import { listIndex } from '../../test/helpers/submission-rig.js';
import { DOMAINS } from './policy.js';

export function benchRules(log: Logger): { handler: MilterHandler; close(): Promise<void> } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mss-bench-rules-'));
  const registry = loadRegistry(writeRegistry(dir, [per('alice.martin', 'Alice', 'Martin', '810000000001')]), LOAD);
  const list = listIndex(DOMAINS.slice(1));
  const store = new EmbeddedStore(path.join(dir, 'store'));
  const traces = new TraceLog(path.join(dir, 'traces'));
  const config = submissionSection.parse({});
  const handler = submissionHandler({
    config,
    registry: () => registry,
    space: { isOurDomain: (d) => d === DOMAIN, list: () => list },
    recorder: new MessageRecorder(new Journal(store), traces, log),
    rateLimiter: new RateLimiter(config.rateLimit, store, log),
    log,
  });
  return {
    handler,
    async close() {
      traces.close();
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
