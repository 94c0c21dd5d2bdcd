// What the auth and submission parts call when a mailbox is used:
//   recordLogin   — every successful authentication to a BAL (IMAP, SMTP, API LPS, a
//                   delegate included): last login for the Connexions statistics and the
//                   inactivity rules, an EX_GDT_5060 trace, and re-publication of a BAL that
//                   the operator had depublished for inactivity (EX_GBM_4440) unless the
//                   user had chosen liste rouge themselves.
//   recordExchange — a message sent or received by an APP BAL (RE_SSU_5800).
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

export interface ActivityDeps {
  registry: () => Registry;
  runtime: RuntimeFields;
  traces: TraceLog;
  /** operator.timeZone: months of the per-month login history (EX_PSU_5840). */
  timeZone: string;
  /** Who acted in each Dovecot session, for the content-operation traces (EX_GDT_5030). */
  sessions?: DovecotSessions;
}

export class Activity {
  constructor(private readonly deps: ActivityDeps) {}

  async recordLogin(bal: string, at: Date, info: LoginInfo): Promise<{ republished: boolean }> {
    const address = bal.toLowerCase();
    const { runtime, traces } = this.deps;
    const entry = this.deps.registry().get(address);
    // EX_GDT_5030: what the Dovecot session then does to the mailbox is traced with this
    // identity; recorded first, as its first commands may already be on their way.
    if (info.session && this.deps.sessions) {
      await this.deps.sessions.record(info.session, {
        identity: info.identity,
        kind: entry?.type === 'APP' ? 'application' : 'user',
        ...(info.delegateOf ? { delegateOf: info.delegateOf } : {}),
        authType: info.authType,
        ...(info.client ? { client: info.client } : {}),
      });
    }
    await runtime.setLastLogin(address, at, info.identity, this.deps.timeZone);
    let republished = false;
    const state = await runtime.get(address);
    if (state.depublishedAt) {
      // EX_GBM_4440: a login removes the operator's liste rouge; a liste rouge the user
      // asked for (listeRouge: true in the registry) stays whatever happens here.
      await runtime.setDepublished(address, undefined);
      republished = entry?.listeRouge !== true;
      traces.write({
        action: 'bal.republish',
        actor: { id: 'system:lifecycle', kind: 'system' },
        bal: address,
        means: { service: info.service },
        request: { reason: 'login after depublication for inactivity (EX_GBM_4440)', depublishedAt: state.depublishedAt.toISOString() },
        response: { ok: true, listeRouge: entry?.listeRouge === true ? 'kept: chosen by the user' : 'removed' },
      });
    }
    traces.write({
      action: 'login',
      actor: { id: info.identity, kind: entry?.type === 'APP' ? 'application' : 'user', ...(info.delegateOf ? { onBehalfOf: info.delegateOf } : {}) },
      bal: address,
      means: { service: info.service, authType: info.authType, ...(info.client ? { client: info.client } : {}) },
      ...(info.address ? { address: info.address } : {}),
      request: { at: at.toISOString(), ...(info.session ? { session: info.session } : {}) },
      response: { ok: true, ...(republished ? { republished: true } : {}) },
    });
    return { republished };
  }

  async recordExchange(bal: string, at: Date): Promise<void> {
    await this.deps.runtime.setLastExchange(bal.toLowerCase(), at);
  }
}
