// What a simulated operator's configuration says about the ANS side when it runs in the
// sandbox: the liste blanche host, SIPIL and the Annuaire on loopback instead of the ANS's
// addresses (the rest is the operator's own, operator-node.ts).
import type { ConfigInput } from '../src/config/schema.js';
import type { SandboxEndpoints } from './manifest.js';

export function sandboxServices(c: ConfigInput, endpoints: SandboxEndpoints): void {
  if (endpoints.whitelist) c.whitelist = { ...c.whitelist, url: endpoints.whitelist.url };
  if (endpoints.sipil) c.stats = { ...c.stats, sipil: { ...c.stats?.sipil, postFileUrl: endpoints.sipil.postFile, getReportUrl: endpoints.sipil.getReport } };
  if (endpoints.annuaire) c.annuaire = { ...c.annuaire, feedUrl: endpoints.annuaire.feedUrl, reportUrl: endpoints.annuaire.reportUrl };
}
