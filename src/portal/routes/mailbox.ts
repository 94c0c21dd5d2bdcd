// The pages of the person's mailboxes and the forms that change them. A page shows only a
// mailbox the person has a role on (anything else is "not found"). A form is read with the
// registry's own rules (../forms.ts) and then handed, whatever the person's role, to the
// registry operation the CLI uses, with the signed-in professional as requester: the
// operation decides (a delegate gets REGISTRY_FORBIDDEN), writes, and traces success and
// refusal alike (EX_GBM_5410, EX_GBM_5413, EX_PBA_5040). Success: post/redirect/get.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { asMssError } from '../../errors.js';
import { publicationOf } from '../../registry/publication.js';
import type { AccessDecision, Bal } from '../../registry/registry.js';
import type { PortalDeps } from '../app.js';
import { sendPage, whoOf } from '../respond.js';
import { MIN_QUERY, searchDirectory } from '../directory.js';
import {
  coHolderAddForm,
  delegateAddForm,
  delegateChangeForm,
  descriptionForm,
  listeRougeForm,
  personForm,
  responsibleForm,
  type FormBody,
  type FormResult,
} from '../forms.js';
import { delegationsPage } from '../pages/delegations.js';
import { errorPage } from '../pages/home.js';
import { listeRougePage } from '../pages/liste-rouge.js';
import { mailboxesPage, mailboxHref } from '../pages/mailboxes.js';
import { organisationPage } from '../pages/organisation.js';
import type { EditOp } from '../registry/edit-protocol.js';
import { capabilitiesOf, type Capabilities } from '../roles.js';
import { T, refusalText } from '../texts.js';
import { chromeOf, requireUser, userOf } from './common.js';

type Sub = 'delegations' | 'organisation' | 'liste-rouge';

interface Target {
  bal: Bal;
  decision: AccessDecision;
  caps: Capabilities;
}

interface Rendered {
  errors?: Record<string, string>;
  values?: Record<string, string>;
  flash?: { kind: 'ok' | 'error'; text: string };
}

