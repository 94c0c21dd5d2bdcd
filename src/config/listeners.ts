// The TCP addresses `serve` will listen on, each named by its configuration key, so that two
// services configured on the same address are reported by `config check` (and at load)
// naming both keys, instead of `serve` stopping at start with EADDRINUSE on one of them.
// The sections are named one by one, not through ./schema.js's Config: the schema imports
// this file for its clash check, and a cycle between the two would hide which needs which.
import type { AuthConfig } from '../auth/config.js';
import type { GatesConfig } from '../gate/config.js';
import type { HealthConfig } from '../health/config.js';
import type { MilterConfig } from '../milter/config.js';
import type { PortalConfig } from '../portal/config.js';
import type { TracesConfig } from '../traces/config.js';

/** The sections that configure a listener (a Config is one). */
export interface ListenerSections {
  gates: GatesConfig;
  milter: MilterConfig;
  health: HealthConfig;
  traces: TracesConfig;
  portal: PortalConfig;
  auth?: AuthConfig | undefined;
}

export interface Listener {
  /** The configuration key, e.g. `auth.front.imap.listen`. */
  key: string;
  host: string;
  port: number;
}

const WILDCARD = new Set(['0.0.0.0', '::', '*', '']);

/** The listeners of the services `serve` starts with this configuration. */
export function activeListeners(c: ListenerSections): Listener[] {
  const out: Listener[] = [];
  const add = (key: string, l: { host: string; port: number }): void => {
    out.push({ key, host: l.host, port: l.port });
  };
  if (c.gates.in.enabled) add('gates.in.listen', c.gates.in.listen);
  if (c.gates.out.enabled && c.gates.out.listen.endpoint.kind === 'inet') add('gates.out.listen', c.gates.out.listen.endpoint);
  if (c.milter.enabled && c.milter.listen.kind === 'inet') add('milter.listen', c.milter.listen);
  if (c.health.metrics.enabled) add('health.metrics.listen', c.health.metrics.listen);
  if (c.traces.dovecotEvents.enabled) add('traces.dovecotEvents.listen', c.traces.dovecotEvents.listen);
  if (c.portal.enabled) add('portal.listen', c.portal.listen);
  if (c.auth) {
    add('auth.checker.listen', c.auth.checker.listen);
    if (c.auth.front.enabled) {
      add('auth.front.imap.listen', c.auth.front.imap.listen);
      add('auth.front.submission.listen', c.auth.front.submission.listen);
    }
    if (c.auth.authCli?.enabled) {
      add('auth.authCli.imap.listen', c.auth.authCli.imap.listen);
      add('auth.authCli.submission.listen', c.auth.authCli.submission.listen);
    }
  }
  return out;
}

/** Pairs of listeners that cannot both bind: same port, and the same host or a wildcard on either side. */
export function listenerClashes(listeners: readonly Listener[]): Array<[Listener, Listener]> {
  const clashes: Array<[Listener, Listener]> = [];
  listeners.forEach((a, i) => {
    for (const b of listeners.slice(i + 1)) {
      // Port 0 asks the system for a free port: never a clash.
      if (a.port === 0 || a.port !== b.port) continue;
      if (a.host === b.host || WILDCARD.has(a.host) || WILDCARD.has(b.host)) clashes.push([a, b]);
    }
  });
  return clashes;
}
