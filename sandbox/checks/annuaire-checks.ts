// Self-check steps for TM1.1.1P against the sandbox Annuaire: operator A publishes its
// registry, the batch runs, the report is read and acted upon, the schedule holds, a
// certificate outside the liste blanche is refused. The schedule's clock is set to the
// coming night (publication at 01:00, reports at 05:00, Paris time).
import path from 'node:path';
import type { Config } from '../../src/config/schema.js';
import { publish, type AnnuaireDeps } from '../../src/annuaire/publish.js';
import { fetchReports, type TicketResult } from '../../src/annuaire/report.js';
import { nextLocal } from '../../src/annuaire/schedule.js';
import { openStore } from '../../src/store/open.js';
import { tracesDir } from '../../src/traces/config.js';
import { TraceLog } from '../../src/traces/trace-log.js';
import { fail, pass, type CheckContext, type SelfCheckStep } from './check.js';

async function withDeps<T>(ctx: CheckContext, fn: (deps: AnnuaireDeps) => Promise<T>, config: Config = ctx.config): Promise<T> {
  const store = openStore(config.state);
  const traces = new TraceLog(tracesDir(config.traces, config.state.dir));
  try {
    return await fn({ config, store, traces, actor: { id: 'system:selfcheck', kind: 'system' }, log: ctx.log });
  } finally {
    traces.close();
    await store.close();
  }
}

/** The coming night at `hhmm` (operator time zone), `days` later. */
function night(ctx: CheckContext, hhmm: string, days = 0): Date {
  const first = nextLocal(Date.now(), '01:00', ctx.config.operator.timeZone);
  const base = first + days * 86_400_000;
  return new Date(hhmm === '01:00' ? base : nextLocal(base, hhmm, ctx.config.operator.timeZone));
}

async function control(ctx: CheckContext, route: string): Promise<unknown> {
  const url = ctx.sandbox.endpoints.annuaire?.control;
  if (!url) throw new Error('the sandbox has no Annuaire');
  const res = await fetch(new URL(route, url), { method: 'POST' });
  return res.json();
}

const summary = (t: TicketResult): string =>
  (t.report?.domains ?? [])
    .map((d) => `${d.domain} read ${d.counters.NbBALLus} created ${d.counters.NbBALCrees} updated ${d.counters.NbBALMaj} deleted ${d.counters.NbBALSup}`)
    .join('; ');

export const annuaireChecks: SelfCheckStep[] = [
  {
    name: 'annuaire: publish the sandbox registry (feed built and validated, sent over mutual TLS with the VIHF token) → ticket',
    async run(ctx) {
      const r = await withDeps(ctx, (deps) => publish(deps, { now: night(ctx, '01:00') }));
      ctx.facts.set('annuaire.ticket', r.ticket);
      const domains = r.domains.map((d) => `${d.domain}: ${d.records}`).join(', ');
      const detail = `${r.outcome} (${r.decision?.reason}), ticket ${r.ticket ?? '-'}; ${domains}; ${r.excluded.length} not published (test, suspended); ${r.validation.blocking} blocking, ${r.validation.warnings} warnings; liste blanche ${r.whitelistChecked ? 'checked' : 'NOT checked'}`;
      return r.outcome === 'sent' && r.validation.blocking === 0 ? pass(detail) : fail(detail);
    },
  },
  {
    name: 'annuaire: no report asked for before 04:00; after, "not processed yet" (WSMSS17) until the batch runs',
    async run(ctx) {
      const before = await withDeps(ctx, (deps) => fetchReports(deps, { now: night(ctx, '03:00') }));
      const pending = await withDeps(ctx, (deps) => fetchReports(deps, { now: night(ctx, '05:00') }));
      const detail = `03:00 → ${before.tickets.map((t) => t.outcome).join(',')}; 05:00 → ${pending.tickets.map((t) => `${t.outcome}${t.error ? ` ${t.error.code}` : ''}`).join(',')}`;
      return before.tickets[0]?.outcome === 'not-due' && pending.tickets[0]?.outcome === 'pending' ? pass(detail) : fail(detail);
    },
  },
  {
    name: 'annuaire: the batch runs; the report (ZIP + SHA-256, inline) is read, the corrected RPPS applied to the registry (EX_PBA_5100)',
    async run(ctx) {
      await control(ctx, '/batch');
      const run = await withDeps(ctx, (deps) => fetchReports(deps, { now: night(ctx, '05:00') }));
      const t = run.tickets[0];
      if (!t || t.outcome !== 'done') return fail(`report: ${t?.outcome ?? 'none'} ${t?.error?.code ?? ''} ${t?.error?.message ?? ''}`);
      const applied = (t.corrections ?? []).filter((c) => c.applied).map((c) => `${c.bal} ${c.from}→${c.to}`);
      const detail = `${summary(t)}; ${t.blocking} blocking, ${t.warnings} warnings (${t.report?.domains.flatMap((d) => d.anomalies.map((a) => a.code)).join(', ')}); checksum ${t.checksum}; corrections: ${applied.join(', ') || 'none'}`;
      return t.blocking === 0 && applied.length === 1 && t.checksum === 'ok' ? pass(detail) : fail(detail);
    },
  },
  {
    name: 'annuaire: a second publication the same night is skipped; the next night the changed feed is sent, its report comes as an MTOM attachment',
    async run(ctx) {
      const again = await withDeps(ctx, (deps) => publish(deps, { now: night(ctx, '01:30') }));
      const next = await withDeps(ctx, (deps) => publish(deps, { now: night(ctx, '01:00', 1) }));
      await control(ctx, '/batch');
      await control(ctx, '/delivery?mode=mtom');
      let t: TicketResult | undefined;
      try {
        t = (await withDeps(ctx, (deps) => fetchReports(deps, { now: night(ctx, '05:00', 1) }))).tickets[0];
      } finally {
        await control(ctx, '/delivery?mode=inline');
      }
      const detail = `same night → ${again.outcome} (${again.decision?.reason}); next night → ${next.outcome} (${next.decision?.reason}); report ${t?.outcome} via ${t?.delivery}: ${t ? summary(t) : ''}`;
      return again.decision?.reason === 'already-today' && next.decision?.reason === 'changed' && t?.outcome === 'done' && t.delivery === 'mtom'
        ? pass(detail)
        : fail(detail);
    },
  },
  {
    name: 'annuaire: a client certificate outside the liste blanche is refused (WSMSS06)',
    async run(ctx) {
      // Its own state: operator A's says the feed was already sent tonight.
      const rogue = {
        ...ctx.config,
        operator: { ...ctx.config.operator, certificate: ctx.pki.rogue.cert, key: ctx.pki.rogue.key, structureId: '1590000000' },
        state: { ...ctx.config.state, dir: path.join(ctx.sandbox.dir, 'state', 'rogue') },
      };
      try {
        const r = await withDeps(ctx, (deps) => publish({ ...deps, whitelist: null }, { now: night(ctx, '01:00', 2) }), rogue);
        return fail(`the rogue certificate got ${r.outcome}`);
      } catch (err) {
        const code = (err as { code?: string }).code ?? '';
        return code === 'ANNUAIRE_NOT_AUTHORIZED' ? pass(`${code}: ${(err as Error).message.slice(0, 120)}…`) : fail(`${code}: ${(err as Error).message}`);
      }
    },
  },
];
