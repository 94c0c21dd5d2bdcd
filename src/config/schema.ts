// The one configuration file (/etc/mss-sidecar/config.yaml). Each part of mss-sidecar owns
// its section in its own directory; this file only assembles them. Unknown keys are errors,
// so that a misspelt setting is reported instead of silently ignored.
import { z } from 'zod';
import { logSection, operatorSection, stateSection, trustSection } from './core-sections.js';
import { whitelistSection } from '../whitelist/config.js';
import { healthSection } from '../health/config.js';
import { milterSection } from '../milter/config.js';
import { submissionSection } from '../submission/config.js';
import { registrySection } from '../registry/config.js';
import { lifecycleSection } from '../lifecycle/config.js';
import { tracesSection } from '../traces/config.js';
import { authSection } from '../auth/config.js';
import { statsSection } from '../stats/config.js';
import { annuaireSection } from '../annuaire/config.js';
import { gatesSection } from '../gate/config.js';
import { crlSection } from '../pki/crl-config.js';
import { portalSection } from '../portal/config.js';
import { serveSection } from '../daemon/config.js';
import { clusterSection } from '../cluster/config.js';
import { activeListeners, listenerClashes } from './listeners.js';

export const configSchema = z
  .strictObject({
    operator: operatorSection,
    trust: trustSection,
    state: stateSection.prefault({}),
    log: logSection.prefault({}),
    whitelist: whitelistSection.prefault({}),
    health: healthSection.prefault({}),
    milter: milterSection.prefault({}),
    submission: submissionSection.prefault({}),
    registry: registrySection.prefault({}),
    lifecycle: lifecycleSection.prefault({}),
    traces: tracesSection.prefault({}),
    /** API LPS authentication (§6.8); absent: no checker, no front. */
    auth: authSection.optional(),
    stats: statsSection.prefault({}),
    annuaire: annuaireSection.prefault({}),
    gates: gatesSection.prefault({}),
    crl: crlSection.prefault({}),
    /** The professionals' self-service portal (docs/portal.md); off by default. */
    portal: portalSection.prefault({}),
    /** Processes of `serve` (docs/performance.md). */
    serve: serveSection.prefault({}),
    /** Several nodes behind one MX (docs/cluster.md): node name, leases, heartbeat, registry sync. */
    cluster: clusterSection.prefault({}),
  })
  .superRefine((c, ctx) => {
    for (const [a, b] of listenerClashes(activeListeners(c))) {
      ctx.addIssue({
        code: 'custom',
        path: b.key.split('.'),
        input: `${b.host}:${b.port}`,
        message: `${b.host}:${b.port} is also where ${a.key} listens (${a.host}:${a.port}): two services cannot share an address; give one of them another address or port`,
      });
    }
  });

export type Config = z.output<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
