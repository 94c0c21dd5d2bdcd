// The routing check (EX_3.2_5040, EX_3.2_5060: mail for another operator leaves through the
// outbound gate only): for every domain of the liste blanche that is not ours, the route
// Postfix would take (routes.ts) for our senders — each mailbox of the registry, one address
// per domain of ours standing for any other, and the null sender of the notifications
// Postfix returns. A route counts as the gate's when its transport is an `lmtp` service of
// master.cf and its next hop is the gate's listener (gates.out.listen). Run by
// `mss-sidecar postfix check-routes`, `status`, after each `whitelist sync`, and by
// scripts/postfix-apply.sh.
import type { Config } from '../config/schema.js';
import { formatListen, type ListenSpec } from '../config/listen-spec.js';
import type { Logger } from '../log.js';
import { loadRegistryFrom } from '../registry/open.js';
import { openWhitelistHolder } from '../whitelist/holder.js';
import { PostfixConfig } from './postfix-config.js';
import { resolveRoutes, type Route } from './routes.js';

export interface RouteProblem {
  domain: string;
  route: Route;
  /** The senders that take this route ('' is the null sender), at most a few shown. */
  senders: string[];
  senderCount: number;
}

export interface RouteReport {
  /** The next hop a route must have: the outbound gate's listener. */
  gate: string;
  domainsChecked: number;
  sendersChecked: number;
  problems: RouteProblem[];
}

/** The LMTP next hops Postfix accepts for the gate's listener. */
function gateHops(gate: ListenSpec): Set<string> {
  if (gate.kind === 'unix') return new Set([`unix:${gate.path}`]);
  return new Set([`inet:${gate.host}:${gate.port}`, `${gate.host}:${gate.port}`, `[${gate.host}]:${gate.port}`, `inet:[${gate.host}]:${gate.port}`]);
}

export function checkRoutes(
  pf: PostfixConfig,
  o: { listed: Iterable<string>; ours: readonly string[]; senders: readonly string[]; gate: ListenSpec },
): RouteReport {
  const ours = new Set(o.ours.map((d) => d.toLowerCase()));
  const domains = [...new Set([...o.listed].map((d) => d.toLowerCase()))].filter((d) => !ours.has(d)).sort();
  const senders = [...new Set(['', ...o.ours.map((d) => `postmaster@${d.toLowerCase()}`), ...o.senders.map((s) => s.toLowerCase())])];
  const hops = gateHops(o.gate);
  const lmtp = new Map<string, boolean>();
  const isLmtp = (transport: string): boolean => {
    if (!lmtp.has(transport)) lmtp.set(transport, pf.service(`${transport}/unix`)?.[7] === 'lmtp');
    return lmtp.get(transport) as boolean;
  };
  const problems: RouteProblem[] = [];
  for (const d of resolveRoutes(pf, domains, senders)) {
    for (const { route, senders: who } of d.routes) {
      if (hops.has(route.nexthop) && isLmtp(route.transport)) continue;
      problems.push({ domain: d.domain, route, senders: who.slice(0, 5), senderCount: who.length });
    }
  }
  return { gate: formatListen(o.gate), domainsChecked: domains.length, sendersChecked: senders.length, problems };
}

/** One line per problem, for people. */
export function describeProblem(p: RouteProblem, sendersChecked: number): string {
  const who =
    p.senderCount === sendersChecked
      ? 'every sender'
      : `${p.senderCount} sender(s): ${p.senders.map((s) => s || '<>').join(', ')}${p.senderCount > p.senders.length ? ', …' : ''}`;
  return `${p.domain}: ${p.route.transport}:${p.route.nexthop} (${p.route.via}) for ${who}, not the outbound gate`;
}

/** The check on this configuration: the verified liste blanche in use, the registry, `postfixConfigDir`. */
export async function checkConfiguredRoutes(config: Config, log: Logger, postfixConfigDir?: string): Promise<RouteReport> {
  const holder = await openWhitelistHolder(config, log, { watch: false, pollMs: 0 });
  try {
    const index = holder.require();
    const registry = loadRegistryFrom(config);
    const senders = registry
      .all()
      .filter((b) => b.status !== 'deleted')
      .map((b) => b.address);
    const pf = new PostfixConfig(postfixConfigDir ?? config.gates.out.postfixConfigDir);
    return checkRoutes(pf, { listed: index.domains(), ours: config.operator.domains, senders, gate: config.gates.out.listen.endpoint });
  } finally {
    holder.close();
  }
}

/**
 * After `whitelist sync`: the new list may bring domains a site route sends elsewhere. Loud
 * (an error log line and stderr) when a route bypasses the gate; never changes the sync's
 * outcome. Only with the outbound gate on.
 */
export async function warnAboutRoutes(config: Config, log: Logger): Promise<void> {
  if (!config.gates.out.enabled) return;
  try {
    const r = await checkConfiguredRoutes(config, log);
    for (const p of r.problems) {
      const line = describeProblem(p, r.sendersChecked);
      log.error({ code: 'ROUTE_AROUND_GATE', domain: p.domain, transport: p.route.transport, nexthop: p.route.nexthop, via: p.route.via }, line);
      process.stderr.write(`warning: ${line}\n`);
    }
  } catch (err) {
    log.warn({ err }, 'routes to the listed domains not checked: run `mss-sidecar postfix check-routes`');
  }
}
