// The TM1.1.1P feed built from the registry: one message per managed domain with the
// exhaustive list of its published mailboxes ("annule et remplace", EX_1.1.1_5010), and the
// mailboxes left out with the rule that says why.
import type { Bal, Registry } from '../registry/registry.js';
import { publicationOf } from '../registry/publication.js';
import type { BalRuntime } from '../registry/runtime.js';
import { recordOf, type FeedRecord } from './record.js';

export interface DomainFeed {
  domain: string;
  records: FeedRecord[];
}

export type ExclusionReason = 'test' | 'suspended' | 'deleted' | 'usager' | 'unmanaged-domain';

export interface Exclusion {
  bal: string;
  domain: string;
  reason: ExclusionReason;
  rule: string;
}

export interface Feed {
  domains: DomainFeed[];
  excluded: Exclusion[];
}

/** Patient (usager) mailboxes: `<INS>@patient.mssante.fr` and its subdomains (§4.3). */
const USAGER_DOMAIN = /(?:^|\.)patient\.mssante\.fr$/;

export function isUsagerDomain(domain: string): boolean {
  return USAGER_DOMAIN.test(domain);
}

function exclusionOf(bal: Bal, managed: ReadonlySet<string>): Omit<Exclusion, 'bal' | 'domain'> | undefined {
  // EX_PBA_5010: every BAL is published except test BALs and usager BALs.
  if (isUsagerDomain(bal.domain)) return { reason: 'usager', rule: 'EX_PBA_5010' };
  // EX_PBA_5230: never publish test BALs.
  if (bal.test) return { reason: 'test', rule: 'EX_PBA_5230' };
  // EX_PBA_5140: suspended or deleted BALs are no longer published (the domain's feed
  // replaces the previous one, so leaving them out removes them from the Annuaire).
  if (bal.status === 'suspended') return { reason: 'suspended', rule: 'EX_PBA_5140' };
  if (bal.status === 'deleted') return { reason: 'deleted', rule: 'EX_PBA_5140' };
  if (!managed.has(bal.domain)) return { reason: 'unmanaged-domain', rule: 'RG_CTR_001' };
  return undefined;
}

/**
 * `runtime[i]` belongs to `registry.all()[i]` (depublication for inactivity). `domains`
 * are the managed domains to feed, each getting a message even when it has no mailbox left
 * (EX_PBA_5010: a domain with no published BAL is emptied in the Annuaire).
 * EX_PBA_5030: one record per registry entry, and the registry holds no distribution
 * list and no address twice (RG_CTR_044 is checked again by validate.ts).
 */
export function buildFeed(registry: Registry, runtime: readonly BalRuntime[], domains: readonly string[]): Feed {
  const managed = new Set(domains.map((d) => d.toLowerCase()));
  const byDomain = new Map<string, FeedRecord[]>([...managed].map((d) => [d, []]));
  const excluded: Exclusion[] = [];
  const all = registry.all();
  for (let i = 0; i < all.length; i++) {
    const bal = all[i] as Bal;
    const out = exclusionOf(bal, managed);
    if (out) {
      excluded.push({ bal: bal.address, domain: bal.domain, ...out });
      continue;
    }
    (byDomain.get(bal.domain) as FeedRecord[]).push(recordOf(bal, publicationOf(bal, runtime[i] ?? {})));
  }
  return { domains: [...byDomain].map(([domain, records]) => ({ domain, records })), excluded };
}

/** A domain's message with no mailbox: EX_GBM_6020 / EX_PBA_5010, before it leaves the liste blanche. */
export function withdrawalFeed(domain: string): Feed {
  return { domains: [{ domain: domain.toLowerCase(), records: [] }], excluded: [] };
}
