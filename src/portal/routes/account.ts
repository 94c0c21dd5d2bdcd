// The person's pending notices (and their objection) and their history.
import type { FastifyInstance } from 'fastify';
import type { PortalDeps } from '../app.js';
import { sendPage, whoOf } from '../respond.js';
import { objectToNotice, pendingNotices } from '../notices.js';
import { historyPage, noticesPage } from '../pages/account.js';
import { T } from '../texts.js';
import { chromeOf, requireUser, userOf } from './common.js';

export function registerAccountRoutes(app: FastifyInstance, deps: PortalDeps): void {
  const now = deps.now ?? Date.now;

  app.get('/avis', { preHandler: [requireUser] }, async (req, reply) => {
    const notices = await pendingNotices(deps.store, deps.runtime, deps.registry(), userOf(req).idNat);
    const chrome = chromeOf(req, reply, deps.operatorName, T.notices.title, 'notices');
    return sendPage(reply, 200, noticesPage(chrome, notices, chrome.csrf, deps.timeZone));
  });

  // EX_GBM_4440 / EX_GBM_6010: « afin de lui permettre … de s'opposer ».
  app.post('/avis/opposition', { preHandler: [requireUser, app.csrfProtection] }, async (req, reply) => {
    const user = userOf(req);
    const address = String((req.body as Record<string, unknown> | undefined)?.address ?? '').slice(0, 256);
    const done = await objectToNotice(
      { store: deps.store, runtime: deps.runtime, activity: deps.activity, traces: deps.traces, registry: deps.registry() },
      user.idNat,
      address,
      whoOf(req, user.idNat),
      new Date(now()),
    );
    deps.history.forget(user.idNat);
    req.session.flash = done ? { kind: 'ok', text: T.notices.objected(address.toLowerCase()) } : { kind: 'error', text: T.notices.notPending };
    return reply.redirect('/avis', 303);
  });

  app.get('/historique', { preHandler: [requireUser] }, async (req, reply) => {
    const history = await deps.history.of(userOf(req).idNat);
    return sendPage(
      reply,
      200,
      historyPage(chromeOf(req, reply, deps.operatorName, T.history.title, 'history'), history, deps.config.history.days, deps.timeZone),
    );
  });
}
