// The mailboxes of a simulated operator, for the sandbox gates and the gate tests: on each
// domain the auto-reply test BAL (EX_GBM_4020), a test BAL, a secretariat, an application
// BAL; on the first domain a personal BAL and a suspended one.
import { stringify } from 'yaml';

export interface SandboxMailboxes {
  /** prenom.nom of the personal BAL on the first domain. */
  person: { first: string; last: string; idNat: string };
}

const FINESS = { type: 'FINESS', id: '130000001' };

/** The local parts every sandbox domain has; tests address them by these names. */
export const SANDBOX_LOCALS = { autoreply: 'reponse.automatique-test', test: 'test.recette', org: 'secretariat', app: 'dpi', suspended: 'ancien.service' } as const;

export function sandboxRegistryYaml(domains: readonly string[], m: SandboxMailboxes): string {
  const mailboxes: Array<Record<string, unknown>> = [];
  domains.forEach((d, i) => {
    mailboxes.push(
      { address: `${SANDBOX_LOCALS.autoreply}@${d}`, type: 'APP', created: '2023-01-01', test: true, structure: FINESS, responsible: { name: 'Service informatique' }, description: 'Réponse automatique' },
      { address: `${SANDBOX_LOCALS.test}@${d}`, type: 'ORG', created: '2023-01-01', test: true, structure: FINESS, responsible: { name: 'Équipe messagerie' }, description: 'Recette interopérabilité' },
      { address: `${SANDBOX_LOCALS.org}@${d}`, type: 'ORG', created: '2022-01-01', structure: FINESS, responsible: { name: 'Cadre de santé' }, description: 'Secrétariat' },
      { address: `${SANDBOX_LOCALS.app}@${d}`, type: 'APP', created: '2022-01-01', structure: FINESS, responsible: { name: 'Service informatique' }, description: 'Logiciel de dossier patient' },
    );
    if (i === 0) {
      mailboxes.push(
        { address: `${m.person.first}.${m.person.last}@${d}`.toLowerCase(), type: 'PER', created: '2025-03-01', holder: { idNat: m.person.idNat, lastName: m.person.last.toUpperCase(), firstName: m.person.first }, structure: FINESS },
        { address: `${SANDBOX_LOCALS.suspended}@${d}`, type: 'ORG', created: '2022-01-01', structure: FINESS, responsible: { name: 'Cadre de santé' }, description: 'Service fermé', status: 'suspended', suspension: { at: '2025-01-01', reason: 'service fermé' } },
      );
    }
  });
  return `# Generated for the sandbox gates.\n${stringify({ version: 1, mailboxes }, { lineWidth: 0 })}`;
}
