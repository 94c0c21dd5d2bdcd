// A long-running part of the daemon (gate, milter, auth endpoint...). `mss-sidecar serve`
// starts every enabled service and stops them in reverse order on SIGTERM/SIGINT.
import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { SharedResources } from './shared.js';

export interface Service {
  readonly name: string;
  start(): Promise<void>;
  /** Stop accepting work, finish or hand back what is in flight, release resources. */
  stop(): Promise<void>;
}

export interface ServiceFactory {
  readonly name: string;
  /**
   * Returns the service, or undefined when the configuration does not enable it. Resources
   * taken from `shared` belong to the daemon: the service must not close them.
   */
  create(config: Config, log: Logger, shared: SharedResources): Service | undefined | Promise<Service | undefined>;
}
