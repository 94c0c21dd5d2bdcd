// What the auth and submission parts call when a mailbox is used:
//   recordLogin   — every successful authentication to a BAL (IMAP, SMTP, API LPS, a
//                   delegate included): last login for the Connexions statistics and the
//                   inactivity rules, an EX_GDT_5060 trace, and re-publication of a BAL that
//                   the operator had depublished for inactivity (EX_GBM_4440) unless the
//                   user had chosen liste rouge themselves.
//   recordExchange — a message sent or received by an APP BAL (RE_SSU_5800);
//                   recordExchangeOrReport once the message went on (a failure reported, not thrown).
// With a Deferral (the daemon's spool), the store part of either waits on local disk while
// Redis does not answer and is applied later (applyLogin, applyExchange); the login trace
// is written in any case.
import { asMssError } from '../errors.js';
import { instruments, type ExchangeService } from '../health/instruments.js';
import type { Logger } from '../log.js';
import { writeOrDefer, type Deferral } from '../store/deferral.js';
import type { DovecotSessions } from '../traces/dovecot-sessions.js';
import type { TraceLog } from '../traces/trace-log.js';
import type { Registry } from './registry.js';
import type { RuntimeFields } from './runtime.js';

export interface LoginInfo {
  /** EX_GDT_5060: how the user authenticated, e.g. "PSC/XOAUTH2", "AUTH-CLI certificate". */
  authType: string;
  /** The authenticated identity (IdNat, or the certificate's structure for an APP BAL). */
  identity: string;
  /** For a delegate: the holder/responsible/co-holder acted for. */
  delegateOf?: string;
  /** imap, submission, api-lps... */
  service: string;
  /** Mail client or software (ID command, User-Agent, NIL). */
  client?: string;
  /** Network address of the client. */
  address?: string;
  /** Dovecot's session id (IMAP logins): the content-operation traces find who acted by it. */
  session?: string;
}

/** The store part of a login or an exchange, kept for later by a Deferral. */
export type ActivityWrite =
  { kind: 'login'; address: string; at: string; identity: string; service: string } | { kind: 'exchange'; address: string; at: string };

export interface ActivityDeps {
  registry: () => Registry;
  runtime: RuntimeFields;
  traces: TraceLog;
  deferral?: Deferral<ActivityWrite>;
  /** operator.timeZone: months of the per-month login history (EX_PSU_5840). */
  timeZone: string;
  /** Who acted in each Dovecot session, for the content-operation traces (EX_GDT_5030). */
  sessions?: DovecotSessions;
}

export class Activity {
  constructor(private readonly deps: ActivityDeps) {}

  async recordLogin(bal: string, at: Date, info: LoginInfo): Promise<{ republished: boolean }> {
    const address = bal.toLowerCase();
    const entry = this.deps.registry().get(address);
    // EX_GDT_5030: what the Dovecot session then does to the mailbox is traced with this
    // identity; recorded first, as its first commands may already be on their way. A store
    // that does not answer loses it (the content traces then name the session only); the
    // login itself is still recorded below.
    if (info.session && this.deps.sessions) {
      await this.deps.sessions
        .record(info.session, {
          identity: info.identity,
          kind: entry?.type === 'APP' ? 'application' : 'user',
          ...(info.delegateOf ? { delegateOf: info.delegateOf } : {}),
          authType: info.authType,
          ...(info.client ? { client: info.client } : {}),
        })
        .catch(() => undefined);
    }
    let republished = false;
    const op: ActivityWrite = { kind: 'login', address, at: at.toISOString(), identity: info.identity, service: info.service };
    try {
      await writeOrDefer(this.deps.deferral, op, async () => {
        republished = await this.applyLogin(op);
      });
    } finally {
      // EX_GDT_5060: the trace is local; it is written whatever became of the store part.
      this.traceLogin(address, at, info, entry?.type === 'APP', republished);
    }
    return { republished };
  }

  private traceLogin(address: string, at: Date, info: LoginInfo, app: boolean, republished: boolean): void {
    this.deps.traces.write({
      action: 'login',
      actor: { id: info.identity, kind: app ? 'application' : 'user', ...(info.delegateOf ? { onBehalfOf: info.delegateOf } : {}) },
      bal: address,
      means: { service: info.service, authType: info.authType, ...(info.client ? { client: info.client } : {}) },
      ...(info.address ? { address: info.address } : {}),
      request: { at: at.toISOString(), ...(info.session ? { session: info.session } : {}) },
      response: { ok: true, ...(republished ? { republished: true } : {}) },
    });
  }

  /**
   * The store part of a login (also replayed from the spool; idempotent): last login and the
   * month's login, and the end of a depublication for inactivity. True when re-published.
   */
  async applyLogin(op: Extract<ActivityWrite, { kind: 'login' }>): Promise<boolean> {
    const { runtime, traces } = this.deps;
    const { address } = op;
    await runtime.setLastLogin(address, new Date(op.at), op.identity, this.deps.timeZone);
    const entry = this.deps.registry().get(address);
    const state = await runtime.get(address);
    // A login replayed from the spool may be older than a depublication decided since.
    if (!state.depublishedAt || state.depublishedAt.getTime() > Date.parse(op.at)) return false;
    // EX_GBM_4440: a login removes the operator's liste rouge; a liste rouge the user
    // asked for (listeRouge: true in the registry) stays whatever happens here.
    await runtime.setDepublished(address, undefined);
    traces.write({
      action: 'bal.republish',
      actor: { id: 'system:lifecycle', kind: 'system' },
      bal: address,
      means: { service: op.service },
      request: { reason: 'login after depublication for inactivity (EX_GBM_4440)', depublishedAt: state.depublishedAt.toISOString(), loginAt: op.at },
      response: { ok: true, listeRouge: entry?.listeRouge === true ? 'kept: chosen by the user' : 'removed' },
    });
    return entry?.listeRouge !== true;
  }

  async recordExchange(bal: string, at: Date): Promise<void> {
    const op: ActivityWrite = { kind: 'exchange', address: bal.toLowerCase(), at: at.toISOString() };
    await writeOrDefer(this.deps.deferral, op, () => this.applyExchange(op));
  }

  /**
   * RE_SSU_5800 once the message went on (delivered, accepted): a last exchange that cannot
   * be recorded must not fail a message already handed over (a retry would deliver it twice),
   * nor vanish: it is logged with its code (ACTIVITY_EXCHANGE_NOT_RECORDED) and counted
   * (mss_exchanges_not_recorded_total), and the Connexions file shows an older date.
   */
  async recordExchangeOrReport(bal: string, at: Date, service: ExchangeService, log: Logger): Promise<void> {
    try {
      await this.recordExchange(bal, at);
    } catch (err) {
      const e = asMssError(err);
      log.error(
        { code: 'ACTIVITY_EXCHANGE_NOT_RECORDED', cause: e.code, err: e.message, bal, service },
        'last exchange of an APP mailbox not recorded (RE_SSU_5800)',
      );
      instruments.exchangeNotRecorded(service);
    }
  }

  applyExchange(op: Extract<ActivityWrite, { kind: 'exchange' }>): Promise<void> {
    return this.deps.runtime.setLastExchange(op.address, new Date(op.at));
  }
}
