// The professionals' portal over HTTPS, as `serve` runs it, with the sandbox PSC as the
// peer (authorization code flow, PKCE, test login page, logout), driven by a browser-less
// client: every change goes through the registry operations (file, daemon and traces
// follow), the EX_GBM_5410/5413/PBA_5040 rules, CSRF, session limits, forged identities,
// notices and their objection, "my history", the TLS profile, sessions shared over Redis.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { after, before, test } from 'node:test';
import { activityOf, noticeKey } from '../../src/lifecycle/plan.js';
import { RuntimeFields } from '../../src/registry/runtime.js';
import { httpsRequest } from '../../src/net/https-request.js';
import { SandboxPsc } from '../../sandbox/psc/sandbox-psc.js';
import { keyOf } from '../../src/portal/session/store.js';
import { SESSION_COOKIE } from '../../src/portal/respond.js';
import { csrfOf, daemonRegistry, formOf, plain, startPortalNode, type PortalNode } from '../helpers/portal.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { DOMAIN, cab, org, per } from '../helpers/registry.js';
import { selfSignedCert, type TestCert } from '../helpers/tls-cert.js';
import { tmpDir } from '../helpers/tmp.js';
import { traceLines } from '../helpers/traces.js';

const root = tmpDir('mss-portal-http-');
const JEAN = '810000000101';
const SOPHIE = '810000000102';
const MOREAU = '810000000201';
const SIMON = '810000000202';
const CAB_DELEGATE = '810000000301';
const NEW_DELEGATE = '810000000401';
const PER_JEAN = `jean.dupont@${DOMAIN}`;
const CAB = `cabinet-medical@${DOMAIN}`;
const ORG = `secretariat@${DOMAIN}`;

const MAILBOXES = [
  per('jean.dupont', 'Jean', 'Dupont', JEAN, { contact: { email: 'jean.dupont@example.org' } }),
  per('sophie.martin', 'Sophie', 'Martin', SOPHIE),
  org('secretariat', { responsible: { idNat: JEAN, name: 'Dr Jean Dupont, chef de service' } }),
  cab(
    'cabinet-medical',
    [
      { idNat: MOREAU, lastName: 'MOREAU', firstName: 'Paul', responsible: true },
      { idNat: SIMON, lastName: 'SIMON', firstName: 'Julie' },
    ],
    { delegates: [{ idNat: CAB_DELEGATE, name: 'Léa Petit', for: MOREAU, grantedBy: MOREAU, grantedAt: '2025-01-02' }] },
  ),
];

let cert: TestCert;
let psc: SandboxPsc;
let node: PortalNode;
const others: Array<{ stop(): Promise<void> }> = [];

before(async () => {
  cert = selfSignedCert(root);
  psc = new SandboxPsc({ tls: cert });
  await psc.start();
  node = await startPortalNode(path.join(root, 'a'), psc, cert, { mailboxes: MAILBOXES });
});

after(async () => {
  for (const o of others.reverse()) await o.stop().catch(() => {});
  await node?.stop();
  await psc?.stop();
});

const traces = () => traceLines(node.tracesDir);

/** POST the PSC login form without following its redirect: the authorization response URL. */
async function pscLoginRedirect(url: string, form: Record<string, string>): Promise<string> {
  const r = await httpsRequest({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
    ca: cert.cert,
    timeoutMs: 10_000,
    maxBytes: 65_536,
  });
  assert.equal(r.status, 302);
  return String(r.headers.location);
}
const page = (address: string, sub: string) => `${node.url}/boites/${encodeURIComponent(address)}/${sub}`;

