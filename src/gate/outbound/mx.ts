// §6.7.2.1 step 1: the receiving servers of a domain from DNS — MX records by preference,
// equal preferences in random order (RFC 5321 §5.1), the domain's own address when it has
// no MX (implicit MX), and no delivery at all for a null MX (RFC 7505). Only the domain's
// own MX hosts are ever used: no relay, no smarthost (EX_3.2_5040).
import { promises as dns } from 'node:dns';
import { refusal, type Refusal } from '../reply.js';

export interface MxTarget {
  /** The MX host name (the domain itself for an implicit MX). */
  host: string;
  address: string;
  priority: number;
}

export type MxResult = { ok: true; targets: MxTarget[] } | { ok: false; refusal: Refusal };

export interface MxResolverOptions {
  /** "127.0.0.1", "127.0.0.1:5353"; empty: the system's resolvers. */
  servers: readonly string[];
  timeoutMs: number;
}

const PERMANENT = new Set(['ENOTFOUND', 'NXDOMAIN']);
const NO_DATA = new Set(['ENODATA', 'ENOTFOUND_NODATA']);

function shuffle<T>(list: T[]): T[] {
  for (let i = list.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [list[i], list[j]] = [list[j] as T, list[i] as T];
  }
  return list;
}

export class MxResolver {
  private readonly resolver: dns.Resolver;

  constructor(opts: MxResolverOptions) {
    this.resolver = new dns.Resolver({ timeout: opts.timeoutMs, tries: 2 });
    if (opts.servers.length > 0) this.resolver.setServers([...opts.servers]);
  }

  private async addresses(host: string): Promise<string[]> {
    const settle = async (p: Promise<string[]>): Promise<string[]> =>
      p.catch((err: NodeJS.ErrnoException) => (NO_DATA.has(err.code ?? '') ? [] : Promise.reject(err)));
    const [v4, v6] = await Promise.all([settle(this.resolver.resolve4(host)), settle(this.resolver.resolve6(host)).catch(() => [])]);
    return [...v4, ...v6];
  }

  async resolve(domain: string): Promise<MxResult> {
    let records: Array<{ exchange: string; priority: number }>;
    try {
      records = await this.resolver.resolveMx(domain);
    } catch (thrown) {
      const code = (thrown as NodeJS.ErrnoException).code ?? 'ERROR';
      if (PERMANENT.has(code))
        return { ok: false, refusal: refusal('GATE_OUT_NO_DOMAIN', 550, '5.1.2', `Domain ${domain} does not exist in the DNS (no MX, no address)`) };
      if (!NO_DATA.has(code))
        return { ok: false, refusal: refusal('GATE_OUT_DNS_TEMPORARY', 451, '4.4.3', `DNS lookup of the MX of ${domain} failed (${code}); will try again`) };
      records = [];
    }
    if (records.some((r) => r.exchange === '' || r.exchange === '.')) {
      return { ok: false, refusal: refusal('GATE_OUT_NULL_MX', 556, '5.1.10', `Domain ${domain} accepts no mail (null MX, RFC 7505)`) };
    }
    // Implicit MX: the domain's own address records (RFC 5321 §5.1).
    const hosts = records.length > 0 ? groupByPriority(records) : [{ exchange: domain, priority: 0 }];
    const targets: MxTarget[] = [];
    let lookupFailure = '';
    for (const r of hosts) {
      try {
        for (const address of await this.addresses(r.exchange)) targets.push({ host: r.exchange, address, priority: r.priority });
      } catch (err) {
        lookupFailure = `${r.exchange}: ${(err as NodeJS.ErrnoException).code ?? 'ERROR'}`;
      }
    }
    if (targets.length === 0) {
      if (lookupFailure)
        return {
          ok: false,
          refusal: refusal('GATE_OUT_DNS_TEMPORARY', 451, '4.4.3', `No address for the mail servers of ${domain} (${lookupFailure}); will try again`),
        };
      return { ok: false, refusal: refusal('GATE_OUT_NO_DOMAIN', 550, '5.1.2', `Domain ${domain} has no mail server address in the DNS`) };
    }
    return { ok: true, targets };
  }
}

function groupByPriority(records: Array<{ exchange: string; priority: number }>): Array<{ exchange: string; priority: number }> {
  const sorted = [...records].sort((a, b) => a.priority - b.priority);
  const out: typeof records = [];
  for (let i = 0; i < sorted.length;) {
    const p = sorted[i]?.priority;
    const same = sorted.filter((r) => r.priority === p);
    out.push(...shuffle(same));
    i += same.length;
  }
  return out;
}
