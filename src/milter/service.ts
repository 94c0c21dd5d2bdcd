// The milter as a service of `mss-sidecar serve`, enabled by `milter.enabled`. Until the
// submission rules are added it runs the accept-all handler; they will pass their own.
import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { Service, ServiceFactory } from '../daemon/service.js';
import { acceptAllHandler } from './accept-all.js';
import type { MilterConfig } from './config.js';
import type { MilterHandler } from './handler.js';
import { MilterServer } from './server.js';

export function milterService(cfg: MilterConfig, handler: MilterHandler, log: Logger): Service & { server: MilterServer } {
  const server = new MilterServer({
    listen: cfg.listen,
    handler,
    log,
    socketMode: cfg.socketMode,
    maxPacketBytes: cfg.maxPacketBytes,
    maxConnections: cfg.maxConnections,
    timeouts: cfg.timeouts,
  });
  return {
    name: 'milter',
    server,
    start: () => server.start(),
    stop: () => server.stop(),
  };
}

export const milterServiceFactory: ServiceFactory = {
  name: 'milter',
  create(config: Config, log: Logger) {
    if (!config.milter.enabled) return undefined;
    return milterService(config.milter, acceptAllHandler(log), log);
  },
};