test('EX_GBM_5413 EX_GBM_5414: a professional signs in with PSC (code flow with PKCE and acr eidas1) and sees their mailboxes, their role and what it allows; the sign-in is traced', async () => {
  const login = await node.browser().get(`${node.url}/connexion`);
  const authorize = new URL(login.visited[1] ?? '');
  assert.equal(authorize.origin + authorize.pathname, `${psc.issuer}/protocol/openid-connect/auth`);
  assert.equal(authorize.searchParams.get('response_type'), 'code');
  assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256');
  assert.match(authorize.searchParams.get('code_challenge') ?? '', /^[A-Za-z0-9_-]{43}$/);
  assert.equal(authorize.searchParams.get('acr_values'), 'eidas1');
  assert.ok(authorize.searchParams.get('state') && authorize.searchParams.get('nonce'));
  assert.equal(authorize.searchParams.get('redirect_uri'), `${node.url}/connexion/retour`);
  assert.match(login.html, /Professionnel de test/, 'the sandbox PSC test login page');

  const home = await node.browser().signIn(node.url, JEAN);
  assert.equal(home.url, `${node.url}/mes-boites`);
  assert.equal(home.status, 200);
  assert.match(home.html, new RegExp(`${PER_JEAN}</td>\\s*<td>personnelle</td>\\s*<td>Titulaire</td>`));
  assert.match(home.html, new RegExp(`${ORG}</td>\\s*<td>organisationnelle</td>\\s*<td>Responsable opérationnel</td>`));
  assert.doesNotMatch(home.html, new RegExp(CAB), 'only the mailboxes the person has a role on');
  assert.match(home.html, /gérer les délégations/);
  const signIn = traces()
    .filter((t) => t.action === 'portal.login' && t.actor.id === JEAN)
    .at(-1);
  assert.equal(signIn?.response.ok, true);
  assert.equal(signIn?.means.authType, 'PSC/OIDC');
  assert.equal(signIn?.address, '127.0.0.1');
  assert.equal(signIn?.request.acr, 'eidas1');
});

