// Self-check steps for the statistics against the sandbox SIPIL: build last month's files
// from synthetic events, replay the controls locally, deposit the archive with mutual TLS,
// read the report; then a deposit with blocking errors must come back KO in the report.
import fs from 'node:fs';
import path from 'node:path';
import { zipSync } from 'fflate';
import type { Config } from '../../src/config/schema.js';
import { Journal } from '../../src/journal/journal.js';
import { loadRegistry } from '../../src/registry/load.js';
import { loadOptionsFrom } from '../../src/registry/open.js';
import { RuntimeFields } from '../../src/registry/runtime.js';
import { buildMonth, type BuildResult } from '../../src/stats/build.js';
import { reportOf, uploadMonth, validateTarget } from '../../src/stats/job.js';
import { monthRange, monthText, reportedMonth } from '../../src/stats/month.js';
import { openStore } from '../../src/store/open.js';
import type { StateStore } from '../../src/store/store.js';
import { whitelistSetup } from '../../src/whitelist/from-config.js';
import { syncWhitelist } from '../../src/whitelist/sync.js';
import { STATS_LOGINS_RECORDED_SINCE, statsJournalEvents, statsRegistryYaml, statsRuntime } from '../stats-data.js';
import { fail, pass, type CheckContext, type SelfCheckStep } from './check.js';

/** Operator A's configuration with a registry of synthetic mailboxes for the statistics. */
function statsConfig(ctx: CheckContext): Config {
  return {
    ...ctx.config,
    registry: { ...ctx.config.registry, file: path.join(ctx.sandbox.dir, 'stats', 'registry.yaml') },
    stats: { ...ctx.config.stats, loginsRecordedSince: STATS_LOGINS_RECORDED_SINCE },
  };
}

