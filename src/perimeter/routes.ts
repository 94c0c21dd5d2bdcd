// Where Postfix would send mail for a domain, as its trivial-rewrite resolver decides it
// (ADDRESS_CLASS_README, transport(5), postconf(5)), read from the site's own configuration:
//   1. transport_maps, by recipient: the full address, the domain, its parents (.parent),
//      then `*` (pattern tables: the full address only) — whatever the domain's class;
//   2. otherwise the domain's address class: mydestination (local_transport),
//      virtual_alias_domains (no mailbox: refused unless aliased), virtual_mailbox_domains
//      (virtual_transport), relay_domains (relay_transport), any other domain (by sender:
//      sender_dependent_default_transport_maps, then default_transport);
//   3. the next hop: the transport's own, else (relay and default classes) by sender
//      sender_dependent_relayhost_maps, then relayhost, else the domain itself.
// Senders matter only in step 2's default class and step 3, so they are grouped by what
// they lead to: a few lookups however large the registry.
import { isPatternTable, isTable, listItems, type PostfixConfig } from './postfix-config.js';

export interface Route {
  transport: string;
  nexthop: string;
  /** The setting that decided the transport (transport_maps, relay_domains, default_transport…). */
  via: string;
}

export interface DomainRoutes {
  domain: string;
  /** Each distinct route with the senders that take it ('' is the null sender). */
  routes: Array<{ route: Route; senders: string[] }>;
}

const PARAMS = [
  'transport_maps',
  'mydestination',
  'virtual_alias_domains',
  'virtual_mailbox_domains',
  'relay_domains',
  'parent_domain_matches_subdomains',
  'local_transport',
  'virtual_transport',
  'relay_transport',
  'default_transport',
  'sender_dependent_default_transport_maps',
  'empty_address_default_transport_maps_lookup_key',
  'sender_dependent_relayhost_maps',
  'empty_address_relayhost_maps_lookup_key',
  'relayhost',
];

/** `transport:nexthop`, either part possibly empty. */
function split(value: string): { transport: string; nexthop: string } {
  const colon = value.indexOf(':');
  return colon < 0 ? { transport: value.trim(), nexthop: '' } : { transport: value.slice(0, colon).trim(), nexthop: value.slice(colon + 1).trim() };
}

/** Parent domains, nearest first: a.b.example.fr → b.example.fr, example.fr, fr. */
function parents(domain: string): string[] {
  const labels = domain.split('.');
  return labels.slice(1).map((_, i) => labels.slice(i + 1).join('.'));
}

/** For each key in order, each table in order: the first value found (maps_find's order). */
function firstFound(pf: PostfixConfig, tables: readonly string[], keysOf: (fullOnly: boolean) => Map<string, string[]>): Map<string, string> {
  const answers = tables.map((t) => {
    const keys = keysOf(isPatternTable(t));
    return { keys, found: pf.lookup(t, [...new Set([...keys.values()].flat())]) };
  });
  const result = new Map<string, string>();
  const subjects = answers[0] ? [...answers[0].keys.keys()] : [];
  for (const subject of subjects) {
    const maxKeys = Math.max(...answers.map((a) => a.keys.get(subject)?.length ?? 0));
    search: for (let k = 0; k < maxKeys; k++) {
      for (const a of answers) {
        const key = a.keys.get(subject)?.[k];
        const value = key === undefined ? undefined : a.found.get(key);
        if (value !== undefined) {
          result.set(subject, value);
          break search;
        }
      }
    }
  }
  return result;
}

/** Domains of a list parameter (mydestination, relay_domains…): literal items and tables. */
function inDomainList(pf: PostfixConfig, value: string, domains: readonly string[], parentMatch: boolean): Set<string> {
  const items = listItems(value);
  const literals = items.filter((i) => !isTable(i)).map((i) => i.toLowerCase());
  const tables = items.filter(isTable);
  const hit = new Set<string>();
  for (const d of domains) {
    if (literals.some((l) => l === d || (l.startsWith('.') && d.endsWith(l)) || (parentMatch && d.endsWith(`.${l}`)))) hit.add(d);
  }
  const rest = domains.filter((d) => !hit.has(d));
  const keysOf = (d: string): string[] => [d, ...(parentMatch ? parents(d) : []), ...parents(d).map((p) => `.${p}`)];
  for (const t of tables) {
    const found = pf.lookup(t, rest.flatMap(keysOf));
    for (const d of rest) if (keysOf(d).some((k) => found.has(k))) hit.add(d);
  }
  return hit;
}

