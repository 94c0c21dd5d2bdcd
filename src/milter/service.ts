// The milter as a service: a listener running one handler. `mss-sidecar serve` runs it with
// the submission rules (src/submission/service.ts).
import type { Logger } from '../log.js';
import type { Service } from '../daemon/service.js';
import type { MilterConfig } from './config.js';
import type { MilterHandler } from './handler.js';
import { MilterServer } from './server.js';

export function milterService(cfg: MilterConfig, handler: MilterHandler, log: Logger): Service & { server: MilterServer } {
  const server = new MilterServer({
    listen: cfg.listen,
    handler,
    log,
    socketMode: cfg.socketMode,
    socketGroup: cfg.socketGroup,
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
