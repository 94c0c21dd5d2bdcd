// The sandbox Annuaire for tests and the benchmark: started in-process with the liste
// blanche host (whose own, unsigned list it authorises callers against), a configuration of
// operator A pointing at it with a registry of the test's choosing, and its control port.
import fs from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { loadConfig } from '../../src/config/load.js';
import type { Config, ConfigInput } from '../../src/config/schema.js';
import { silentLogger } from '../../src/log.js';
import { annuaireComponent } from '../../sandbox/annuaire/component.js';
import type { SandboxManifest } from '../../sandbox/manifest.js';
import type { PkiManifest } from '../../sandbox/pki.js';
import { startSandbox } from '../../sandbox/run.js';
import { whitelistComponent } from '../../sandbox/whitelist-component.js';
import { tmpDir } from './tmp.js';

export const DOMAIN_A = 'ch-sandbox-a.mssante.fr';

export interface AnnuaireSandbox {
  dir: string;
  manifest: SandboxManifest;
  pki: PkiManifest;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each control route answers its own JSON; the tests read the fields they assert
  control(route: string, method?: 'GET' | 'POST'): Promise<any>;
  stop(): Promise<void>;
}

export async function startAnnuaireSandbox(dir = tmpDir('mss-annuaire-')): Promise<AnnuaireSandbox> {
  const s = await startSandbox({ dir, log: silentLogger, components: [whitelistComponent, annuaireComponent] });
  const control = s.manifest.endpoints.annuaire?.control ?? '';
  return {
    dir,
    manifest: s.manifest,
    pki: s.pki,
    async control(
      route,
      method = route.startsWith('/batch') || route.startsWith('/fault') || route.startsWith('/delivery') || route.startsWith('/report-name') ? 'POST' : 'GET',
    ) {
      const res = await fetch(new URL(route, control), { method });
      const text = await res.text();
      if (!res.ok) throw new Error(`sandbox annuaire ${route}: HTTP ${res.status} ${text}`);
      return /json/.test(res.headers.get('content-type') ?? '') ? JSON.parse(text) : text;
    },
    stop: s.stop,
  };
}

/**
 * A configuration of operator A against the sandbox, with its own state directory and
 * registry (default: the sandbox's registry-a.yaml, copied so tests do not share edits).
 */
export function operatorAConfig(
  sb: AnnuaireSandbox,
  opts: {
    registryYaml?: string;
    domains?: string[];
    certificate?: { cert: string; key: string };
    annuaire?: Record<string, unknown>;
    operator?: Record<string, unknown>;
  } = {},
): { file: string; config: Config; dir: string } {
  const dir = tmpDir('mss-annuaire-op-');
  const registry = path.join(dir, 'registry.yaml');
  fs.writeFileSync(registry, opts.registryYaml ?? fs.readFileSync(sb.manifest.endpoints.annuaire?.registries.A ?? '', 'utf8'));
  const a = sb.pki.operators[0] as PkiManifest['operators'][number];
  const cert = opts.certificate ?? a;
  const input: ConfigInput = {
    operator: {
      name: a.organisation,
      domains: opts.domains ?? a.domains,
      structureId: a.structureId,
      certificate: cert.cert,
      key: cert.key,
      ...opts.operator,
    } as ConfigInput['operator'],
    trust: { dir: sb.pki.trustDir, crlDir: sb.pki.crlDir },
    state: { dir: path.join(dir, 'state') },
    whitelist: { url: sb.manifest.endpoints.whitelist?.url ?? '' },
    registry: { file: registry },
    annuaire: { feedUrl: sb.manifest.endpoints.annuaire?.feedUrl, reportUrl: sb.manifest.endpoints.annuaire?.reportUrl, timeoutMs: 60_000, ...opts.annuaire },
  } as ConfigInput;
  const file = path.join(dir, 'config.yaml');
  fs.writeFileSync(file, stringify(input));
  return { file, config: loadConfig(file), dir };
}

const AUTOREPLY = (domain: string): string =>
  `  - address: reponse.automatique-test@${domain}\n    type: APP\n    created: 2024-01-02\n    test: true\n    structure: { type: FINESS, id: "130099992" }\n    responsible: { name: Service informatique }\n    description: Réponse automatique de test\n`;

/** A registry of the auto-reply BAL of each domain plus `mailboxes` (YAML list items, indented by 2). */
export function registryYaml(domains: readonly string[], mailboxes: string): string {
  return `version: 1\nmailboxes:\n${domains.map(AUTOREPLY).join('')}${mailboxes}`;
}

/** `n` PER mailboxes with an RPPS on `domain` (benchmark, bounded-time test). */
export function bigRegistryYaml(n: number, domain = DOMAIN_A): string {
  const parts: string[] = [registryYaml([domain], '')];
  for (let i = 0; i < n; i++) {
    parts.push(
      `  - address: prenom${i}.nom${i}@${domain}\n    type: PER\n    created: 2025-03-01\n    holder: { idNat: "8${String(10_000_000_000 + i)}", lastName: NOM${i}, firstName: Prenom${i} }\n    structure: { type: FINESS, id: "130099992" }\n    service: Cardiologie\n    phone: "04 91 00 00 00"\n`,
    );
  }
  return parts.join('');
}
