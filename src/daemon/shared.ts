// What the services of one `mss-sidecar serve` process share: one state store, one trace
// writer, one registry and one liste blanche (each reloaded on change), one trust store
// with its CRLs. Opened on first use, closed once when the daemon stops. Without this, each
// service opened its own: the liste blanche was verified three times at start (about half a
// second each for the real list), three registry watchers ran, three trace chains were
// written by one process. With Redis, one spool (store/spool.ts) keeps the journal events
// and logins Redis does not take while it is down, and replays them when it answers again.
import path from 'node:path';
import type { Config } from '../config/schema.js';
import { workerIndex } from './worker-index.js';
import { workerCount } from './config.js';
import { RegistrySync } from '../cluster/registry-sync.js';
import { Journal, type JournalWrite } from '../journal/journal.js';
import type { Logger } from '../log.js';
import { RevocationHolder } from '../pki/revocation-holder.js';
import { TrustStore } from '../pki/truststore.js';
import { Activity, type ActivityWrite } from '../registry/activity.js';
import type { RegistryHolder } from '../registry/holder.js';
import { localDay } from '../registry/login-history.js';
import { openRegistryHolder, openTraceLog } from '../registry/open.js';
import { RuntimeFields } from '../registry/runtime.js';
import { writeOrDefer, type Deferral } from '../store/deferral.js';
import { openStore } from '../store/open.js';
import { RedisStore } from '../store/redis.js';
import { Spool, spoolRoot, spoolWorkers } from '../store/spool.js';
import { SpoolDeferral, SpoolReplayer, type SpoolEvents } from '../store/spooled-writes.js';
import type { StateStore } from '../store/store.js';
import { DovecotSessions } from '../traces/dovecot-sessions.js';
import type { TraceLog } from '../traces/trace-log.js';
import { openWhitelistHolder, type WhitelistHolder } from '../whitelist/holder.js';

/** What the daemon's spool may hold: every kind is idempotent (store/spool.ts). */
export type DeferredWrite = JournalWrite | ActivityWrite | { kind: 'logins-recorded-since'; day: string };

export class SharedResources {
  private readonly closers: Array<() => unknown> = [];
  private storeValue: StateStore | undefined;
  private spoolValue: { spool: Spool<DeferredWrite>; deferral: Deferral<DeferredWrite>; replayer: SpoolReplayer<DeferredWrite> } | undefined;
  /** Counters of spooled and replayed writes, for /metrics (set by the metrics service). */
  spoolEvents: SpoolEvents = {};
  private tracesValue: TraceLog | undefined;
  private trustValue: TrustStore | undefined;
  private registryValue: Promise<RegistryHolder> | undefined;
  private whitelistValue: Promise<WhitelistHolder> | undefined;
  private revocationValue: Promise<RevocationHolder> | undefined;
  private activityValue: Promise<Activity> | undefined;
  private registrySyncValue: RegistrySync | undefined;

  constructor(
    readonly config: Config,
    private readonly log: Logger,
  ) {}

  store(): StateStore {
    if (!this.storeValue) {
      const store = openStore(this.config.state);
      this.closers.push(() => store.close());
      this.storeValue = store;
    }
    return this.storeValue;
  }

  traces(): TraceLog {
    if (!this.tracesValue) {
      const traces = openTraceLog(this.config);
      this.closers.push(() => traces.close());
      this.tracesValue = traces;
    }
    return this.tracesValue;
  }

  journal(): Journal {
    return new Journal(this.store(), this.deferral());
  }

  /**
   * With Redis: the spool of writes Redis does not take now, and its replayer (started on
   * first use). Undefined with the embedded store, which is local disk already.
   */
  spool(): Spool<DeferredWrite> | undefined {
    return this.spooled()?.spool;
  }

  private deferral(): Deferral<DeferredWrite> | undefined {
    return this.spooled()?.deferral;
  }

  private spooled(): SharedResources['spoolValue'] {
    const store = this.store();
    const redis = this.config.state.redis;
    if (!this.spoolValue && store instanceof RedisStore && redis) {
      const log = this.log.child({ part: 'spool' });
      const events: SpoolEvents = { deferred: (n) => this.spoolEvents.deferred?.(n), replayed: (n, ms) => this.spoolEvents.replayed?.(n, ms) };
      // One spool per process of the node (serve.workers): <state.dir>/spool/<worker number>.
      const root = spoolRoot(this.config);
      const index = workerIndex();
      const replay = (spool: Spool<DeferredWrite>): SpoolReplayer<DeferredWrite> => {
        const replayer = new SpoolReplayer<DeferredWrite>({
          spool,
          ping: () => store.ping(2000),
          apply: (ops) => this.applyDeferred(store, ops),
          intervalMs: redis.replayIntervalMs,
          log,
          events,
        }).start();
        // Stopped before the store closes (closers run last opened first).
        this.closers.push(() => replayer.stop());
        return replayer;
      };
      const spool = new Spool<DeferredWrite>(path.join(root, String(index)), { maxBytes: redis.spoolMaxBytes });
      const replayer = replay(spool);
      // Worker 1 also replays what workers that no longer run left (serve.workers lowered).
      if (index === 1) {
        const count = workerCount(this.config.serve);
        for (const n of spoolWorkers(root).filter((w) => w > count))
          replay(new Spool<DeferredWrite>(path.join(root, String(n)), { maxBytes: redis.spoolMaxBytes }));
      }
      this.spoolValue = { spool, deferral: new SpoolDeferral(spool, log, events), replayer };
    }
    return this.spoolValue;
  }

