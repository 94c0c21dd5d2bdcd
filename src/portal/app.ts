// The portal's HTTPS application (fastify): security plugins first — security headers and
// a Content-Security-Policy without script or inline style (helmet), cookies, sessions in
// the state store, form bodies, CSRF tokens bound to the session — then the idle and
// absolute session limits, then the routes (./routes/*). Pages are server-rendered HTML
// that works without JavaScript; every text comes from ./texts.ts.
import fastifyCookie from '@fastify/cookie';
import fastifyCsrf from '@fastify/csrf-protection';
import fastifyFormbody from '@fastify/formbody';
import fastifyHelmet from '@fastify/helmet';
import fastifySession from '@fastify/session';
import Fastify, { type FastifyInstance } from 'fastify';
import { asMssError } from '../errors.js';
import type { Logger } from '../log.js';
import { mssTlsOptions } from '../pki/tls-profile.js';
import type { Activity } from '../registry/activity.js';
import type { Registry } from '../registry/registry.js';
import type { RuntimeFields } from '../registry/runtime.js';
import type { StateStore } from '../store/store.js';
import type { TraceLog } from '../traces/trace-log.js';
import type { PortalConfig } from './config.js';
import type { HistoryReader } from './history.js';
import { errorPage } from './pages/home.js';
import type { PscSignIn } from './psc-signin.js';
import type { RegistryEditor } from './registry/editor.js';
import { SESSION_COOKIE, sendPage, trace } from './respond.js';
import { registerAccountRoutes } from './routes/account.js';
import { registerMailboxRoutes } from './routes/mailbox.js';
import { registerSignInRoutes } from './routes/sign-in.js';
import { sessionTtlMs, sessionVerdict } from './session/policy.js';
import { StateSessionStore } from './session/store.js';
import './session/types.js';
import { STYLE } from './pages/style.js';
import { T } from './texts.js';

export interface PortalDeps {
  config: PortalConfig;
  /** https origin browsers use (portal.publicUrl). */
  publicUrl: string;
  operatorName: string;
  timeZone: string;
  tls: { cert: string; key: string };
  store: StateStore;
  registry: () => Registry;
  runtime: RuntimeFields;
  activity: Activity;
  traces: TraceLog;
  editor: Pick<RegistryEditor, 'run'>;
  signIn: Pick<PscSignIn, 'begin' | 'finish' | 'endSessionUrl' | 'origin'>;
  history: Pick<HistoryReader, 'of' | 'forget'>;
  /** Signs the session cookie; the same on every node (kept in the state store). */
  cookieSecret: string;
  log: Logger;
  now?: () => number;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Served without a session (the stylesheet). */
    public?: boolean;
  }
}

export async function buildPortalApp(deps: PortalDeps): Promise<FastifyInstance> {
  const now = deps.now ?? Date.now;
  const limits = deps.config.sessions;
  const app = Fastify({
    https: { ...mssTlsOptions(), cert: deps.tls.cert, key: deps.tls.key },
    logger: false,
    trustProxy: false,
    bodyLimit: 16 * 1024,
    routerOptions: { maxParamLength: 300 },
    connectionTimeout: 60_000,
    requestTimeout: 30_000,
    keepAliveTimeout: 5_000,
    return503OnClosing: true,
  });

  await app.register(fastifyHelmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'"],
        // The logout form is redirected to PSC's end-session endpoint.
        formAction: ["'self'", deps.signIn.origin],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
      },
    },
    referrerPolicy: { policy: 'no-referrer' },
    strictTransportSecurity: { maxAge: 31_536_000 },
    crossOriginEmbedderPolicy: false,
  });
  await app.register(fastifyCookie);
  await app.register(fastifySession, {
    secret: deps.cookieSecret,
    cookieName: SESSION_COOKIE,
    // SameSite=Lax: PSC's redirect back (a top-level GET from another site) carries it;
    // cross-site POSTs do not, and every form also needs the session's CSRF token.
    cookie: { secure: true, httpOnly: true, sameSite: 'lax', path: '/' },
    saveUninitialized: false,
    rolling: false,
    store: new StateSessionStore(deps.store, (s) => sessionTtlMs(s, now(), limits)),
  });
  await app.register(fastifyFormbody, { bodyLimit: 16 * 1024 });
  await app.register(fastifyCsrf, {
    sessionPlugin: '@fastify/session',
    getToken: (req) => (req.body as Record<string, unknown> | undefined)?._csrf as string | undefined,
  });

  // EX_SSI_5130: idle and absolute limits, checked on every request: a session past either
  // is ended here (a new empty session replaces it), whatever the store still holds.
  app.addHook('preHandler', async (req) => {
    if (req.routeOptions.config.public) return;
    const user = req.session?.user;
    if (!user) return;
    const t = now();
    const verdict = sessionVerdict(user, t, limits);
    if (verdict === 'live') {
      user.lastSeen = t;
      return;
    }
    trace(deps, 'portal.logout', req, user.idNat, { ok: true, reason: verdict === 'idle' ? 'idle timeout' : 'absolute timeout' });
    await req.session.regenerate();
    req.session.flash = { kind: 'error', text: T.home.expired };
  });

  app.addHook('onSend', async (_req, reply) => {
    reply.header('cache-control', 'no-store');
  });

  app.addHook('onResponse', async (req, reply) => {
    deps.log.debug({ method: req.method, route: req.routeOptions.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'portal request');
  });

  app.get('/style.css', { config: { public: true } }, async (_req, reply) => reply.type('text/css; charset=utf-8').send(STYLE));

  registerSignInRoutes(app, deps);
  registerMailboxRoutes(app, deps);
  registerAccountRoutes(app, deps);

  app.setNotFoundHandler(async (req, reply) => sendPage(reply, 404, errorPage(deps.operatorName, T.errors.notFound, req.session?.user)));

  app.setErrorHandler(async (err: Error & { code?: string; statusCode?: number }, req, reply) => {
    if (err.code === 'FST_CSRF_INVALID_TOKEN' || err.code === 'FST_CSRF_MISSING_SECRET') {
      // A form that did not come from one of this session's pages: refused, changed nothing.
      trace(deps, 'portal.form', req, req.session?.user?.idNat, {
        ok: false,
        code: 'PORTAL_CSRF',
        message: `${req.method} ${req.routeOptions.url ?? req.url.split('?')[0]}: ${err.code}`,
      });
      return sendPage(reply, 403, errorPage(deps.operatorName, T.form.csrf, req.session?.user));
    }
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500)
      return sendPage(reply, err.statusCode, errorPage(deps.operatorName, T.errors.notFound, req.session?.user));
    deps.log.error({ err: asMssError(err).toJSON(), route: req.routeOptions.url }, 'portal request failed');
    return sendPage(reply, 500, errorPage(deps.operatorName, T.errors.internal, req.session?.user));
  });
  return app;
}
