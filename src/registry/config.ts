// Configuration of the mailbox registry: where the IT team's YAML file is.
import { z } from 'zod';
import { filePath, positiveInt } from '../config/atoms.js';

export const DEFAULT_REGISTRY_FILE = '/etc/mss-sidecar/registry.yaml';

export const registrySection = z.strictObject({
  /** The registry (source of truth for mailboxes), versioned by the IT team. */
  file: filePath.default(DEFAULT_REGISTRY_FILE),
  /** Daemons also check the file's content every so often, in case change events are missed. */
  pollMs: positiveInt.default(5000),
});

export type RegistryConfig = z.output<typeof registrySection>;
