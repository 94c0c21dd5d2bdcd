// The two fronts of the PSC entry points (IMAP 143, submission 587), which `serve` runs
// when the configuration has an `auth` section with `front.enabled` (the default).
import type { Config } from '../../config/schema.js';
import type { Logger } from '../../log.js';
import { SessionFront } from './session-front.js';

export function lpsFronts(config: Config, log: Logger): SessionFront[] {
  const auth = config.auth;
  if (!auth?.front.enabled) return [];
  return [
    new SessionFront({ protocol: 'imap', ...auth.front.imap, limits: auth.sessions, log: log.child({ front: 'imap' }) }),
    new SessionFront({ protocol: 'smtp', ...auth.front.submission, limits: auth.sessions, log: log.child({ front: 'submission' }) }),
  ];
}
