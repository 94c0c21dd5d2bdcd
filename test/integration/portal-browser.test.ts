// The professionals' portal in a real browser (Debian's Chromium through playwright-core),
// on the sandbox as `make sandbox` runs it: the ANS side (liste blanche, PSC with its test
// login page, Annuaire) and operator A deployed with its real Postfix and Dovecot and its
// `serve` (API LPS fronts, checker, portal). The end-to-end proof: a delegate added in the
// portal logs in over IMAP with a PSC token through Dovecot and reads the mailbox, and no
// longer can once removed; EX_GBM_5410 for a CAB; liste rouge in the next Annuaire feed;
// CSRF, an expired session and a forged identity refused. One screenshot per page.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { silentLogger } from '../../src/log.js';
import { activityOf, noticeKey } from '../../src/lifecycle/plan.js';
import { keyOf } from '../../src/portal/session/store.js';
import { SESSION_COOKIE } from '../../src/portal/respond.js';
import { loadConfig } from '../../src/config/load.js';
import { loadRegistryFrom } from '../../src/registry/open.js';
import { RuntimeFields } from '../../src/registry/runtime.js';
import { annuaireComponent } from '../../sandbox/annuaire/component.js';
import { SANDBOX_MAILBOXES_A } from '../../sandbox/annuaire/registry-a.js';
import type { CheckContext } from '../../sandbox/checks/check.js';
import { token } from '../../sandbox/checks/lps-checks.js';
import { lpsRead, lpsSend, waitForMail } from '../../sandbox/lps-exchange.js';
import type { SandboxManifest, SandboxOperatorEndpoints } from '../../sandbox/manifest.js';
import { operatorsComponentOf } from '../../sandbox/operators-component.js';
import { pscComponent } from '../../sandbox/psc-component.js';
import { startSandbox, type RunningSandbox } from '../../sandbox/run.js';
import { whitelistComponent } from '../../sandbox/whitelist-component.js';
import { httpsRequest } from '../../src/net/https-request.js';
import { openStore } from '../../src/store/open.js';
import { tracesDir } from '../../src/traces/config.js';
import { artifactsDir, launchChromium } from '../helpers/browser.js';
import { runCliAsync } from '../helpers/cli-async.js';
import { freshLoopback } from '../helpers/lps-stack.js';
import { tmpDir } from '../helpers/tmp.js';
import { traceLines } from '../helpers/traces.js';

const JEAN = SANDBOX_MAILBOXES_A.holder; // 810100000011, holder of jean.dupont@, responsible of the cardiology secretariat
const JULIE = '810100000077'; // co-holder of cabinet-moreau@
const MOREAU = '810100000066'; // its Responsable
const CLAIRE = '810100000088'; // no mailbox: made a delegate
const PER = SANDBOX_MAILBOXES_A.person;
const CAB = 'cabinet-moreau@ch-sandbox-a.mssante.fr';
const DOMAIN = 'ch-sandbox-a.mssante.fr';

let sandbox: RunningSandbox;
let manifest: SandboxManifest;
let a: SandboxOperatorEndpoints;
let portal: string;
let browser: Browser;
const shots = artifactsDir('portal-browser');
const timings: Array<{ page: string; ms: number }> = [];
const contexts: BrowserContext[] = [];
let shotNumber = 0;

before(async () => {
  sandbox = await startSandbox({
    dir: tmpDir('mss-portal-browser-'),
    log: silentLogger,
    components: [whitelistComponent, pscComponent, annuaireComponent, operatorsComponentOf(['A'])],
  });
  manifest = sandbox.manifest;
  const node = manifest.endpoints.operators?.nodes.A;
  assert.ok(node?.lps, `operator A runs with real mail servers: ${manifest.endpoints.operators?.unavailable ?? ''}`);
  a = node;
  portal = manifest.endpoints.portal?.url ?? '';
  assert.ok(portal, "the sandbox runs operator A's portal");
  browser = await launchChromium();
});

