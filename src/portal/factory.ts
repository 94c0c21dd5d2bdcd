// The portal's entry in `serve`'s list of services. Its code (fastify and its plugins,
// openid-client, the pages) is loaded only when `portal.enabled`: a daemon without the portal
// (the default) starts as fast as before.
import type { Config } from '../config/schema.js';
import type { ServiceFactory } from '../daemon/service.js';
import type { SharedResources } from '../daemon/shared.js';
import type { Logger } from '../log.js';

export const portalServiceFactory: ServiceFactory = {
  name: 'portal',
  async create(config: Config, log: Logger, shared: SharedResources) {
    if (!config.portal.enabled) return undefined;
    const { PortalService } = await import('./service.js');
    return new PortalService(config, shared, log);
  },
};
