import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import { useClusterConfig } from '../cluster/identity.js';
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

export interface StartOptions {
  /** Only the services of these names (a worker of a multi-process `serve`: daemon/cluster.ts). */
  only?: ReadonlySet<string>;
}

/**
 * Start every enabled service on one SharedResources, as `mss-sidecar serve` does (the
 * sandbox runs its operators with it too). Throws CONFIG_NO_SERVICE when none is enabled.
 */
export async function startDaemon(config: Config, log: Logger, opts: StartOptions = {}): Promise<RunningDaemon> {
  const started: Service[] = [];
  useClusterConfig(config.cluster);
  const shared = new SharedResources(config, log);
  try {
    for (const factory of serviceFactories) {
      if (opts.only && !opts.only.has(factory.name)) continue;
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

export interface RunDaemonDeps {
  /** Where the signals come from (tests: an EventEmitter). */
  signals?: Pick<NodeJS.EventEmitter, 'on' | 'off'>;
  start?: (config: Config, log: Logger) => Promise<RunningDaemon>;
  /** Once every service listens (default: the `ready` log line a supervisor or a test waits for). */
  announce?: (daemon: RunningDaemon) => void;
}

/**
 * `mss-sidecar serve`: start, then run until SIGTERM or SIGINT. SIGHUP reads the registry,
 * the liste blanche and the CRLs again at once (`systemctl reload`); they are also reloaded
 * on their own when their files change. The configuration file itself needs a restart.
 */
export async function runDaemon(config: Config, log: Logger, deps: RunDaemonDeps = {}): Promise<void> {
  const signals = deps.signals ?? process;
  const start = deps.start ?? startDaemon;
  // The handler is installed before the services start: Node's default action for SIGHUP
  // is to exit, and a `systemctl reload` during start-up must not stop the daemon. A reload
  // asked then runs once every service is up (a file may have changed after it was read).
  let daemon: RunningDaemon | undefined;
  let reloadPending = false;
  const reload = (d: RunningDaemon): void => {
    log.info({ signal: 'SIGHUP' }, 'reloading the registry, the liste blanche and the CRLs');
    d.shared
      .reload()
      .then((summary) =>
        log.info({ signal: 'SIGHUP', ...summary }, Object.keys(summary).length > 0 ? 'reload done' : 'reload done: no registry, liste blanche or CRLs in use'),
      )
      .catch((err: unknown) => log.error({ err }, 'reload failed; the previous data stays in use'));
  };
  const onHangup = (): void => {
    if (daemon) return reload(daemon);
    reloadPending = true;
    log.info({ signal: 'SIGHUP' }, 'reload asked during start-up: done once every service is up');
  };
  signals.on('SIGHUP', onHangup);
  try {
    daemon = await start(config, log);
  } catch (err) {
    signals.off('SIGHUP', onHangup);
    throw err;
  }
  // One line once every enabled service listens: what a supervisor or a test waits for.
  if (deps.announce) deps.announce(daemon);
  else log.info({ services: daemon.services.map((s) => s.name) }, 'ready');
  if (reloadPending) reload(daemon);
  await new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      log.info({ signal }, 'stopping');
      signals.off('SIGTERM', onSignal);
      signals.off('SIGINT', onSignal);
      resolve();
    };
    signals.on('SIGTERM', onSignal);
    signals.on('SIGINT', onSignal);
  });
  signals.off('SIGHUP', onHangup);
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