export function resolveRoutes(pf: PostfixConfig, domains: readonly string[], senders: readonly string[]): DomainRoutes[] {
  const p = pf.params(PARAMS);
  const list = (name: string): string[] => listItems(p[name] ?? '');
  const parentMatch = listItems(p.parent_domain_matches_subdomains ?? '').includes('relay_domains');
  const ds = [...new Set(domains.map((d) => d.toLowerCase()))];

  // 1. transport_maps by recipient (postmaster@domain stands for any local part).
  const byRecipient = firstFound(
    pf,
    list('transport_maps'),
    (fullOnly) => new Map(ds.map((d) => [d, fullOnly ? [`postmaster@${d}`] : [`postmaster@${d}`, d, ...parents(d).map((x) => `.${x}`), '*']])),
  );

  // 2. Address classes.
  const local = inDomainList(pf, p.mydestination ?? '', ds, false);
  const alias = inDomainList(pf, p.virtual_alias_domains ?? '', ds, false);
  const mailbox = inDomainList(pf, p.virtual_mailbox_domains ?? '', ds, false);
  const relay = inDomainList(pf, p.relay_domains ?? '', ds, parentMatch);

  // Sender side: the default class's transport, and the relay host.
  const senderKeys = (emptyKey: string) => (fullOnly: boolean) =>
    new Map(senders.map((s) => [s, s === '' ? [emptyKey] : fullOnly ? [s] : [s, `@${s.slice(s.lastIndexOf('@') + 1)}`]]));
  const sdd = firstFound(pf, list('sender_dependent_default_transport_maps'), senderKeys(p.empty_address_default_transport_maps_lookup_key || '<>'));
  const sdr = firstFound(pf, list('sender_dependent_relayhost_maps'), senderKeys(p.empty_address_relayhost_maps_lookup_key || '<>'));

  // Senders that lead to the same transport and relay host, together.
  const groups = new Map<string, string[]>();
  for (const sender of senders) {
    const key = `${sdd.get(sender) ?? ''}\n${sdr.get(sender) ?? ''}`;
    const group = groups.get(key);
    if (group) group.push(sender);
    else groups.set(key, [sender]);
  }

  return ds.map((domain) => {
    const routes = new Map<string, { route: Route; senders: string[] }>();
    for (const group of groups.values()) {
      const sender = group[0] as string;
      let chosen: { transport: string; nexthop: string; via: string };
      const cls = local.has(domain) ? 'local' : alias.has(domain) ? 'alias' : mailbox.has(domain) ? 'virtual' : relay.has(domain) ? 'relay' : 'default';
      const classTransport =
        cls === 'local'
          ? { ...split(p.local_transport ?? ''), via: 'mydestination (local_transport)' }
          : cls === 'alias'
            ? { transport: 'error', nexthop: 'virtual alias domain without this alias', via: 'virtual_alias_domains' }
            : cls === 'virtual'
              ? { ...split(p.virtual_transport ?? ''), via: 'virtual_mailbox_domains (virtual_transport)' }
              : cls === 'relay'
                ? { ...split(p.relay_transport ?? ''), via: 'relay_domains (relay_transport)' }
                : sdd.has(sender)
                  ? { ...split(sdd.get(sender) as string), via: 'sender_dependent_default_transport_maps' }
                  : { ...split(p.default_transport ?? ''), via: 'default_transport' };
      const mapped = byRecipient.get(domain);
      if (mapped !== undefined) {
        const m = split(mapped);
        chosen = { transport: m.transport || classTransport.transport, nexthop: m.nexthop, via: 'transport_maps' };
      } else chosen = classTransport;
      // 3. The next hop.
      if (!chosen.nexthop) {
        const relayhost = cls === 'relay' || cls === 'default' ? (sdr.get(sender) ?? p.relayhost ?? '') : '';
        chosen = {
          ...chosen,
          nexthop: relayhost || domain,
          ...(relayhost ? { via: `${chosen.via}, ${sdr.has(sender) ? 'sender_dependent_relayhost_maps' : 'relayhost'}` } : {}),
        };
      }
      const key = `${chosen.transport}\n${chosen.nexthop}\n${chosen.via}`;
      const entry = routes.get(key) ?? { route: chosen, senders: [] };
      entry.senders.push(...group);
      routes.set(key, entry);
    }
    return { domain, routes: [...routes.values()] };
  });
}
