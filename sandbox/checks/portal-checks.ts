// Self-check step for operator A's professionals' portal: a sign-in through the sandbox
// PSC's authorization endpoint and test login page (authorization code flow with PKCE),
// then the "my mailboxes" page of that professional. HTTP only: no browser needed here (the
// browser tests drive the same pages with Chromium).
import fs from 'node:fs';
import { SANDBOX_MAILBOXES_A } from '../annuaire/registry-a.js';
import { PortalClient } from '../portal-client.js';
import { fail, pass, skip, type SelfCheckStep } from './check.js';

export const portalChecks: SelfCheckStep[] = [
  {
    name: 'portal: a professional signs in with the sandbox PSC (code flow, PKCE, test login page) and sees their mailboxes',
    async run(ctx) {
      const portal = ctx.sandbox.endpoints.portal;
      const psc = ctx.sandbox.endpoints.psc;
      if (!portal || !psc) return skip('the sandbox runs no portal (no PSC or no operator A)');
      const client = new PortalClient(fs.readFileSync(psc.ca, 'utf8'));
      const t = Date.now();
      const page = await client.signIn(portal.url, SANDBOX_MAILBOXES_A.holder);
      const ms = Date.now() - t;
      const signedIn = page.status === 200 && page.url === `${portal.url}/mes-boites`;
      if (!signedIn) return fail(`sign-in ended at ${page.url} (HTTP ${page.status}) after ${page.visited.length} steps`);
      if (!page.html.includes(SANDBOX_MAILBOXES_A.person) || !page.html.includes('Titulaire'))
        return fail(`${page.url} does not list ${SANDBOX_MAILBOXES_A.person} as Titulaire`);
      return pass(
        `${portal.url}: ${SANDBOX_MAILBOXES_A.holder} signed in through the PSC test login page in ${ms} ms (${page.visited.length} steps); "Mes boîtes aux lettres" lists ${SANDBOX_MAILBOXES_A.person} (Titulaire)`,
      );
    },
  },
];
