// TM5.1P (EX_LPS_0300, §6.8.3): each managed domain publishes four SRV records (RFC 2782,
// RFC 6186) that LPS read to configure a mailbox: `_submission._tcp` and `_imap._tcp`,
// priority 10 for the PSC entry points (PER/ORG mailboxes) and 20 for the AUTH-CLI ones
// (APP mailboxes) — an MSSanté meaning, not a fallback order —, ports 587 and 143, and one
// weight (100 by default) identical on all four. This module says what is missing or wrong
// and gives the exact zone lines to publish.
import { promises as dns } from 'node:dns';

export interface EntryPoints {
  imap: { psc: string; authCli: string };
  submission: { psc: string; authCli: string };
  weight: number;
}

export interface SrvRecord {
  name: string;
  priority: number;
  weight: number;
  port: number;
  target: string;
}

export type ProblemKind = 'missing' | 'wrong-port' | 'wrong-target' | 'wrong-weight' | 'unequal-weights' | 'unexpected' | 'lookup-failed';

export interface Problem {
  kind: ProblemKind;
  message: string;
}

export interface DomainReport {
  domain: string;
  ok: boolean;
  /** A DNS failure other than "no such record": the answer is unknown, retry later. */
  temporary: boolean;
  found: SrvRecord[];
  problems: Problem[];
  zoneLines: string[];
}

export interface SrvResolver {
  resolveSrv(name: string): Promise<Array<{ priority: number; weight: number; port: number; name: string }>>;
}

const SERVICES = [
  { label: '_submission._tcp', port: 587, hosts: (ep: EntryPoints) => ep.submission },
  { label: '_imap._tcp', port: 143, hosts: (ep: EntryPoints) => ep.imap },
] as const;

/** §6.8.3: priority 10 is the PSC (XOAUTH2) entry point, 20 the AUTH-CLI one. */
export const PSC_PRIORITY = 10;
export const AUTH_CLI_PRIORITY = 20;

const fqdn = (name: string): string => name.toLowerCase().replace(/\.$/, '');

/** EX_LPS_0300: the four records a domain must publish. */
export function expectedRecords(domain: string, ep: EntryPoints): SrvRecord[] {
  return SERVICES.flatMap((s) => [
    { name: `${s.label}.${fqdn(domain)}`, priority: PSC_PRIORITY, weight: ep.weight, port: s.port, target: fqdn(s.hosts(ep).psc) },
    { name: `${s.label}.${fqdn(domain)}`, priority: AUTH_CLI_PRIORITY, weight: ep.weight, port: s.port, target: fqdn(s.hosts(ep).authCli) },
  ]);
}

export function zoneLine(r: SrvRecord, ttl = 3600): string {
  return `${r.name}. ${ttl} IN SRV ${r.priority} ${r.weight} ${r.port} ${r.target}.`;
}

const show = (r: SrvRecord): string => `${r.name} SRV ${r.priority} ${r.weight} ${r.port} ${r.target}`;

const NO_RECORD = new Set(['ENOTFOUND', 'ENODATA', 'NXDOMAIN', 'ENONAME']);

export async function checkDomain(domain: string, ep: EntryPoints, resolver: SrvResolver): Promise<DomainReport> {
  const expected = expectedRecords(domain, ep);
  const problems: Problem[] = [];
  const found: SrvRecord[] = [];
  let temporary = false;
  for (const name of [...new Set(expected.map((r) => r.name))]) {
    try {
      const answers = await resolver.resolveSrv(name);
      for (const a of answers) found.push({ name, priority: a.priority, weight: a.weight, port: a.port, target: fqdn(a.name) });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? '';
      if (!NO_RECORD.has(code)) {
        temporary = true;
        problems.push({ kind: 'lookup-failed', message: `${name}: DNS lookup failed (${code || (err as Error).message}); the records could not be checked` });
      }
    }
  }
  if (!temporary) {
    for (const want of expected) {
      const candidates = found.filter((f) => f.name === want.name && f.priority === want.priority);
      const match = candidates.find((f) => f.target === want.target) ?? candidates[0];
      if (!match) {
        problems.push({ kind: 'missing', message: show(want) }); // printed as "missing: <record>"
        continue;
      }
      if (match.target !== want.target) problems.push({ kind: 'wrong-target', message: `${show(match)}: target ${match.target}, expected ${want.target}` });
      if (match.port !== want.port) problems.push({ kind: 'wrong-port', message: `${show(match)}: port ${match.port}, expected ${want.port}` });
      if (match.weight !== want.weight)
        problems.push({ kind: 'wrong-weight', message: `${show(match)}: weight ${match.weight}, expected ${want.weight} (auth.entryPoints.weight)` });
    }
    for (const f of found) {
      if (f.priority !== PSC_PRIORITY && f.priority !== AUTH_CLI_PRIORITY) {
        problems.push({
          kind: 'unexpected',
          message: `${show(f)}: priority ${f.priority} means nothing to an MSSanté LPS (10: PSC entry point, 20: AUTH-CLI); remove it`,
        });
      }
    }
    // EX_LPS_0300: "la valeur retenue [doit être] la même pour les 4 entrées".
    const weights = new Set(found.map((f) => f.weight));
    if (weights.size > 1)
      problems.push({ kind: 'unequal-weights', message: `the SRV records carry different weights (${[...weights].join(', ')}); all four must be equal` });
  }
  return { domain: fqdn(domain), ok: problems.length === 0, temporary, found, problems, zoneLines: expected.map((r) => zoneLine(r)) };
}

/** Node's resolver, on the given servers (`IP`, `IP:PORT`, `[IPv6]:PORT`) or the system's. */
export function srvResolver(servers: string[], timeoutMs = 3000): SrvResolver {
  const resolver = new dns.Resolver({ timeout: timeoutMs, tries: 2 });
  if (servers.length > 0) resolver.setServers(servers);
  return resolver;
}
