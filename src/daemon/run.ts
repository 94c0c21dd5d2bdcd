import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import { MssError } from '../errors.js';
import type { Service } from './service.js';
import { serviceFactories } from './services.js';
import { SharedResources } from './shared.js';

/** Start every enabled service; resolves when a stop signal has been handled. */
export async function runDaemon(config: Config, log: Logger): Promise<void> {
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
  await stopAll(started, log);
  await shared.close();
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
