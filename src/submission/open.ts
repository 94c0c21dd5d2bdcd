// The submission rules wired from the configuration: the registry (reloaded when it
// changes), the verified liste blanche (reloaded when `whitelist sync` replaces it), the
// state store (journal, rate limit counters, APP last exchanges) and the functional traces.
import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { MilterHandler } from '../milter/handler.js';
import type { SharedResources } from '../daemon/shared.js';
import { submissionHandler } from './handler.js';
import { MessageRecorder } from './record.js';
import { RateLimiter } from './rules/rate-limit.js';

export interface OpenedSubmission {
  handler: MilterHandler;
  /** The per-sender counters (§5.4.3), updated after each accepted message's reply. */
  rateLimiter: RateLimiter;
  close(): Promise<void>;
}

/**
 * `shared`: the daemon's resources, built once by `serve` (daemon/run.ts), closed by it: the
 * rules never open a registry or a store of their own.
 */
export async function openSubmission(config: Config, log: Logger, shared: SharedResources): Promise<OpenedSubmission> {
  const resources = shared;
  // The daemon's resources are the daemon's to close.
  const close = async (): Promise<void> => {};
  const registry = await resources.registry();
  const whitelist = await resources.whitelist();
  const store = resources.store();
  const traces = resources.traces();
  const domains = new Set(config.operator.domains);
  const rateLimiter = new RateLimiter(config.submission.rateLimit, store, log);
  const handler = submissionHandler({
    config: config.submission,
    registry: () => registry.current(),
    space: { isOurDomain: (d) => domains.has(d), list: () => whitelist.index },
    recorder: new MessageRecorder(resources.journal(), traces, log),
    rateLimiter,
    activity: await resources.activity(),
    log,
  });
  if (config.submission.mode === 'monitor') log.warn('submission rules in monitor mode: refusals are logged as "would refuse" and messages are let through');
  return { handler, rateLimiter, close };
}
