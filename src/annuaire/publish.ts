// `annuaire publish` and `annuaire withdraw-domain` (TM1.1.1P, EX_PBA_5010, EX_1.1.1_5010):
// build the feed from the registry, validate it locally, decide from the schedule whether
// to send (RE_1.1.1_5020), send it, keep the ticket with the feed's digest and date.
// Idempotent: a second run the same day sends nothing; one run at a time (store lock).
import type { Config } from '../config/schema.js';
import { asMssError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { loadRegistryFrom } from '../registry/open.js';
import type { Registry } from '../registry/registry.js';
import { RuntimeFields } from '../registry/runtime.js';
import type { StateStore } from '../store/store.js';
import type { TraceActor } from '../traces/record.js';
import type { TraceLog } from '../traces/trace-log.js';
import { openWhitelistHolder } from '../whitelist/holder.js';
import { loadCredentials, type AnnuaireCredentials } from './credentials.js';
import { buildFeed, withdrawalFeed, type Exclusion, type Feed } from './feed.js';
import { digestFeed, type FeedDigest } from './feed-xml.js';
import { decidePublish, inBatchWindow, type PublishDecision } from './schedule.js';
import { sendFeed } from './send.js';
import { AnnuaireState } from './state.js';
import { validateFeed, type ValidationContext, type ValidationResult } from './validate.js';

export interface AnnuaireDeps {
  config: Config;
  store: StateStore;
  traces: TraceLog;
  /**
   * Who runs it (the timer: system:annuaire; by hand: the admin, authenticated by the system).
   * EX_WSA_5020: mutual TLS identifies the structure only; the person or job behind the call is
   * authenticated locally and recorded in every trace of the publication and report.
   */
  actor: TraceActor;
  log?: Logger;
  /** Already loaded (tests, benchmark); default: the configured file. */
  registry?: Registry;
  /** The liste blanche to check RG_CTR_000 against; null: none; default: the last valid copy. */
  whitelist?: ValidationContext['whitelist'] | null;
}

export interface PublishOptions {
  now: Date;
  /** Send although local validation found blocking anomalies. */
  force?: boolean;
  /** Build, validate and decide; send nothing, record nothing. */
  dryRun?: boolean;
}

export type PublishOutcome = 'sent' | 'skipped' | 'refused' | 'dry-run';

export interface PublishResult {
  outcome: PublishOutcome;
  kind: 'feed' | 'withdraw';
  now: string;
  decision?: PublishDecision;
  ticket?: string;
  domains: Array<{ domain: string; records: number; sha256: string }>;
  excluded: Exclusion[];
  validation: ValidationResult;
  whitelistChecked: boolean;
  digest: Pick<FeedDigest, 'sha256' | 'bytes' | 'records'>;
  timingsMs: { build: number; validate: number; send?: number };
}

async function localWhitelist(deps: AnnuaireDeps, log: Logger): Promise<ValidationContext['whitelist'] | undefined> {
  if (deps.whitelist !== undefined) return deps.whitelist ?? undefined;
  try {
    const holder = await openWhitelistHolder(deps.config, log, { watch: false, pollMs: 0 });
    holder.close();
    if (!holder.index) log.warn('no verified liste blanche: RG_CTR_000 (domain listed) is left to the Annuaire; run `mss-sidecar whitelist sync`');
    return holder.index;
  } catch (err) {
    log.warn({ code: asMssError(err).code }, 'liste blanche unavailable: RG_CTR_000 is left to the Annuaire');
    return undefined;
  }
}

interface Prepared {
  feed: Feed;
  creds: AnnuaireCredentials;
  validation: ValidationResult;
  digest: FeedDigest;
  whitelistChecked: boolean;
  timings: { build: number; validate: number };
}

/** The feed of the managed domains, from the registry (minus withdrawn domains). */
async function feedFromRegistry(deps: AnnuaireDeps): Promise<Feed> {
  const reg = deps.registry ?? loadRegistryFrom(deps.config);
  const withdrawn = new Set(await new AnnuaireState(deps.store).withdrawn());
  const runtime = await new RuntimeFields(deps.store).getMany(reg.all().map((b) => b.address));
  return buildFeed(
    reg,
    runtime,
    deps.config.operator.domains.filter((d) => !withdrawn.has(d)),
  );
}

/** Build and validate. `now` (the schedule's clock, --now) plays no part: certificates and the VIHF token live in real time. */
async function prepare(deps: AnnuaireDeps, feedOf: () => Promise<Feed>, log: Logger): Promise<Prepared> {
  const t0 = performance.now();
  const feed = await feedOf();
  const creds = loadCredentials(deps.config);
  const t1 = performance.now();
  const whitelist = await localWhitelist(deps, log);
  const validation = validateFeed(feed.domains, { finessRegistered: deps.config.operator.finessRegistered, ...(whitelist ? { whitelist } : {}), dn: creds.dn });
  const digest = digestFeed(feed.domains);
  return { feed, creds, validation, digest, whitelistChecked: whitelist !== undefined, timings: { build: t1 - t0, validate: performance.now() - t1 } };
}

function resultOf(kind: PublishResult['kind'], p: Prepared, now: Date, outcome: PublishOutcome): PublishResult {
  return {
    outcome,
    kind,
    now: now.toISOString(),
    domains: p.feed.domains.map((d) => ({ domain: d.domain, records: d.records.length, sha256: p.digest.domains[d.domain] ?? '' })),
    excluded: p.feed.excluded,
    validation: p.validation,
    whitelistChecked: p.whitelistChecked,
    digest: { sha256: p.digest.sha256, bytes: p.digest.bytes, records: p.digest.records },
    timingsMs: { build: Math.round(p.timings.build), validate: Math.round(p.timings.validate) },
  };
}

/** Send, record the ticket (and, for a full feed, the last publication), trace. */
async function transmit(deps: AnnuaireDeps, kind: PublishResult['kind'], p: Prepared, result: PublishResult, now: Date): Promise<PublishResult> {
  const state = new AnnuaireState(deps.store);
  const domains = p.feed.domains.map((d) => d.domain);
  const t = performance.now();
  try {
    const { ticket, messageId } = await sendFeed(deps.config, p.creds, p.feed.domains, new Date());
    result.timingsMs.send = Math.round(performance.now() - t);
    // Dates are the job's clock (`--now`); traces keep the real time.
    await state.putTicket({
      ticket,
      sentAt: now.toISOString(),
      kind,
      domains,
      records: p.digest.records,
      sha256: p.digest.sha256,
      domainDigests: p.digest.domains,
      messageId,
      certFingerprint: p.creds.fingerprint,
      dn: p.creds.dn,
      status: 'pending',
      attempts: 0,
    });
    if (kind === 'feed') await state.setLast({ at: now.toISOString(), sha256: p.digest.sha256, ticket, domains });
    deps.traces.write({
      action: kind === 'feed' ? 'annuaire.publish' : 'annuaire.withdraw-domain',
      actor: deps.actor,
      means: { service: 'annuaire' },
      request: { domains, records: p.digest.records, sha256: p.digest.sha256, messageId, reason: result.decision?.reason, forced: p.validation.blocking > 0 },
      response: { ok: true, ticket, blocking: p.validation.blocking, warnings: p.validation.warnings },
    });
    return { ...result, outcome: 'sent', ticket };
  } catch (err) {
    const e = asMssError(err);
    deps.traces.write({
      action: kind === 'feed' ? 'annuaire.publish' : 'annuaire.withdraw-domain',
      actor: deps.actor,
      means: { service: 'annuaire' },
      request: { domains, records: p.digest.records, sha256: p.digest.sha256 },
      response: { ok: false, code: e.code, message: e.message },
    });
    throw e;
  }
}

function refusedTrace(deps: AnnuaireDeps, action: string, p: Prepared): void {
  deps.traces.write({
    action,
    actor: deps.actor,
    means: { service: 'annuaire' },
    request: { domains: p.feed.domains.map((d) => d.domain), records: p.digest.records },
    response: { ok: false, code: 'ANNUAIRE_FEED_INVALID', blocking: p.validation.blocking, rejected: p.validation.rejected },
  });
}

export async function publish(deps: AnnuaireDeps, opts: PublishOptions): Promise<PublishResult> {
  const log = deps.log ?? silentLogger;
  const state = new AnnuaireState(deps.store);
  return state.exclusive(!opts.dryRun, async () => {
    const p = await prepare(deps, () => feedFromRegistry(deps), log);
    const result = resultOf('feed', p, opts.now, 'refused');
    // Local validation first: a feed with blocking anomalies is not sent unless forced.
    if (p.validation.blocking > 0 && !opts.force) {
      if (!opts.dryRun) refusedTrace(deps, 'annuaire.publish', p);
      return result;
    }
    const decision = decidePublish({
      now: opts.now.getTime(),
      sha256: p.digest.sha256,
      last: await state.last(),
      schedule: deps.config.annuaire.schedule,
      timeZone: deps.config.operator.timeZone,
    });
    result.decision = decision;
    if (!decision.send) return { ...result, outcome: 'skipped' };
    if (opts.dryRun) return { ...result, outcome: 'dry-run' };
    return transmit(deps, 'feed', p, result, opts.now);
  });
}

/**
 * EX_GBM_6020 / EX_PBA_5010: before a domain leaves the liste blanche, publish it with no
 * mailbox, which deletes all its BALs from the Annuaire; later feeds leave it out (until
 * `--cancel`). Not bound by the once-a-day rule (another domain's message), only by the
 * batch window.
 */
export async function withdrawDomain(deps: AnnuaireDeps, domain: string, opts: PublishOptions): Promise<PublishResult> {
  const log = deps.log ?? silentLogger;
  const state = new AnnuaireState(deps.store);
  const name = domain.toLowerCase();
  return state.exclusive(!opts.dryRun, async () => {
    const p = await prepare(deps, async () => withdrawalFeed(name), log);
    const result = resultOf('withdraw', p, opts.now, 'refused');
    if (p.validation.blocking > 0 && !opts.force) {
      if (!opts.dryRun) refusedTrace(deps, 'annuaire.withdraw-domain', p);
      return result;
    }
    const s = deps.config.annuaire.schedule;
    if (inBatchWindow(opts.now.getTime(), s, deps.config.operator.timeZone)) {
      result.decision = {
        send: false,
        reason: 'batch-window',
        why: `the Annuaire's batch runs between ${s.batchStart} and ${s.batchEnd}; withdraw before ${s.batchStart}`,
      };
      return { ...result, outcome: 'skipped' };
    }
    result.decision = { send: true, reason: 'changed', why: `withdrawal of ${name}: its message is sent with no mailbox` };
    if (opts.dryRun) return { ...result, outcome: 'dry-run' };
    const sent = await transmit(deps, 'withdraw', p, result, opts.now);
    await state.setWithdrawn([...(await state.withdrawn()), name]);
    return sent;
  });
}

/** Undo a withdrawal mark: the domain is published again from the next feed on. */
export async function cancelWithdrawal(deps: Pick<AnnuaireDeps, 'store' | 'traces' | 'actor'>, domain: string): Promise<boolean> {
  const state = new AnnuaireState(deps.store);
  const list = await state.withdrawn();
  const name = domain.toLowerCase();
  if (!list.includes(name)) return false;
  await state.setWithdrawn(list.filter((d) => d !== name));
  deps.traces.write({
    action: 'annuaire.withdraw-cancel',
    actor: deps.actor,
    means: { service: 'annuaire' },
    request: { domain: name },
    response: { ok: true },
  });
  return true;
}