export function registerMailboxRoutes(app: FastifyInstance, deps: PortalDeps): void {
  const signedIn = { preHandler: [requireUser] };
  const form = { preHandler: [requireUser, app.csrfProtection] };

  /** The mailbox of the URL, if the person has a role on it. */
  const targetOf = (req: FastifyRequest): Target | undefined => {
    const address = String((req.params as { address?: string }).address ?? '').toLowerCase();
    const registry = deps.registry();
    const bal = registry.get(address);
    const decision = registry.canUse(userOf(req).idNat, address);
    if (!bal || !decision.role) return undefined;
    return { bal, decision, caps: capabilitiesOf(decision.role, bal) };
  };

  const notYours = (req: FastifyRequest, reply: FastifyReply) =>
    sendPage(reply, 404, errorPage(deps.operatorName, T.mailbox.notYours, userOf(req), reply.generateCsrf()));

  const render = async (req: FastifyRequest, reply: FastifyReply, sub: Sub, t: Target, status: number, extra: Rendered = {}) => {
    const titles: Record<Sub, string> = {
      delegations: T.delegations.title(t.bal.address),
      organisation: T.organisation.title(t.bal.address),
      'liste-rouge': T.listeRouge.title(t.bal.address),
    };
    const chrome = chromeOf(req, reply, deps.operatorName, titles[sub], 'mailboxes');
    if (extra.flash) chrome.flash = extra.flash;
    const me = userOf(req).idNat;
    const view = { bal: t.bal, decision: t.decision, caps: t.caps, csrf: chrome.csrf, ...(extra.errors ? { errors: extra.errors } : {}) };
    if (sub === 'delegations') {
      const q = (req.query as Record<string, unknown>).q;
      const picked = req.query as Record<string, unknown>;
      const values =
        extra.values ?? (typeof picked.idNat === 'string' ? { idNat: picked.idNat.slice(0, 128), name: String(picked.name ?? '').slice(0, 160) } : undefined);
      const search =
        t.caps.delegates && typeof q === 'string'
          ? { q: q.slice(0, 80), results: searchDirectory(deps.registry(), q.slice(0, 80)), tooShort: q.trim().length < MIN_QUERY }
          : undefined;
      return sendPage(
        reply,
        status,
        delegationsPage(chrome, { ...view, me, timeZone: deps.timeZone, ...(values ? { values } : {}), ...(search ? { search } : {}) }),
      );
    }
    if (sub === 'organisation') {
      if (t.bal.type !== 'ORG' && t.bal.type !== 'CAB') return notYours(req, reply);
      return sendPage(reply, status, organisationPage(chrome, { ...view, ...(extra.values ? { values: extra.values } : {}) }));
    }
    const runtime = await deps.runtime.get(t.bal.address);
    return sendPage(reply, status, listeRougePage(chrome, { ...view, runtime, timeZone: deps.timeZone }));
  };

  app.get('/mes-boites', signedIn, async (req, reply) => {
    const idNat = userOf(req).idNat;
    const mine = deps
      .registry()
      .mailboxesOf(idNat)
      .filter((m) => m.bal.status !== 'deleted');
    const runtimes = await deps.runtime.getMany(mine.map((m) => m.bal.address));
    const rows = mine.map((m, i) => ({ ...m, caps: capabilitiesOf(m.decision.role, m.bal), publication: publicationOf(m.bal, runtimes[i] ?? {}) }));
    return sendPage(reply, 200, mailboxesPage(chromeOf(req, reply, deps.operatorName, T.mailboxes.title, 'mailboxes'), idNat, rows));
  });

  for (const sub of ['delegations', 'organisation', 'liste-rouge'] as const) {
    app.get(`/boites/:address/${sub}`, signedIn, async (req, reply) => {
      const t = targetOf(req);
      return t ? render(req, reply, sub, t, 200) : notYours(req, reply);
    });
  }

  /**
   * A form posted on a mailbox page: checked by `read`, then the registry operation `op`
   * on behalf of the signed-in professional.
   */
  const change = <V>(sub: Sub, path: string, read: (body: FormBody, bal: Bal) => FormResult<V>, op: (v: V) => EditOp, done: (v: V) => string) => {
    app.post(`/boites/:address/${sub}${path}`, form, async (req, reply) => {
      const t = targetOf(req);
      const address = String((req.params as { address: string }).address).toLowerCase();
      const body = (req.body ?? {}) as FormBody;
      // A mailbox the person has no role on still goes to the registry operation, which
      // refuses and traces the attempt; only the page to show differs.
      const parsed = read(body, t?.bal ?? ({ type: 'PER' } as Bal));
      if (!parsed.ok) {
        if (!t) return notYours(req, reply);
        const values = Object.fromEntries(Object.entries(body).filter(([k, v]) => k !== '_csrf' && typeof v === 'string')) as Record<string, string>;
        return render(req, reply, sub, t, 422, { errors: parsed.errors, values, flash: { kind: 'error', text: T.form.invalid } });
      }
      const user = userOf(req);
      try {
        await deps.editor.run(op(parsed.value), address, user.idNat, whoOf(req, user.idNat));
      } catch (err) {
        const e = asMssError(err);
        const status = e.code === 'REGISTRY_FORBIDDEN' ? 403 : /^(TEMPORARY_|PORTAL_BUSY)/.test(e.code) ? 503 : e.code === 'PORTAL_EDITOR_DOWN' ? 500 : 422;
        if (status === 500) deps.log.error({ code: e.code, err: e.message }, 'portal: registry change failed');
        const flash = { kind: 'error' as const, text: `${T.form.refused} : ${refusalText(e.code)}` };
        const fresh = targetOf(req);
        if (!fresh) return sendPage(reply, status, errorPage(deps.operatorName, flash.text, user, reply.generateCsrf()));
        return render(req, reply, sub, fresh, status, { flash });
      } finally {
        deps.history.forget(user.idNat);
      }
      req.session.flash = { kind: 'ok', text: done(parsed.value) };
      return reply.redirect(mailboxHref(address, sub), 303);
    });
  };

  // EX_GBM_5413: création, modification, suppression of delegations.
  change(
    'delegations',
    '/ajouter',
    delegateAddForm,
    (v) => ({ op: 'addDelegate', args: v }),
    (v) => T.delegations.added(v.idNat),
  );
  change(
    'delegations',
    '/modifier',
    delegateChangeForm,
    (v) => ({ op: 'changeDelegate', args: v }),
    (v) => T.delegations.changed(v.idNat),
  );
  change(
    'delegations',
    '/retirer',
    personForm,
    (v) => ({ op: 'revokeDelegate', args: v }),
    (v) => T.delegations.removed(v.idNat),
  );
  // EX_GBM_5410: co-holders, Responsable, description of an organisational BAL.
  change(
    'organisation',
    '/cotitulaires/ajouter',
    coHolderAddForm,
    (v) => ({ op: 'addCoHolder', args: v }),
    (v) => T.organisation.added(v.idNat),
  );
  change(
    'organisation',
    '/cotitulaires/retirer',
    personForm,
    (v) => ({ op: 'removeCoHolder', args: v }),
    (v) => T.organisation.removed(v.idNat),
  );
  change(
    'organisation',
    '/responsable',
    responsibleForm,
    (v) => ({ op: 'setResponsible', args: v }),
    (v) => T.organisation.responsibleChanged(v.idNat),
  );
  change(
    'organisation',
    '/description',
    descriptionForm,
    (v) => ({ op: 'setDescription', args: v }),
    () => T.organisation.descriptionChanged,
  );
  // EX_PBA_5040: the user's own liste rouge choice.
  change(
    'liste-rouge',
    '',
    listeRougeForm,
    (v) => ({ op: 'setListeRouge', args: v }),
    (v) => T.listeRouge.saved(v.on),
  );
}
