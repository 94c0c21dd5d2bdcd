// The liste blanche as the gates and the submission checks query it: a multimap both ways
// (EX_LBL_5010: a DN may serve several domains, a domain may have several DNs). Lookups are
// Map gets on lowercase domains and canonical DNs (dn.ts caches the canonical form).
import { canonicalDn, type Dn } from '../pki/dn.js';
import type { SkippedEntry, WhitelistContent, WhitelistEntry } from './content.js';

const NONE: readonly never[] = Object.freeze([]);

export class WhitelistIndex {
  readonly generated: string;
  /** `generated` in milliseconds since the epoch. */
  readonly generatedAt: number;
  readonly versionFormat?: string;
  readonly skipped: readonly SkippedEntry[];
  /** domain → DNs as written in the list (one per distinct canonical DN). */
  private readonly dnsByDomain = new Map<string, string[]>();
  /** domain → canonical DNs, for the DN ↔ domain check. */
  private readonly canonicalByDomain = new Map<string, Set<string>>();
  /** canonical DN → domains. */
  private readonly domainsByDn = new Map<string, string[]>();
  private readonly entryList: WhitelistEntry[] = [];

  constructor(content: WhitelistContent) {
    this.generated = content.generated;
    this.generatedAt = content.generatedAt;
    if (content.versionFormat !== undefined) this.versionFormat = content.versionFormat;
    this.skipped = content.skipped;
    for (const e of content.entries) {
      let canon = this.canonicalByDomain.get(e.domain);
      if (!canon) {
        canon = new Set();
        this.canonicalByDomain.set(e.domain, canon);
        this.dnsByDomain.set(e.domain, []);
      }
      // "A domain appears once per DN": a repeated (domain, DN) pair adds nothing.
      if (canon.has(e.dnCanonical)) continue;
      canon.add(e.dnCanonical);
      (this.dnsByDomain.get(e.domain) as string[]).push(e.dn);
      const domains = this.domainsByDn.get(e.dnCanonical);
      if (domains) domains.push(e.domain);
      else this.domainsByDn.set(e.dnCanonical, [e.domain]);
      this.entryList.push(e);
    }
  }

  get domainCount(): number {
    return this.dnsByDomain.size;
  }

  get dnCount(): number {
    return this.domainsByDn.size;
  }

  /** Distinct (domain, DN) pairs. */
  get entries(): readonly WhitelistEntry[] {
    return this.entryList;
  }

  hasDomain(domain: string): boolean {
    return this.dnsByDomain.has(domain.toLowerCase());
  }

  /** DNs allowed for a domain, as written in the list (EX_LBL_5010: possibly several). */
  dnsOf(domain: string): readonly string[] {
    return this.dnsByDomain.get(domain.toLowerCase()) ?? NONE;
  }

  /** Domains a DN may serve (EX_LBL_5010: possibly several). Accepts a DN string or a parsed Dn. */
  domainsOf(dn: string | Dn): readonly string[] {
    const key = typeof dn === 'string' ? safeCanonical(dn) : dn.canonical;
    return key === undefined ? NONE : (this.domainsByDn.get(key) ?? NONE);
  }

  hasDn(dn: string | Dn): boolean {
    return this.domainsOf(dn).length > 0;
  }

  /** Is this DN listed for this domain? The check of TM3.1P/TM3.2P (DN ↔ domain). */
  allows(dn: string | Dn, domain: string): boolean {
    const key = typeof dn === 'string' ? safeCanonical(dn) : dn.canonical;
    return key !== undefined && (this.canonicalByDomain.get(domain.toLowerCase())?.has(key) ?? false);
  }

  domains(): IterableIterator<string> {
    return this.dnsByDomain.keys();
  }
}

function safeCanonical(dn: string): string | undefined {
  try {
    return canonicalDn(dn);
  } catch {
    return undefined; // an unparsable DN is in no list
  }
}