after(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  await browser?.close();
  await sandbox?.stop();
  const slowest = [...timings].sort((x, y) => y.ms - x.ms)[0];
  process.stdout.write(
    `# portal pages: ${timings.length} loads, median ${median(timings.map((t) => t.ms))} ms, slowest ${slowest?.page} ${slowest?.ms} ms; screenshots in ${shots}\n`,
  );
});

function median(xs: number[]): number {
  const s = [...xs].sort((p, q) => p - q);
  return s[Math.floor(s.length / 2)] ?? 0;
}

const config = () => loadConfig(a.config);
const registryFile = () => config().registry.file;
const traces = () => traceLines(tracesDir(config().traces, config().state.dir));
const mint = (idNat: string) => token({ sandbox: manifest } as CheckContext, idNat);
const mailboxUrl = (address: string, sub: string) => `${portal}/boites/${encodeURIComponent(address)}/${sub}`;

async function shot(page: Page, name: string): Promise<void> {
  shotNumber += 1;
  await page.screenshot({ path: path.join(shots, `${String(shotNumber).padStart(2, '0')}-${name}.png`), fullPage: true });
}

async function visit(page: Page, url: string): Promise<void> {
  const t = Date.now();
  await page.goto(url);
  timings.push({ page: new URL(url).pathname.replace(/%40[^/]+/, '@…'), ms: Date.now() - t });
}

/** A new browser profile signed in as `idNat` through the PSC test login page. */
async function signedIn(idNat: string, opts: { shots?: boolean } = {}): Promise<Page> {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, locale: 'fr-FR', viewport: { width: 1280, height: 800 } });
  contexts.push(context);
  const page = await context.newPage();
  await visit(page, portal);
  if (opts.shots) await shot(page, 'connexion');
  await page.getByRole('link', { name: 'Se connecter avec Pro Santé Connect' }).click();
  await page.waitForURL(/\/protocol\/openid-connect\/auth/);
  if (opts.shots) await shot(page, 'psc-page-de-connexion');
  const listed = page.locator(`input[name="idNat"][value="${idNat}"]`);
  if ((await listed.count()) > 0) await listed.check();
  else await page.fill('#other', idNat);
  await page.click('#psc-login');
  await page.waitForURL(/\/mes-boites$|\/$/);
  return page;
}

