// The submission rules wired from the configuration: the registry (reloaded when it
// changes), the verified liste blanche (reloaded when `whitelist sync` replaces it), the
// state store (journal, rate limit counters, APP last exchanges) and the functional traces.
import type { Config } from '../config/schema.js';
import { Journal } from '../journal/journal.js';
import type { Logger } from '../log.js';
import type { MilterHandler } from '../milter/handler.js';
import { Activity } from '../registry/activity.js';
import { openRegistryHolder, openTraceLog } from '../registry/open.js';
import { RuntimeFields } from '../registry/runtime.js';
import { openStore } from '../store/open.js';
import { openWhitelistHolder } from '../whitelist/holder.js';
import { submissionHandler } from './handler.js';
import { MessageRecorder } from './record.js';
import { RateLimiter } from './rules/rate-limit.js';

export interface OpenedSubmission {
  handler: MilterHandler;
  close(): Promise<void>;
}

export async function openSubmission(config: Config, log: Logger): Promise<OpenedSubmission> {
  const closers: Array<() => unknown> = [];
  const close = async (): Promise<void> => {
    for (const c of closers.reverse()) {
      try {
        await c();
      } catch (err) {
        log.error({ err }, 'submission rules: a resource did not close cleanly');
      }
    }
  };
  try {
    const registry = await openRegistryHolder(config, log);
    closers.push(() => registry.close());
    const whitelist = await openWhitelistHolder(config, log);
    closers.push(() => whitelist.close());
    const store = openStore(config.state);
    closers.push(() => store.close());
    const traces = openTraceLog(config);
    closers.push(() => traces.close());
    const domains = new Set(config.operator.domains);
    const handler = submissionHandler({
      config: config.submission,
      registry: () => registry.current(),
      space: { isOurDomain: (d) => domains.has(d), list: () => whitelist.index },
      recorder: new MessageRecorder(new Journal(store), traces, log),
      rateLimiter: new RateLimiter(config.submission.rateLimit, store, log),
      activity: new Activity({ registry: () => registry.current(), runtime: new RuntimeFields(store), traces }),
      log,
    });
    if (config.submission.mode === 'monitor') log.warn('submission rules in monitor mode: refusals are logged as "would refuse" and messages are let through');
    return { handler, close };
  } catch (err) {
    await close();
    throw err;
  }
}
