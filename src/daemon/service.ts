// A long-running part of the daemon (gate, milter, auth endpoint...). `mss-sidecar serve`
// starts every enabled service and stops them in reverse order on SIGTERM/SIGINT.
import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';

export interface Service {
  readonly name: string;
  start(): Promise<void>;
  /** Stop accepting work, finish or hand back what is in flight, release resources. */
  stop(): Promise<void>;
}

export interface ServiceFactory {
  readonly name: string;
  /** Returns the service, or undefined when the configuration does not enable it. */
  create(config: Config, log: Logger): Service | undefined | Promise<Service | undefined>;
}