async function withStore<T>(cfg: Config, fn: (s: StateStore) => Promise<T>): Promise<T> {
  const store = openStore(cfg.state);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

export const statsChecks: SelfCheckStep[] = [
  {
    name: "stats: build last month's Echanges and Connexions files from synthetic journal events",
    async run(ctx) {
      const cfg = statsConfig(ctx);
      const now = new Date();
      const month = reportedMonth(now, cfg.operator.timeZone);
      const range = monthRange(month, cfg.operator.timeZone);
      fs.mkdirSync(path.dirname(cfg.registry.file), { recursive: true });
      fs.writeFileSync(cfg.registry.file, statsRegistryYaml(cfg.operator.domains, range));
      // The liste blanche must be there for control n°8 (a previous step synced it; be sure).
      const setup = await whitelistSetup(cfg);
      if (!fs.existsSync(setup.paths.file))
        await syncWhitelist({
          url: cfg.whitelist.url,
          policy: setup.policy,
          timeoutMs: cfg.whitelist.timeoutMs,
          maxAgeHours: cfg.whitelist.maxAgeHours,
          paths: setup.paths,
          log: ctx.log,
        });
      const b: BuildResult = await withStore(cfg, async (store) => {
        await new Journal(store).record(statsJournalEvents(cfg.operator.domains, range));
        const rt = new RuntimeFields(store);
        for (const r of statsRuntime(cfg.operator.domains, range)) {
          if (r.lastLogin) await rt.setLastLogin(r.address, r.lastLogin);
          if (r.lastExchange) await rt.setLastExchange(r.address, r.lastExchange);
        }
        return buildMonth({ config: cfg, registry: loadRegistry(cfg.registry.file, loadOptionsFrom(cfg)), store, month, now });
      });
      ctx.facts.set('stats.build', b);
      return pass(
        `${monthText(month)}: ${b.files.length} files, ${b.echanges.lines} Echanges lines from ${b.echanges.messages} messages, ${b.connexions.lines} Connexions lines; ${b.archive.name} ${b.archive.bytes} bytes`,
      );
    },
  },
  {
    name: 'stats: the local replay of the SIPIL controls (§9.7.4.4) passes on the built archive',
    async run(ctx) {
      const b = ctx.facts.get('stats.build') as BuildResult | undefined;
      if (!b) return fail('nothing was built');
      const check = await withStore(statsConfig(ctx), (store) => validateTarget(statsConfig(ctx), store, b.archive.file, new Date()));
      const bad = check.files.filter((f) => f.codeRetour !== 0);
      return check.code === 0 && bad.length === 0
        ? pass(`code ${check.code}: ${check.files.length} files OK, ${check.files.reduce((n, f) => n + f.controls.length, 0)} controls`)
        : fail(
            `code ${check.code}: ${bad
              .map(
                (f) =>
                  `${f.name} ${f.controls
                    .filter((c) => c.retour)
                    .map((c) => `#${c.code} ${c.messages[0]}`)
                    .join('; ')}`,
              )
              .join(' | ')}`,
          );
    },
  },
  {
    name: 'stats: postFile over mutual TLS deposits the archive (EX_SSU_5810) and returns an Id',
    async run(ctx) {
      const b = ctx.facts.get('stats.build') as BuildResult | undefined;
      if (!b) return fail('nothing was built');
      const cfg = statsConfig(ctx);
      const up = await withStore(cfg, (store) => uploadMonth(cfg, store, b.month, { now: new Date(), log: ctx.log }));
      ctx.facts.set('stats.month', b.month);
      return up.upload.depot.code === 0 && up.upload.depot.id
        ? pass(`CodeRetourGlobal 0, Id ${up.upload.depot.id}, NomArchive ${up.upload.depot.nomArchive}, identité ${up.upload.depot.identite}`)
        : fail(`code ${up.upload.depot.code}`);
    },
  },
  {
    name: 'stats: getReport returns REPORT.ZIP whose CompteRendu accepts every file (EX_SSU_5820)',
    async run(ctx) {
      const month = ctx.facts.get('stats.month') as string | undefined;
      if (!month) return fail('nothing was deposited');
      const cfg = statsConfig(ctx);
      const r = await withStore(cfg, (store) => reportOf(cfg, store, { month }, { now: new Date() }));
      return r.verdict === 'accepted'
        ? pass(`CodeRetourGlobal ${r.code}, ${r.report.files.length} files OK, saved to ${path.basename(r.savedTo ?? '?')}`)
        : fail(`${r.verdict}: code ${r.code}, KO ${r.blockingFiles.join(', ')}`);
    },
  },
  {
    name: 'stats: a forced deposit with blocking errors comes back KO, control by control',
    async run(ctx) {
      const cfg = statsConfig(ctx);
      const month = ctx.facts.get('stats.month') as string | undefined;
      if (!month) return fail('nothing was deposited');
      const dir = path.join(ctx.sandbox.dir, 'stats', 'broken');
      fs.mkdirSync(dir, { recursive: true });
      const zip = path.join(dir, 'broken.zip');
      const bad = `MAIL_ID;EXPEDITEUR;DESTINATAIRE;DATE;TAILLE;INS;CODECDA;NIL\r\nX1;jean.dupont@${cfg.operator.domains[0]};not-an-address;2025-13-01 10:00:00;12;O;;\r\n`;
      fs.writeFileSync(
        zip,
        zipSync({
          [`${month}_EchangesMSSante_${cfg.operator.domains[0]}.csv`]: Buffer.from(bad),
          [`${month}_EchangesMSSante_clinique-sandbox-b.mssante.fr.csv`]: Buffer.from('MAIL_ID\n'),
        }),
      );
      const r = await withStore(cfg, async (store) => {
        await uploadMonth(cfg, store, month, { now: new Date(), archive: zip, force: true, log: ctx.log });
        return reportOf(cfg, store, { month }, { now: new Date() });
      });
      const controls = r.report.files.flatMap((f) => f.controls.filter((c) => c.codeRetour !== 0).map((c) => c.code));
      const expected = [3, 7, 5, 6, 8];
      return r.verdict === 'rejected' && expected.every((c) => controls.includes(c))
        ? pass(`CodeRetourGlobal ${r.code} (${r.readings[0]}); KO controls ${[...new Set(controls)].sort((a, b) => a - b).join(', ')}`)
        : fail(`${r.verdict}, code ${r.code}, controls ${controls.join(',')}; expected KO on ${expected.join(', ')}`);
    },
  },
];
