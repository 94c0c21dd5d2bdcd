// Registries for tests: a small valid one (YAML text with comments) and builders for
// variants, plus the load options matching test/helpers' configuration.
import fs from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import type { LoadOptions } from '../../src/registry/load.js';

export const DOMAIN = 'ch-test.mssante.fr';
export const LOAD: LoadOptions = { domains: [DOMAIN], finessRegistered: true };

export const AUTOREPLY = {
  address: `reponse.automatique-test@${DOMAIN}`,
  type: 'APP',
  created: '2023-01-01',
  test: true,
  structure: { type: 'FINESS', id: '130000001' },
  responsible: { name: 'Service informatique' },
  description: 'Réponse automatique',
};

export function per(local: string, first: string, last: string, idNat: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    address: `${local}@${DOMAIN}`,
    type: 'PER',
    created: '2025-03-01',
    holder: { idNat, lastName: last, firstName: first },
    structure: { type: 'FINESS', id: '130000001' },
    ...extra,
  };
}

export function org(local: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    address: `${local}@${DOMAIN}`,
    type: 'ORG',
    created: '2022-01-01',
    structure: { type: 'FINESS', id: '130000001' },
    responsible: { idNat: '810000000900', name: 'Dr Chef de service' },
    description: 'Secrétariat',
    ...extra,
  };
}

export function cab(local: string, coHolders: Array<Record<string, unknown>>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { address: `${local}@${DOMAIN}`, type: 'CAB', created: '2022-01-01', description: 'Cabinet de groupe', coHolders, ...extra };
}

export function registryYaml(mailboxes: Array<Record<string, unknown>>, header = '# test registry\n'): string {
  return `${header}version: 1\n${stringify({ mailboxes: [AUTOREPLY, ...mailboxes] }, { lineWidth: 0 })}`;
}

/** The registry written to a file in `dir`; returns its path. */
export function writeRegistry(dir: string, mailboxes: Array<Record<string, unknown>>, name = 'registry.yaml'): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, registryYaml(mailboxes));
  return file;
}

/** A registry of `n` PER mailboxes (plus the auto-reply), for benchmarks and large-file tests. */
export function bigRegistryYaml(n: number): string {
  const parts: string[] = ['# generated\nversion: 1\nmailboxes:\n'];
  parts.push(
    `  - address: ${AUTOREPLY.address}\n    type: APP\n    created: 2023-01-01\n    test: true\n    structure: { type: FINESS, id: "130000001" }\n    responsible: { name: Service informatique }\n    description: Réponse automatique\n`,
  );
  for (let i = 0; i < n; i++) {
    const id = String(10_000_000_000 + i);
    parts.push(
      `  - address: prenom${i}.nom${i}@${DOMAIN}\n    type: PER\n    created: 2025-03-01\n    holder:\n      idNat: "8${id}"\n      lastName: NOM${i}\n      firstName: Prenom${i}\n    structure: { type: FINESS, id: "130000001" }\n    service: Cardiologie\n    contact: { email: prenom${i}@example.org }\n    delegates:\n      - { idNat: "8${String(20_000_000_000 + i)}", for: "8${id}", grantedBy: "8${id}", grantedAt: 2025-03-02 }\n`,
    );
  }
  return parts.join('');
}

/** The smallest configuration the registry commands and jobs run with, plus `extra` sections (YAML text). */
export function minimalConfigYaml(extra: Record<string, unknown> = {}): string {
  return stringify({
    operator: { name: 'CH Test', domains: [DOMAIN], structureId: '1130000001', certificate: 'op.crt', key: 'op.key' },
    trust: { dir: 'trust' },
    state: { dir: 'state' },
    registry: { file: 'registry.yaml' },
    ...extra,
  });
}
