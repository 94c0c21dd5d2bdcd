// `mss-sidecar serve` runs the two fronts of the PSC entry points (IMAP 143, submission
// 587) when the configuration has an `auth` section with `front.enabled` (the default).
import type { Config } from '../../config/schema.js';
import type { Logger } from '../../log.js';
import type { Service, ServiceFactory } from '../../daemon/service.js';
import { SessionFront } from './session-front.js';

export function lpsFronts(config: Config, log: Logger): SessionFront[] {
  const auth = config.auth;
  if (!auth?.front.enabled) return [];
  return [
    new SessionFront({ protocol: 'imap', ...auth.front.imap, limits: auth.sessions, log: log.child({ front: 'imap' }) }),
    new SessionFront({ protocol: 'smtp', ...auth.front.submission, limits: auth.sessions, log: log.child({ front: 'submission' }) }),
  ];
}

export const lpsFrontService: ServiceFactory = {
  name: 'lps-front',
  create(config: Config, log: Logger): Service | undefined {
    const fronts = lpsFronts(config, log);
    if (fronts.length === 0) return undefined;
    return {
      name: 'lps-front',
      async start() {
        const started: SessionFront[] = [];
        try {
          for (const front of fronts) {
            await front.start();
            started.push(front);
          }
        } catch (err) {
          for (const front of started) await front.stop();
          throw err;
        }
      },
      async stop() {
        await Promise.all(fronts.map((f) => f.stop()));
      },
    };
  },
};
