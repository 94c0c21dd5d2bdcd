import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import { MssError } from '../errors.js';
import type { Service } from './service.js';
import { serviceFactories } from './services.js';
import { SharedResources } from './shared.js';

/** The services of one `serve` process, started, on one set of shared resources. */
export interface RunningDaemon {
  readonly services: readonly Service[];
  readonly shared: SharedResources;
  /** The running service of that name (`gates`, `milter`, `api-lps`), if enabled. */
  service<T extends Service = Service>(name: string): T | undefined;
  stop(): Promise<void>;
}

/**
 * Start every enabled service on one SharedResources, as `mss-sidecar serve` does (the
 * sandbox runs its operators with it too). Throws CONFIG_NO_SERVICE when none is enabled.
 */
export async function startDaemon(config: Config, log: Logger): Promise<RunningDaemon> {
  const started: Service[] = [];
  const shared = new SharedResources(config, log);
  try {
    for (const factory of serviceFactories) {
      const service = await factory.create(config, log.child({ service: factory.name }), shared);
      if (!service) continue;
      await service.start();
      started.push(service);
      log.info({ service: service.name }, 'service started');
    }
  } catch (err) {
    await stopAll(started, log);
    await shared.close();
    throw err;
  }
  if (started.length === 0) {
    await shared.close();
    throw new MssError('CONFIG_NO_SERVICE', 'no service is enabled in the configuration; nothing to serve');
  }
  let stopping: Promise<void> | undefined;
  return {
    services: started,
    shared,
    service: <T extends Service>(name: string) => started.find((s) => s.name === name) as T | undefined,
    stop() {
      stopping ??= stopAll(started, log).then(() => shared.close());
      return stopping;
    },
  };
}

/**
 * `mss-sidecar serve`: start, then run until SIGTERM or SIGINT. SIGHUP reads the registry,
 * the liste blanche and the CRLs again at once (`systemctl reload`); they are also reloaded
 * on their own when their files change. The configuration file itself needs a restart.
 */
export async function runDaemon(config: Config, log: Logger): Promise<void> {
  const daemon = await startDaemon(config, log);
  // One line once every enabled service listens: what a supervisor or a test waits for.
  log.info({ services: daemon.services.map((s) => s.name) }, 'ready');
  const onHangup = (): void => {
    log.info({ signal: 'SIGHUP' }, 'reloading the registry, the liste blanche and the CRLs');
    daemon.shared.reload().catch((err: unknown) => log.error({ err }, 'reload failed; the previous data stays in use'));
  };
  process.on('SIGHUP', onHangup);
  await new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      log.info({ signal }, 'stopping');
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      resolve();
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  process.off('SIGHUP', onHangup);
  await daemon.stop();
}

async function stopAll(services: Service[], log: Logger): Promise<void> {
  for (const service of [...services].reverse()) {
    try {
      await service.stop();
      log.info({ service: service.name }, 'service stopped');
    } catch (err) {
      log.error({ service: service.name, err }, 'service did not stop cleanly');
    }
  }
}
