// Where the configuration file is, without loading the schema (the CLI decides whether it
// needs a configuration before paying for zod).
import path from 'node:path';

export const DEFAULT_CONFIG_PATH = '/etc/mss-sidecar/config.yaml';

export function configPathFrom(explicit?: string): string {
  // An empty MSS_SIDECAR_CONFIG counts as unset.
  return path.resolve(explicit ?? (process.env.MSS_SIDECAR_CONFIG || undefined) ?? DEFAULT_CONFIG_PATH);
}
