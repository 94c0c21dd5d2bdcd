// The gates as one service of `mss-sidecar serve`, enabled by gates.in.enabled and/or
// gates.out.enabled: they share the trust store, CRLs, liste blanche and registry.
import type { Config } from '../config/schema.js';
import type { Service, ServiceFactory } from '../daemon/service.js';
import type { Logger } from '../log.js';
import type { SharedResources } from '../daemon/shared.js';
import { openGateDeps, type GateDeps } from './deps.js';
import { GateIn } from './inbound/server.js';
import { GateOut } from './outbound/server.js';

export interface RunningGates extends Service {
  deps: GateDeps;
  gateIn?: GateIn;
  gateOut?: GateOut;
}

export async function startGates(config: Config, log: Logger, shared: SharedResources): Promise<RunningGates> {
  const deps = await openGateDeps(config, log, shared);
  const gateIn = config.gates.in.enabled ? new GateIn({ ...deps, log: log.child({ gate: 'in' }) }) : undefined;
  const gateOut = config.gates.out.enabled ? new GateOut({ ...deps, log: log.child({ gate: 'out' }) }) : undefined;
  const running: RunningGates = {
    name: 'gates',
    deps,
    ...(gateIn ? { gateIn } : {}),
    ...(gateOut ? { gateOut } : {}),
    async start() {
      try {
        await gateIn?.start();
        await gateOut?.start();
      } catch (err) {
        await running.stop();
        throw err;
      }
    },
    async stop() {
      await Promise.all([gateIn?.stop(), gateOut?.stop()]);
      await deps.close();
    },
  };
  return running;
}

export const gatesServiceFactory: ServiceFactory = {
  name: 'gates',
  create(config: Config, log: Logger, shared: SharedResources) {
    if (!config.gates.in.enabled && !config.gates.out.enabled) return undefined;
    return startGates(config, log, shared);
  },
};
