// Sign-in with Pro Santé Connect, sign-out (here and at PSC), and the sign-in page.
// The session is regenerated at sign-in (no session fixation) and destroyed at sign-out;
// every sign-in, refused or not, and every sign-out is a functional trace.
import type { FastifyInstance } from 'fastify';
import { asMssError } from '../../errors.js';
import type { PortalDeps } from '../app.js';
import { SESSION_COOKIE, sendPage, trace } from '../respond.js';
import { homePage } from '../pages/home.js';
import { T } from '../texts.js';
import { requireUser } from './common.js';

const SIGN_IN_MESSAGES: Record<string, string> = {
  PORTAL_SIGNIN_STATE: T.signIn.stateMismatch,
  PORTAL_SIGNIN_ACR: T.signIn.acr,
  PORTAL_SIGNIN_IDNAT: T.signIn.noIdNat,
  PORTAL_PSC_UNAVAILABLE: T.signIn.unavailable,
};

export const CALLBACK_PATH = '/connexion/retour';
export const SIGNED_OUT_PATH = '/deconnecte';

export function registerSignInRoutes(app: FastifyInstance, deps: PortalDeps): void {
  const now = deps.now ?? Date.now;

  app.get('/', async (req, reply) => {
    if (req.session.user) return reply.redirect('/mes-boites', 303);
    const flash = req.session.flash;
    if (flash) delete req.session.flash;
    return sendPage(reply, 200, homePage(deps.operatorName, flash));
  });

  app.get(SIGNED_OUT_PATH, async (_req, reply) => sendPage(reply, 200, homePage(deps.operatorName, { kind: 'ok', text: T.home.signedOut })));

  app.get('/connexion', async (req, reply) => {
    if (req.session.user) return reply.redirect('/mes-boites', 303);
    try {
      const { url, pending } = await deps.signIn.begin();
      req.session.signIn = pending;
      return await reply.redirect(url.href, 303);
    } catch (err) {
      const e = asMssError(err);
      deps.log.warn({ code: e.code, err: e.message }, 'portal: cannot start a PSC sign-in');
      req.session.flash = { kind: 'error', text: T.home.signInFailed(SIGN_IN_MESSAGES[e.code] ?? T.signIn.refused) };
      return reply.redirect('/', 303);
    }
  });

  app.get(CALLBACK_PATH, async (req, reply) => {
    const pending = req.session.signIn;
    delete req.session.signIn;
    const refuse = (code: string, message: string) => {
      trace(deps, 'portal.login', req, undefined, { ok: false, code, message: message.slice(0, 500) });
      deps.log.info({ code, reason: message }, 'portal: sign-in refused');
      req.session.flash = { kind: 'error', text: T.home.signInFailed(SIGN_IN_MESSAGES[code] ?? T.signIn.refused) };
      return reply.redirect('/', 303);
    };
    // RFC 6749 §10.12: only a sign-in this browser started, within its window.
    if (!pending || now() - pending.startedAt > deps.config.sessions.signInSeconds * 1000) {
      return refuse('PORTAL_SIGNIN_STATE', pending ? 'the sign-in window is over' : 'no sign-in in progress in this session');
    }
    let signedIn;
    try {
      signedIn = await deps.signIn.finish(new URL(req.url, deps.publicUrl), pending);
    } catch (err) {
      const e = asMssError(err);
      return refuse(e.code, e.message);
    }
    await req.session.regenerate();
    const t = now();
    req.session.user = { idNat: signedIn.idNat, since: t, lastSeen: t, idToken: signedIn.idToken, ...(signedIn.name ? { name: signedIn.name } : {}) };
    trace(deps, 'portal.login', req, signedIn.idNat, { ok: true }, { acr: signedIn.acr });
    return reply.redirect('/mes-boites', 303);
  });

  app.post('/deconnexion', { preHandler: [requireUser, app.csrfProtection] }, async (req, reply) => {
    const user = req.session.user;
    if (user) trace(deps, 'portal.logout', req, user.idNat, { ok: true, reason: 'signed out' });
    await req.session.destroy();
    void reply.clearCookie(SESSION_COOKIE, { path: '/', secure: true, httpOnly: true, sameSite: 'lax' });
    // Also end the session at PSC (RP-Initiated Logout), or a next sign-in would be silent.
    const atPsc = await deps.signIn.endSessionUrl(user?.idToken);
    return reply.redirect(atPsc?.href ?? `${deps.publicUrl}${SIGNED_OUT_PATH}`, 303);
  });
}