  /** Replay a batch in order; consecutive journal writes go to Redis in one pipeline. */
  private async applyDeferred(store: StateStore, ops: DeferredWrite[]): Promise<void> {
    let records: JournalWrite['records'] = [];
    const flush = async (): Promise<void> => {
      if (records.length > 0) await store.journalAppend(records);
      records = [];
    };
    for (const op of ops) {
      if (op.kind === 'journal') {
        records.push(...op.records);
        continue;
      }
      await flush();
      if (op.kind === 'logins-recorded-since') await new RuntimeFields(store).markLoginsRecordedSince(op.day);
      else {
        const activity = await this.activity();
        if (op.kind === 'login') await activity.applyLogin(op);
        else await activity.applyExchange(op);
      }
    }
    await flush();
  }

  /** With Redis: the registry shared by the nodes (cluster/registry-sync.ts). */
  registrySync(): RegistrySync | undefined {
    if (!this.config.state.redis) return undefined;
    this.registrySyncValue ??= new RegistrySync(this.store(), this.config.registry.file, this.config.state.dir, this.log.child({ part: 'registry-sync' }));
    return this.registrySyncValue;
  }

  trust(): TrustStore {
    this.trustValue ??= TrustStore.fromDir(this.config.trust.dir);
    return this.trustValue;
  }

  registry(): Promise<RegistryHolder> {
    this.registryValue ??= this.opened(openRegistryHolder(this.config, this.log.child({ part: 'registry' })), (h) => h.close());
    return this.registryValue;
  }

  whitelist(): Promise<WhitelistHolder> {
    // EX_2.2_5050: the list's signer is checked against the same reloading CRLs as the peers.
    const overrides = async () => ({ trust: this.trust(), ...(this.config.trust.crlDir ? { revocation: await this.revocation() } : {}) });
    this.whitelistValue ??= this.opened(
      overrides().then((o) => openWhitelistHolder(this.config, this.log.child({ part: 'whitelist' }), {}, o)),
      (h) => h.close(),
    );
    return this.whitelistValue;
  }

  revocation(): Promise<RevocationHolder> {
    this.revocationValue ??= this.opened(
      RevocationHolder.open({
        trust: this.trust(),
        ...(this.config.trust.crlDir ? { dir: this.config.trust.crlDir } : {}),
        requireCurrent: this.config.crl.requireCurrent,
        pollMs: this.config.crl.pollMs,
        log: this.log.child({ part: 'crl' }),
      }),
      (h) => h.close(),
    );
    return this.revocationValue;
  }

  /** Last login / last exchange recording, on the shared registry, store and traces. */
  activity(): Promise<Activity> {
    this.activityValue ??= this.registry().then(async (registry) => {
      const runtime = new RuntimeFields(this.store());
      const timeZone = this.config.operator.timeZone;
      const deferral = this.deferral();
      // EX_SSU_5800: from today on, a mailbox without a recorded login has never connected.
      const day = localDay(new Date(), timeZone);
      await writeOrDefer(deferral, { kind: 'logins-recorded-since', day } as DeferredWrite, () => runtime.markLoginsRecordedSince(day));
      return new Activity({
        registry: () => registry.current(),
        runtime,
        traces: this.traces(),
        timeZone,
        sessions: new DovecotSessions(this.store()),
        ...(deferral ? { deferral } : {}),
      });
    });
    return this.activityValue;
  }

  /**
   * Read again, now, whatever was opened among the registry, the liste blanche and the CRLs
   * (SIGHUP). Each keeps what it has if the new content does not load. Returns, for each,
   * what is in use afterwards (for the log line an operator reads after `systemctl reload`).
   */
  async reload(): Promise<Record<string, string>> {
    const summary: Record<string, string> = {};
    const pending: Array<Promise<unknown>> = [];
    const state = (changed: boolean): string => (changed ? 'reloaded' : 'unchanged');
    if (this.registryValue) {
      pending.push(
        this.registryValue.then(
          async (h) =>
            (summary.registry = `${state(await h.reload())}: ${h.current().size} mailboxes${h.lastError ? ` (the file on disk is refused: ${h.lastError.code})` : ''}`),
        ),
      );
    }
    if (this.whitelistValue) {
      pending.push(
        this.whitelistValue.then((h) => {
          const changed = h.reload();
          const index = h.index;
          summary.whitelist = index ? `${state(changed)}: generated ${index.generated}, ${index.domainCount} domains` : 'none available';
        }),
      );
    }
    if (this.revocationValue) {
      pending.push(
        this.revocationValue.then(
          async (h) => (await h.reload(), (summary.crl = `reloaded: ${h.current.crls.length} CRLs, ${h.current.deltas.length} deltas`)),
        ),
      );
    }
    await Promise.all(pending);
    return summary;
  }

  /** Close everything opened, last opened first. */
  async close(): Promise<void> {
    for (const close of this.closers.splice(0).reverse()) {
      try {
        await close();
      } catch (err) {
        this.log.error({ err }, 'a shared resource did not close cleanly');
      }
    }
  }

  private opened<T>(pending: Promise<T>, close: (value: T) => unknown): Promise<T> {
    return pending.then((value) => {
      this.closers.push(() => close(value));
      return value;
    });
  }
}
