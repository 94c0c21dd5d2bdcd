// `mss-sidecar serve` runs the milter (enabled by `milter.enabled`) with the submission
// rules; the milter layer itself knows nothing of them.
import type { ServiceFactory } from '../daemon/service.js';
import { milterService } from '../milter/service.js';
import { openSubmission } from './open.js';

export const submissionMilterFactory: ServiceFactory = {
  name: 'milter',
  async create(config, log, shared) {
    if (!config.milter.enabled) return undefined;
    const rules = await openSubmission(config, log, shared);
    const milter = milterService(config.milter, rules.handler, log);
    return {
      name: milter.name,
      start: async () => {
        try {
          await milter.start();
        } catch (err) {
          await rules.close();
          throw err;
        }
      },
      stop: async () => {
        await milter.stop();
        await rules.close();
      },
    };
  },
};
