// The mailboxes of a simulated operator, for the sandbox and the gate and end-to-end tests:
// on each domain the auto-reply test BAL (EX_GBM_4020), a test BAL, a secretariat, an
// application BAL of the operator's FINESS structure (its AUTH-CLI certificate opens it); on the
// first domain a personal BAL and a suspended one.
import { stringify } from 'yaml';

export interface SandboxPerson {
  first: string;
  last: string;
  idNat: string;
}

/** The mailboxes a check or a test uses, by role. */
export interface OperatorMailboxes {
  /** A personal mailbox and its holder's IdNat (an LPS logs in with a PSC token of that IdNat). */
  person: string;
  holder: string;
  /** An application mailbox of the operator's structure (AUTH-CLI, EX_LPS_1200). */
  app: string;
  /** A suspended mailbox (RE_GBM_4420). */
  suspended: string;
  /** An organisational mailbox (no PSC login: written to, not from). */
  org: string;
}

/** The local parts every sandbox domain has; tests address them by these names. */
export const SANDBOX_LOCALS = {
  autoreply: 'reponse.automatique-test',
  test: 'test.recette',
  org: 'secretariat',
  app: 'dpi',
  suspended: 'ancien.service',
} as const;

/**
 * The registry's `structure` of the operator's mailboxes: its own FINESS when its structure
 * IdNat is one (`1130099991` → FINESS 130099991, which its AUTH-CLI certificate names), else
 * a sandbox FINESS — operators registered in FINESS use it, not a SIRET (EX_PBA_5011).
 */
function structureOf(structureId: string): { type: 'FINESS'; id: string } {
  return { type: 'FINESS', id: structureId.startsWith('1') ? structureId.slice(1) : '130000001' };
}

export function sandboxMailboxes(domains: readonly string[], person: SandboxPerson): OperatorMailboxes {
  const d = domains[0] ?? '';
  return {
    person: `${person.first}.${person.last}@${d}`.toLowerCase(),
    holder: person.idNat,
    app: `${SANDBOX_LOCALS.app}@${d}`,
    suspended: `${SANDBOX_LOCALS.suspended}@${d}`,
    org: `${SANDBOX_LOCALS.org}@${d}`,
  };
}

export function sandboxRegistryYaml(domains: readonly string[], m: { person: SandboxPerson; structureId: string }): string {
  const structure = structureOf(m.structureId);
  const mailboxes: Array<Record<string, unknown>> = [];
  domains.forEach((d, i) => {
    mailboxes.push(
      {
        address: `${SANDBOX_LOCALS.autoreply}@${d}`,
        type: 'APP',
        created: '2023-01-01',
        test: true,
        structure,
        responsible: { name: 'Service informatique' },
        description: 'Réponse automatique',
      },
      {
        address: `${SANDBOX_LOCALS.test}@${d}`,
        type: 'ORG',
        created: '2023-01-01',
        test: true,
        structure,
        responsible: { name: 'Équipe messagerie' },
        description: 'Recette interopérabilité',
      },
      {
        address: `${SANDBOX_LOCALS.org}@${d}`,
        type: 'ORG',
        created: '2022-01-01',
        structure,
        responsible: { name: 'Cadre de santé' },
        description: 'Secrétariat',
      },
      {
        address: `${SANDBOX_LOCALS.app}@${d}`,
        type: 'APP',
        created: '2022-01-01',
        structure,
        responsible: { name: 'Service informatique' },
        description: 'Logiciel de dossier patient',
      },
    );
    if (i === 0) {
      mailboxes.push(
        {
          address: `${m.person.first}.${m.person.last}@${d}`.toLowerCase(),
          type: 'PER',
          created: '2025-03-01',
          holder: { idNat: m.person.idNat, lastName: m.person.last.toUpperCase(), firstName: m.person.first },
          structure,
        },
        {
          address: `${SANDBOX_LOCALS.suspended}@${d}`,
          type: 'ORG',
          created: '2022-01-01',
          structure,
          responsible: { name: 'Cadre de santé' },
          description: 'Service fermé',
          status: 'suspended',
          suspension: { at: '2025-01-01', reason: 'service fermé' },
        },
      );
    }
  });
  return `# Generated for a simulated operator (sandbox/gate-registry.ts).\n${stringify({ version: 1, mailboxes }, { lineWidth: 0 })}`;
}