test('EX_GBM_5413 EX_GBM_5411: the holder adds, changes and removes a delegate through the registry operations; the file, the daemon and the traces follow at once', async () => {
  const c = node.browser();
  await c.signIn(node.url, JEAN);
  const before = await c.get(page(PER_JEAN, 'delegations'));
  const add = formOf(before.html, '/delegations/ajouter');
  const added = await c.post(new URL(add.action, node.url).href, { ...add.fields, idNat: NEW_DELEGATE, name: 'Claire Fabre' });
  assert.equal(added.url, page(PER_JEAN, 'delegations'), 'post/redirect/get');
  assert.match(added.html, new RegExp(`${NEW_DELEGATE} est désormais délégué\\(e\\)`));
  const entry = (await daemonRegistry(node)).get(PER_JEAN);
  assert.deepEqual(
    entry?.delegates.map((d) => [d.idNat, d.name, d.for, d.grantedBy]),
    [[NEW_DELEGATE, 'Claire Fabre', JEAN, JEAN]],
  );
  assert.equal((await daemonRegistry(node)).canUse(NEW_DELEGATE, PER_JEAN).role, 'delegate', "the daemon's registry sees it without restart");
  assert.match(fs.readFileSync(node.registryFile, 'utf8'), new RegExp(`idNat: "?${NEW_DELEGATE}"?`));
  const granted = traces()
    .filter((t) => t.action === 'bal.delegate' && t.bal === PER_JEAN)
    .at(-1);
  assert.equal(granted?.actor.id, JEAN, 'the trace names the acting professional');
  assert.equal(granted?.actor.kind, 'user');
  assert.equal(granted?.means.service, 'portal');
  assert.equal(granted?.request.requestedBy, JEAN);
  assert.equal(granted?.response.ok, true);

  // Modification: the name.
  const change = formOf(added.html, '/delegations/modifier');
  const changed = await c.post(new URL(change.action, node.url).href, { ...change.fields, name: 'Claire Fabre-Roux', for: JEAN });
  assert.match(changed.html, /La délégation de 810000000401 est modifiée/);
  assert.equal((await daemonRegistry(node)).get(PER_JEAN)?.delegates[0]?.name, 'Claire Fabre-Roux');
  assert.equal(
    traces()
      .filter((t) => t.action === 'bal.delegate-change')
      .at(-1)?.actor.id,
    JEAN,
  );

  // The delegate sees the mailbox, as a delegate, without any form to manage it.
  const d = node.browser();
  const theirs = await d.signIn(node.url, NEW_DELEGATE);
  assert.match(theirs.html, new RegExp(`${PER_JEAN}</td>\\s*<td>personnelle</td>\\s*<td>Délégué\\(e\\) pour le compte de Jean Dupont \\(${JEAN}\\)</td>`));
  const readOnly = await d.get(page(PER_JEAN, 'delegations'));
  assert.match(readOnly.html, /Vous êtes délégué\(e\) de cette boîte/);
  assert.doesNotMatch(readOnly.html, /delegations\/ajouter/);

  const remove = formOf(changed.html, '/delegations/retirer');
  const removed = await c.post(new URL(remove.action, node.url).href, remove.fields);
  assert.match(plain(removed.html), /n'est plus délégué\(e\)/);
  assert.equal((await daemonRegistry(node)).canUse(NEW_DELEGATE, PER_JEAN).role, undefined);
  assert.equal(
    traces()
      .filter((t) => t.action === 'bal.revoke')
      .at(-1)?.actor.id,
    JEAN,
  );
});

test('EX_GBM_5410: a co-holder of a CAB changes the Responsable; a delegate posting the same form (even naming a co-holder as requester) is refused, nothing changes, the refusal is traced', async () => {
  const simon = node.browser();
  await simon.signIn(node.url, SIMON);
  const org = await simon.get(page(CAB, 'organisation'));
  assert.match(org.html, /Actuellement : Paul MOREAU \(810000000201\)/);
  const form = formOf(org.html, '/responsable');
  const done = await simon.post(new URL(form.action, node.url).href, { ...form.fields, idNat: SIMON });
  assert.match(done.html, /810000000202 est désormais responsable opérationnel/);
  const cab = (await daemonRegistry(node)).get(CAB);
  assert.deepEqual(
    cab?.coHolders.map((c) => [c.idNat, c.responsible]),
    [
      [MOREAU, false],
      [SIMON, true],
    ],
  );
  assert.equal(
    traces()
      .filter((t) => t.action === 'bal.responsible')
      .at(-1)?.actor.id,
    SIMON,
  );

  const delegate = node.browser();
  await delegate.signIn(node.url, CAB_DELEGATE);
  const theirs = await delegate.get(page(CAB, 'organisation'));
  assert.equal(theirs.status, 200);
  assert.match(theirs.html, /Vous êtes délégué\(e\) de cette boîte/);
  assert.doesNotMatch(theirs.html, /\/responsable"/, 'no form for a delegate');
  const fileBefore = fs.readFileSync(node.registryFile, 'utf8');
  const refused = await delegate.post(page(CAB, 'organisation/responsable'), {
    _csrf: csrfOf(theirs.html),
    idNat: CAB_DELEGATE,
    requestedBy: SIMON,
    by: SIMON,
  });
  assert.equal(refused.status, 403);
  assert.match(refused.html, /un délégué ne peut déclarer ni délégué, ni cotitulaire, ni responsable/);
  assert.equal(fs.readFileSync(node.registryFile, 'utf8'), fileBefore, 'nothing changed');
  const t = traces()
    .filter((r) => r.action === 'bal.responsible')
    .at(-1);
  assert.equal(t?.actor.id, CAB_DELEGATE);
  assert.equal(t?.request.requestedBy, CAB_DELEGATE, 'the requester is the session, never a form field');
  assert.equal(t?.response.ok, false);
  assert.equal(t?.response.code, 'REGISTRY_FORBIDDEN');
  // Nor can they add a delegate.
  const add = await delegate.post(page(CAB, 'delegations/ajouter'), { _csrf: csrfOf(theirs.html), idNat: NEW_DELEGATE });
  assert.equal(add.status, 403);
  assert.equal(fs.readFileSync(node.registryFile, 'utf8'), fileBefore);
});

test('EX_PBA_5040: the holder chooses liste rouge explicitly (no default choice) and can change it at any time; a delegate cannot', async () => {
  const c = node.browser();
  await c.signIn(node.url, JEAN);
  const lr = await c.get(page(PER_JEAN, 'liste-rouge'));
  assert.doesNotMatch(lr.html, /name="listeRouge" value="(on|off)" checked/, 'no pre-selected choice');
  const none = await c.post(page(PER_JEAN, 'liste-rouge'), { _csrf: csrfOf(lr.html) });
  assert.equal(none.status, 422);
  assert.match(none.html, /Ce champ est obligatoire/);
  const on = await c.post(page(PER_JEAN, 'liste-rouge'), { _csrf: csrfOf(lr.html), listeRouge: 'on' });
  assert.match(on.html, /inscrite en liste rouge lors de la prochaine publication/);
  assert.equal((await daemonRegistry(node)).get(PER_JEAN)?.listeRouge, true);
  assert.match((await c.get(`${node.url}/mes-boites`)).html, /liste rouge \(votre choix\)/);
  const off = await c.post(page(PER_JEAN, 'liste-rouge'), { _csrf: csrfOf(lr.html), listeRouge: 'off' });
  assert.equal(off.status, 200);
  assert.equal((await daemonRegistry(node)).get(PER_JEAN)?.listeRouge, false);
  assert.deepEqual(
    traces()
      .filter((t) => t.action === 'bal.liste-rouge')
      .slice(-2)
      .map((t) => [t.actor.id, t.request.listeRouge, t.response.ok]),
    [
      [JEAN, true, true],
      [JEAN, false, true],
    ],
  );
});

test("EX_SSI_5130 CSRF: a form without the session's token, or with another session's token, is refused (403), changes nothing, and is traced", async () => {
  const c = node.browser();
  await c.signIn(node.url, JEAN);
  const other = node.browser();
  const otherPage = await other.signIn(node.url, SOPHIE);
  const fileBefore = fs.readFileSync(node.registryFile, 'utf8');
  const without = await c.post(page(PER_JEAN, 'liste-rouge'), { listeRouge: 'on' });
  assert.equal(without.status, 403);
  assert.match(without.html, /Ce formulaire a été refusé/);
  const foreign = await c.post(page(PER_JEAN, 'liste-rouge'), { _csrf: csrfOf(otherPage.html), listeRouge: 'on' });
  assert.equal(foreign.status, 403);
  const forged = await c.post(page(PER_JEAN, 'liste-rouge'), { _csrf: 'forged-token', listeRouge: 'on' });
  assert.equal(forged.status, 403);
  assert.equal(fs.readFileSync(node.registryFile, 'utf8'), fileBefore);
  const refusals = traces().filter((t) => t.action === 'portal.form' && t.actor.id === JEAN);
  assert.ok(refusals.length >= 3 && refusals.every((t) => t.response.code === 'PORTAL_CSRF'));
  // The logout form is protected too.
  assert.equal((await c.post(`${node.url}/deconnexion`, {})).status, 403);
  assert.equal((await c.get(`${node.url}/mes-boites`)).url, `${node.url}/mes-boites`, 'still signed in');
});

test('EX_SSI_5130: forged identities are refused: a made-up or tampered session cookie, a code and state from another browser, an ID token PSC never signed, a changed nonce, UserInfo for another subject', async () => {
  // Cookies: unknown session, or a valid one with its signature tampered with.
  const c = node.browser();
  const signedIn = await c.signIn(node.url, JEAN);
  assert.equal(signedIn.url, `${node.url}/mes-boites`);
  const good = c.cookie(node.url, SESSION_COOKIE) ?? '';
  for (const bad of [`${good.slice(0, -3)}AAA`, `${good.startsWith('x') ? 'y' : 'x'}${good.slice(1)}`, 'made-up.session']) {
    const m = node.browser();
    m.setCookie(node.url, SESSION_COOKIE, bad);
    const r = await m.get(`${node.url}/mes-boites`);
    assert.equal(r.url, `${node.url}/`, bad);
    assert.doesNotMatch(r.html, /jean\.dupont/);
  }

  // The authorization response of one browser replayed in another: no sign-in in progress there.
  const victim = node.browser();
  const loginPage = await victim.get(`${node.url}/connexion`);
  const form = formOf(loginPage.html, '/auth/login');
  const callback = await pscLoginRedirect(new URL(form.action, loginPage.url).href, { ...form.fields, other: JEAN });
  assert.match(callback, /\/connexion\/retour\?code=/);
  const attacker = node.browser();
  const replay = await attacker.get(callback);
  assert.equal(replay.url, `${node.url}/`);
  assert.match(replay.html, /La connexion a échoué : la réponse de Pro Santé Connect ne correspond à aucune connexion en cours/);
  assert.equal(
    traces()
      .filter((t) => t.action === 'portal.login')
      .at(-1)?.response.code,
    'PORTAL_SIGNIN_STATE',
  );

  // Tokens PSC would never issue: each sign-in fails, and is traced as refused.
  for (const forgery of ['id-token-foreign-key', 'id-token-other-nonce', 'userinfo-other-subject'] as const) {
    psc.forgeNext(forgery);
    const r = await node.browser().signIn(node.url, JEAN);
    assert.equal(r.url, `${node.url}/`, forgery);
    assert.match(r.html, /La connexion a échoué/, forgery);
    const t = traces()
      .filter((x) => x.action === 'portal.login')
      .at(-1);
    assert.equal(t?.response.ok, false, forgery);
    assert.equal(t?.actor.id, 'unknown', forgery);
    assert.equal(t?.response.code, 'PORTAL_SIGNIN_REFUSED', forgery);
  }
});

test('EX_GBM_4440 EX_GBM_6010: a pending notice is shown to the mailbox\'s users only; "I still use it" records a login of the mailbox, which ends the notice', async () => {
  const store = node.daemon.shared.store();
  const registry = await daemonRegistry(node);
  const bal = registry.get(PER_JEAN);
  assert.ok(bal);
  const rt = await new RuntimeFields(store).get(PER_JEAN);
  const scheduledFor = new Date(Date.now() + 10 * 86_400_000);
  await store.set(
    noticeKey('depublish', PER_JEAN),
    JSON.stringify({
      state: 'sent',
      activity: new Date(activityOf(bal, rt)).toISOString(),
      sentAt: new Date().toISOString(),
      scheduledFor: scheduledFor.toISOString(),
    }),
  );

  const sophie = node.browser();
  await sophie.signIn(node.url, SOPHIE);
  assert.match((await sophie.get(`${node.url}/avis`)).html, /Aucun avis en attente/);

  const c = node.browser();
  await c.signIn(node.url, JEAN);
  const notices = await c.get(`${node.url}/avis`);
  assert.match(plain(notices.html), new RegExp(`${PER_JEAN} sera dépubliée pour cause d'inactivité à partir du`));
  assert.doesNotMatch(notices.html, /liste rouge/i, '§5.6: never called liste rouge');
  const objection = formOf(notices.html, '/avis/opposition');
  // Someone else's mailbox cannot be objected for.
  const foreign = await sophie.post(`${node.url}/avis/opposition`, { _csrf: csrfOf((await sophie.get(`${node.url}/avis`)).html), address: PER_JEAN });
  assert.match(plain(foreign.html), /Il n'y a plus d'avis en attente/);
  const done = await c.post(new URL(objection.action, node.url).href, objection.fields);
  assert.match(done.html, /Votre opposition est enregistrée/);
  assert.match(done.html, /Aucun avis en attente/);
  const after = await new RuntimeFields(store).get(PER_JEAN);
  assert.ok(after.lastLogin && after.lastLogin.getTime() > Date.now() - 60_000, 'the last login moved: a new inactivity period');
  assert.equal(after.lastLoginBy, JEAN);
  const t = traces();
  assert.equal(t.filter((r) => r.action === 'notice.objection').at(-1)?.actor.id, JEAN);
  const login = t.filter((r) => r.action === 'login' && r.bal === PER_JEAN).at(-1);
  assert.deepEqual([login?.actor.id, login?.means.service, login?.means.authType], [JEAN, 'portal', 'PSC/OIDC']);
});

test("EX_GDT_5010 EX_GDT_5020: my history shows the person's own logins and operations, never another person's (a delegate acting for them included), never a token", async () => {
  const activity = await node.daemon.shared.activity();
  await activity.recordLogin(PER_JEAN, new Date(), {
    authType: 'PSC/XOAUTH2',
    identity: NEW_DELEGATE,
    delegateOf: JEAN,
    service: 'imap',
    client: 'LPS du délégué',
  });
  await activity.recordLogin(PER_JEAN, new Date(), { authType: 'PSC/XOAUTH2', identity: JEAN, service: 'imap', client: 'LPS de Jean' });
  const c = node.browser();
  await c.signIn(node.url, JEAN);
  const h = await c.get(`${node.url}/historique`);
  assert.equal(h.status, 200);
  assert.match(h.html, /LPS de Jean/);
  assert.match(h.html, /Ajout d’un délégué/);
  assert.match(plain(h.html), /Connexion à l'espace professionnel/);
  assert.doesNotMatch(h.html, /LPS du délégué/, "a delegate's login is the delegate's trace");
  assert.doesNotMatch(h.html, /810000000401<\/td>/);
  const d = node.browser();
  await d.signIn(node.url, SOPHIE);
  const hers = await d.get(`${node.url}/historique`);
  assert.doesNotMatch(hers.html, /jean\.dupont|LPS de Jean/);
  for (const p of [h.html, hers.html]) assert.doesNotMatch(p, /eyJ[A-Za-z0-9_-]{10,}/, 'no token on a page');
  assert.ok(!node.logLines.some((l) => /eyJ[A-Za-z0-9_-]{10,}/.test(l) || l.includes(node.client.clientSecret)), 'no token nor client secret in the log');
  assert.ok(!traces().some((r) => /eyJ[A-Za-z0-9_-]{10,}/.test(JSON.stringify(r))), 'no token in the traces');
});

test('EX_SSI_5130: sign-out ends the session here and at PSC, after which PSC asks again (without it, PSC signs in silently); the old cookie is dead', async () => {
  // A PSC session alone (the portal cookie lost) signs in again without the login page.
  const quiet = node.browser();
  await quiet.signIn(node.url, JEAN);
  quiet.forget(node.url, SESSION_COOKIE);
  const silent = psc.flowCounts.silent;
  assert.equal((await quiet.get(`${node.url}/connexion`)).url, `${node.url}/mes-boites`);
  assert.equal(psc.flowCounts.silent, silent + 1);

  const c = node.browser();
  await c.signIn(node.url, JEAN);
  const oldCookie = c.cookie(node.url, SESSION_COOKIE) ?? '';
  const logouts = psc.flowCounts.logouts;
  const out = await c.post(`${node.url}/deconnexion`, { _csrf: csrfOf((await c.get(`${node.url}/mes-boites`)).html) });
  assert.ok(
    out.visited.some((u) => u.startsWith(`${psc.issuer}/protocol/openid-connect/logout?`)),
    'through PSC end-session endpoint',
  );
  assert.equal(out.url, `${node.url}/deconnecte`);
  assert.match(out.html, /Vous êtes déconnecté\(e\)/);
  assert.equal(psc.flowCounts.logouts, logouts + 1);
  assert.match((await c.get(`${node.url}/connexion`)).html, /Professionnel de test/, 'PSC asks again: its session ended too');
  const stolen = node.browser();
  stolen.setCookie(node.url, SESSION_COOKIE, oldCookie);
  assert.equal((await stolen.get(`${node.url}/mes-boites`)).url, `${node.url}/`);
  assert.equal(
    traces()
      .filter((t) => t.action === 'portal.logout' && t.actor.id === JEAN)
      .at(-1)?.response.reason,
    'signed out',
  );
});

test('EX_SSI_5130: an idle session and one past its absolute limit are over (the person signs in again), and the end is traced', async () => {
  const short = await startPortalNode(path.join(root, 'short'), psc, cert, { mailboxes: MAILBOXES, sessions: { idleSeconds: 2, maxSeconds: 5 } });
  others.push(short);
  const idle = short.browser();
  await idle.signIn(short.url, JEAN);
  await new Promise((r) => setTimeout(r, 2300));
  const expired = await idle.get(`${short.url}/mes-boites`);
  assert.equal(expired.url, `${short.url}/`);
  assert.match(expired.html, /Votre session a expiré/);
  const busy = short.browser();
  const started = Date.now();
  await busy.signIn(short.url, JEAN);
  let ended: number | undefined;
  while (Date.now() - started < 30_000) {
    await new Promise((r) => setTimeout(r, 250));
    if ((await busy.get(`${short.url}/mes-boites`)).url !== `${short.url}/mes-boites`) {
      ended = Date.now() - started;
      break;
    }
  }
  assert.ok(ended !== undefined && ended >= 5000, `an active session ends after maxSeconds (ended after ${ended} ms)`);
  const reasons = traceLines(short.tracesDir)
    .filter((t) => t.action === 'portal.logout')
    .map((t) => t.response.reason);
  assert.deepEqual(reasons, ['idle timeout', 'absolute timeout']);
});

test('EX_SSI_5130: every answer forbids scripts, framing and caching; the session cookie is __Host-, Secure, HttpOnly, SameSite=Lax and lasts the browser session', async () => {
  const c = node.browser();
  const home = await c.get(`${node.url}/`);
  const csp = String(home.headers['content-security-policy']);
  for (const d of ["default-src 'none'", "style-src 'self'", `form-action 'self' ${new URL(psc.issuer).origin}`, "frame-ancestors 'none'"])
    assert.ok(csp.includes(d), `${d} in ${csp}`);
  assert.doesNotMatch(csp, /script-src/);
  assert.match(String(home.headers['strict-transport-security']), /max-age=31536000/);
  assert.equal(home.headers['referrer-policy'], 'no-referrer');
  assert.equal(home.headers['cache-control'], 'no-store');
  assert.doesNotMatch(home.html, /<script/);
  const start = await httpsRequest({ url: `${node.url}/connexion`, ca: cert.cert, timeoutMs: 10_000, maxBytes: 65_536 });
  const cookie = String(start.headers['set-cookie']?.find((l) => l.startsWith(`${SESSION_COOKIE}=`)));
  assert.match(cookie, /; Path=\/(;|$)/);
  assert.match(cookie, /; HttpOnly/);
  assert.match(cookie, /; Secure/);
  assert.match(cookie, /; SameSite=Lax/);
  assert.doesNotMatch(cookie, /Expires|Max-Age|Domain/i);
});

test("EX_LPS_0200: the portal's HTTPS offers TLS 1.2 with the six suites and TLS 1.3; non-PFS suites, SHA-1 suites and TLS 1.1 are refused", async () => {
  const port = Number(new URL(node.url).port);
  const hello = (opts: tls.ConnectionOptions) =>
    new Promise<string>((resolve) => {
      const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...opts }, () => {
        resolve(`${s.getProtocol()} ${s.getCipher().standardName}`);
        s.destroy();
      });
      s.on('error', (e: NodeJS.ErrnoException) => resolve(`refused ${e.code ?? e.message}`));
    });
  assert.equal(await hello({ maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' }), 'TLSv1.2 TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256');
  assert.equal(await hello({ maxVersion: 'TLSv1.2', ciphers: 'DHE-RSA-AES256-GCM-SHA384' }), 'TLSv1.2 TLS_DHE_RSA_WITH_AES_256_GCM_SHA384');
  assert.match(await hello({}), /^TLSv1\.3 /);
  assert.match(await hello({ maxVersion: 'TLSv1.2', ciphers: 'AES128-GCM-SHA256' }), /^refused/);
  assert.match(await hello({ maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-SHA' }), /^refused/);
  assert.match(await hello({ minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' }), /^refused/);
});

test('EX_SSI_5130: portal sessions live in the state store: two nodes on one Redis share them (a session opened on one is used on the other) and keep no usable cookie value', async () => {
  let redis: RedisServer | undefined;
  const nodes: PortalNode[] = [];
  try {
    redis = await startRedis();
    const shared = { url: redis.url, keyPrefix: 'portal-test:' };
    const registryFile = node.registryFile;
    const one = await startPortalNode(path.join(root, 'n1'), psc, cert, { registryFile, redis: shared });
    nodes.push(one);
    const two = await startPortalNode(path.join(root, 'n2'), psc, cert, { registryFile, redis: shared, stateDir: path.join(root, 'n1', 'state') });
    nodes.push(two);
    const c = one.browser();
    await c.signIn(one.url, JEAN);
    const cookie = c.cookie(one.url, SESSION_COOKIE) ?? '';
    const b = two.browser();
    b.setCookie(two.url, SESSION_COOKIE, cookie);
    const there = await b.get(`${two.url}/mes-boites`);
    assert.equal(there.url, `${two.url}/mes-boites`, 'signed in on the other node');
    assert.match(there.html, new RegExp(PER_JEAN));
    const sessionId = decodeURIComponent(cookie).split('.').slice(0, -1).join('.');
    const store = one.daemon.shared.store();
    assert.ok(await store.get(keyOf(sessionId)), 'the session is in Redis under the hash of its ID');
    const keys: string[] = [];
    for await (const k of store.scan('portal-session:')) keys.push(k);
    assert.ok(keys.length > 0 && keys.every((k) => !k.includes(sessionId)), 'no key holds the session ID itself');
  } finally {
    for (const n of nodes.reverse()) await n.stop();
    await redis?.stop();
  }
});