async function eventually<T>(probe: () => T | undefined, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`not seen within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function imapRead(mailbox: string, idNat: string, subject: string): Promise<{ login: string; message?: string }> {
  return lpsRead(a.lps?.imap ?? 0, mailbox, await mint(idNat), subject, freshLoopback());
}

test('EX_GBM_5413 EX_GBM_5414 (browser): a professional signs in through the sandbox PSC test login page and sees their mailboxes with their role', async () => {
  const page = await signedIn(JEAN, { shots: true });
  assert.equal(new URL(page.url()).pathname, '/mes-boites');
  const rows = page.locator('tbody tr');
  await assert.doesNotReject(rows.filter({ hasText: PER }).filter({ hasText: 'Titulaire' }).first().waitFor());
  assert.match(await page.locator('main').innerText(), /secretariat\.cardiologie@ch-sandbox-a\.mssante\.fr\s+organisationnelle\s+Responsable opérationnel/);
  await shot(page, 'mes-boites');
});

test('EX_GBM_5413 EX_GBM_5414 EX_LPS_0900 (browser, end to end): the holder adds a delegate; the delegate logs in over IMAP with a PSC token through Dovecot and reads the mailbox; removed, the login is refused', async () => {
  const subject = `portail délégation ${Date.now()}`;
  const sent = await lpsSend(a.lps?.submission ?? 0, PER, await mint(JEAN), [PER], subject, freshLoopback());
  assert.match(sent.login, /^235 /);
  assert.equal((await waitForMail(a.mailDir, subject, 30_000)).length, 1, 'in Dovecot');
  assert.match((await imapRead(PER, CLAIRE, subject)).login, /AUTHENTICATIONFAILED/, 'not a delegate yet');

  const page = await signedIn(JEAN);
  await visit(page, mailboxUrl(PER, 'delegations'));
  await page.fill('#idNat', CLAIRE);
  await page.fill('#name', 'Claire Fabre, secrétaire médicale');
  await page.getByRole('button', { name: 'Ajouter le délégué' }).click();
  await page.waitForSelector('.flash.ok');
  assert.match(await page.locator('.flash').innerText(), /810100000088 est désormais délégué\(e\)/);
  await shot(page, 'delegations');

  const read = await imapRead(PER, CLAIRE, subject);
  assert.match(read.login, /^a3 OK/, 'the delegate logs in through real Dovecot');
  assert.match(read.message ?? '', new RegExp(`Subject: ${subject}`), 'and reads the mailbox');
  // The checker records the login without making the login wait for it.
  const login = await eventually(() => traces().find((t) => t.action === 'login' && t.bal === PER && t.actor.id === CLAIRE && t.response.ok));
  assert.equal(login.actor.onBehalfOf, JEAN, 'a delegate acts for the holder (EX_GDT_5030)');

  await page.locator('tr', { hasText: CLAIRE }).getByRole('button', { name: 'Retirer' }).click();
  await page.waitForSelector('.flash.ok');
  assert.match(await page.locator('.flash').innerText(), /n'est plus délégué\(e\)/);
  assert.match((await imapRead(PER, CLAIRE, subject)).login, /AUTHENTICATIONFAILED/, 'removed: the IMAP login is refused');
});

test('EX_GBM_5410 (browser): a co-holder of a CAB changes the Responsable; a delegate cannot — the form is refused, nothing changes, the refusal is traced', async () => {
  const julie = await signedIn(JULIE);
  // Julie declares Claire as a delegate of the CAB, acting for her.
  await visit(julie, mailboxUrl(CAB, 'delegations'));
  await julie.fill('#idNat', CLAIRE);
  await julie.selectOption('#for', JULIE);
  await julie.getByRole('button', { name: 'Ajouter le délégué' }).click();
  await julie.waitForSelector('.flash.ok');
  await visit(julie, mailboxUrl(CAB, 'organisation'));
  assert.match(await julie.locator('main').innerText(), /Actuellement : Paul MOREAU \(810100000066\)/);
  await julie.selectOption('#resp-idNat', JULIE);
  await julie.getByRole('button', { name: 'Changer le responsable' }).click();
  await julie.waitForSelector('.flash.ok');
  assert.match(await julie.locator('main').innerText(), /Actuellement : Julie SIMON \(810100000077\)/);
  await shot(julie, 'cotitulaires-et-responsable');
  const cab = loadRegistryFrom(config()).get(CAB);
  assert.deepEqual(
    cab?.coHolders.map((c) => [c.idNat, c.responsible]),
    [
      [MOREAU, false],
      [JULIE, true],
    ],
  );

  const claire = await signedIn(CLAIRE);
  await visit(claire, mailboxUrl(CAB, 'organisation'));
  assert.match(await claire.locator('main').innerText(), /Vous êtes délégué\(e\) de cette boîte/);
  assert.equal(await claire.locator('form[action$="/responsable"]').count(), 0, 'no form offered to a delegate');
  const before = fs.readFileSync(registryFile(), 'utf8');
  // The form a co-holder gets, submitted from the delegate's browser with her session's token.
  const refused = claire.waitForNavigation();
  // (Page scripts are run by the test through the DevTools protocol; the portal itself serves none.)
  await claire.evaluate(`(() => {
    const f = document.createElement('form');
    f.method = 'post';
    f.action = location.pathname + '/responsable';
    const fields = { _csrf: document.querySelector('input[name="_csrf"]').value, idNat: '${CLAIRE}' };
    for (const [k, v] of Object.entries(fields)) {
      const i = document.createElement('input');
      i.type = 'hidden';
      i.name = k;
      i.value = v;
      f.append(i);
    }
    document.body.append(f);
    f.submit();
  })()`);
  const response = await refused;
  assert.equal(response?.status(), 403);
  assert.match(await claire.locator('main').innerText(), /un délégué ne peut déclarer ni délégué, ni cotitulaire, ni responsable/);
  await shot(claire, 'refus-delegue');
  assert.equal(fs.readFileSync(registryFile(), 'utf8'), before, 'nothing changed');
  const t = traces()
    .filter((r) => r.action === 'bal.responsible' && r.bal === CAB)
    .at(-1);
  assert.deepEqual([t?.actor.id, t?.request.requestedBy, t?.response.ok, t?.response.code], [CLAIRE, CLAIRE, false, 'REGISTRY_FORBIDDEN']);
});

test('EX_PBA_5040 EX_PBA_5050 (browser): liste rouge switched on by the holder appears as ListeRouge O in the next Annuaire feed', async () => {
  const cli = (...args: string[]) => runCliAsync(['--config', a.config, ...args]);
  const control = async (route: string, method = 'GET') => {
    const res = await fetch(new URL(route, manifest.endpoints.annuaire?.control), { method });
    return res.json() as Promise<{ mailboxes?: Array<Record<string, string>> }>;
  };
  const published = async () => (await control(`/directory?domain=${DOMAIN}`)).mailboxes?.find((m) => m.AdresseBAL === PER)?.ListeRouge;
  // Feeds go before 02:00 (Paris), at most daily: 00:30 or 01:30 Paris on the coming nights.
  const midnightUtc = Math.floor(Date.now() / 86_400_000) * 86_400_000;
  const night = (d: number) => new Date(midnightUtc + d * 86_400_000 - 30 * 60_000).toISOString();
  assert.equal((await cli('annuaire', 'publish', '--now', night(2))).status, 0);
  await control('/batch', 'POST');
  assert.equal(await published(), 'N');

  const page = await signedIn(JEAN);
  await visit(page, mailboxUrl(PER, 'liste-rouge'));
  await page.check('#lr-on');
  await page.getByRole('button', { name: 'Enregistrer mon choix' }).click();
  await page.waitForSelector('.flash.ok');
  assert.match(await page.locator('main').innerText(), /Cette boîte est inscrite en liste rouge, à votre demande/);
  await shot(page, 'liste-rouge');

  const next = await cli('annuaire', 'publish', '--now', night(3));
  assert.equal(next.status, 0, next.stdout + next.stderr);
  await control('/batch', 'POST');
  assert.equal(await published(), 'O', 'the next feed carries the choice');
});

test('EX_GBM_4440 EX_GBM_6010 (browser): a pending inactivity notice is shown with "I object / I still use it", which records a login and ends it', async () => {
  const store = openStore(config().state);
  try {
    const bal = loadRegistryFrom(config()).get(PER);
    assert.ok(bal);
    const runtime = new RuntimeFields(store);
    const activity = new Date(activityOf(bal, await runtime.get(PER))).toISOString();
    await store.set(
      noticeKey('delete', PER),
      JSON.stringify({ state: 'sent', activity, sentAt: new Date().toISOString(), scheduledFor: new Date(Date.now() + 60 * 86_400_000).toISOString() }),
    );
    const page = await signedIn(JEAN);
    await visit(page, `${portal}/avis`);
    assert.match(await page.locator('main').innerText(), /sera supprimée, avec ses messages, à partir du/);
    await shot(page, 'avis');
    await page.getByRole('button', { name: "Je m'y oppose : j'utilise toujours cette boîte" }).click();
    await page.waitForSelector('.flash.ok');
    assert.match(await page.locator('main').innerText(), /Aucun avis en attente/);
    const after = await runtime.get(PER);
    assert.ok(after.lastLogin && new Date(activityOf(bal, after)).toISOString() !== activity, 'a new inactivity period');
  } finally {
    await store.close();
  }
});

test("EX_GDT_5010 (browser): my history shows the person's own logins and operations, not their delegate's", async () => {
  const page = await signedIn(JEAN);
  await visit(page, `${portal}/historique`);
  const text = await page.locator('main').innerText();
  assert.match(text, /Ajout d’un délégué/);
  assert.match(text, /Connexion à l'espace professionnel/);
  assert.doesNotMatch(text, new RegExp(CLAIRE + '\\s'), "Claire's IMAP login on Jean's mailbox is Claire's trace");
  await shot(page, 'historique');
});

test('EX_SSI_5130 (browser): a form with a forged CSRF token, an expired session and a forged identity are refused', async () => {
  // CSRF: the session's token replaced in the page before submitting.
  const page = await signedIn(JEAN);
  await visit(page, mailboxUrl(PER, 'liste-rouge'));
  const before = fs.readFileSync(registryFile(), 'utf8');
  await page.evaluate(`document.querySelectorAll('input[name="_csrf"]').forEach((i) => { i.value = 'forged'; })`);
  await page.check('#lr-off');
  const csrf = page.waitForNavigation();
  await page.getByRole('button', { name: 'Enregistrer mon choix' }).click();
  assert.equal((await csrf)?.status(), 403);
  assert.match(await page.locator('main').innerText(), /Ce formulaire a été refusé/);
  await shot(page, 'refus-csrf');
  assert.equal(fs.readFileSync(registryFile(), 'utf8'), before);

  // Expired: the session's last request set 16 minutes back in the store (idle limit 15).
  const cookie = (await page.context().cookies()).find((c) => c.name === SESSION_COOKIE)?.value ?? '';
  const key = keyOf(decodeURIComponent(cookie).split('.').slice(0, -1).join('.'));
  const store = openStore(config().state);
  try {
    const session = JSON.parse((await store.get(key)) ?? '{}') as { user: { lastSeen: number } };
    session.user.lastSeen = Date.now() - 16 * 60_000;
    await store.set(key, JSON.stringify(session), { ttlMs: 600_000 });
  } finally {
    await store.close();
  }
  await visit(page, `${portal}/mes-boites`);
  assert.equal(new URL(page.url()).pathname, '/');
  assert.match(await page.locator('main').innerText(), /Votre session a expiré/);
  await shot(page, 'session-expiree');

  // Forged identity: an ID token signed with a key PSC never published.
  const forge = await httpsRequest({
    url: `${manifest.endpoints.psc?.issuer}/sandbox/forge?next=id-token-foreign-key`,
    method: 'POST',
    ca: fs.readFileSync(manifest.endpoints.psc?.ca ?? '', 'utf8'),
    timeoutMs: 5000,
    maxBytes: 4096,
  });
  assert.equal(forge.status, 200);
  const forged = await signedIn(JEAN);
  assert.equal(new URL(forged.url()).pathname, '/');
  assert.match(await forged.locator('main').innerText(), /La connexion a échoué/);
  await shot(forged, 'identite-forgee');
  assert.equal(
    traces()
      .filter((t) => t.action === 'portal.login')
      .at(-1)?.response.ok,
    false,
  );
});

test('EX_SSI_5130 (browser): sign-out ends the session here and at PSC: the next sign-in shows the PSC login page again', async () => {
  const page = await signedIn(JEAN);
  await page.getByRole('button', { name: 'Se déconnecter' }).click();
  await page.waitForURL(/\/deconnecte$/);
  assert.match(await page.locator('main').innerText(), /Vous êtes déconnecté\(e\)/);
  await shot(page, 'deconnecte');
  await page.getByRole('link', { name: 'Se connecter avec Pro Santé Connect' }).click();
  await page.waitForURL(/\/protocol\/openid-connect\/auth/);
  assert.match(await page.content(), /Professionnel de test/);
});
