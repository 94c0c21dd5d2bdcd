// The two fronts of the PSC entry points, which `serve` runs when the configuration has an
// `auth` section with `front.enabled` (the default): IMAP 143 and submission 587, which both
// terminate TLS and answer AUTHENTICATE / AUTH XOAUTH2 themselves (EX_LPS_0710's exact
// replies; Dovecot 2.3 sends an XOAUTH2 error challenge before its NO, Postfix 3.7 its own
// 535 text), then log in to Dovecot / Postfix with a one-time ticket.
import type tls from 'node:tls';
import type { Config } from '../../config/schema.js';
import type { Logger } from '../../log.js';
import { Admission } from '../../net/admission.js';
import type { ConnectionLimits, SessionLimits } from '../config.js';
import type { LoginThrottle } from '../login-throttle.js';
import type { TicketBook } from '../tickets.js';
import { BackendTlsClient } from './backend-tls.js';
import type { FrontGuards } from './listener.js';
import { SmtpBackendProbe } from './smtp-backend.js';
import { entryPointTlsContext } from './tls-context.js';
import { TlsFront, type TlsFrontOptions } from './tls-front.js';
import { PscImapSession, type PscImapSessionDeps } from './xoauth2-imap-session.js';
import { PscSmtpSession, type PscSmtpSessionDeps } from './xoauth2-smtp-session.js';

export interface LpsFront {
  readonly port: number;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface PscSubmissionOptions {
  listen: { host: string; port: number };
  backend: { host: string; port: number };
  serverContext: tls.SecureContext;
  limits: SessionLimits;
  /** `auth.psc.maxTokenBytes`: the AUTH line must be able to carry such a token. */
  maxTokenBytes: number;
  psc: PscSmtpSessionDeps['psc'];
  tickets: TicketBook;
  /** Limits before login (auth.connections) and on refused logins (auth.failedLogins), shared by every front. */
  guards?: FrontGuards;
  throttle?: LoginThrottle;
  log: Logger;
  /** STARTTLS towards the backend; by default the front's own (tests pass one to read its counters). */
  backendTls?: BackendTlsClient;
}

/** `AUTH XOAUTH2 ` and the base64 of `user=<address>^Aauth=Bearer <token>^A^A` (addresses ≤ 254 bytes). */
const authLineLimit = (maxTokenBytes: number): number => 13 + Math.ceil((maxTokenBytes + 5 + 254 + 12 + 3) / 3) * 4;

/** The TLS-terminating front of the PSC submission entry point (587). */
export function pscSubmissionFront(opts: PscSubmissionOptions): TlsFront {
  const { listen, maxTokenBytes, guards, ...rest } = opts;
  const backendTls = opts.backendTls ?? new BackendTlsClient();
  const postfix = new SmtpBackendProbe(opts.backend, backendTls, opts.log);
  const deps: PscSmtpSessionDeps = {
    ...rest,
    backendTls,
    ...(guards ? { guards } : {}),
    postfix,
    protocol: 'smtp',
    requestCert: false,
    maxLine: authLineLimit(maxTokenBytes),
  };
  return pscFront('submission', opts, (s, slot, onEnd) => new PscSmtpSession(s, slot, deps, onEnd));
}

/** `AUTHENTICATE XOAUTH2 ` and the same base64 (IMAP tags are short). */
const imapAuthLineLimit = (maxTokenBytes: number): number => 64 + authLineLimit(maxTokenBytes);

/** The TLS-terminating front of the PSC IMAP entry point (143). */
export function pscImapFront(opts: PscSubmissionOptions): TlsFront {
  const { listen, maxTokenBytes, guards, ...rest } = opts;
  const deps: PscImapSessionDeps = {
    ...rest,
    ...(guards ? { guards } : {}),
    backendTls: opts.backendTls ?? new BackendTlsClient(),
    protocol: 'imap',
    requestCert: false,
    maxLine: imapAuthLineLimit(maxTokenBytes),
  };
  return pscFront('imap', opts, (s, slot, onEnd) => new PscImapSession(s, slot, deps, onEnd));
}

function pscFront(name: 'imap' | 'submission', opts: PscSubmissionOptions, session: TlsFrontOptions['session']): TlsFront {
  const { guards } = opts;
  return new TlsFront({
    name,
    configKey: `auth.front.${name}.listen`,
    listen: opts.listen,
    protocol: name === 'imap' ? 'imap' : 'smtp',
    ...(guards ? { guards } : {}),
    log: opts.log,
    session,
  });
}

export function lpsFronts(
  config: Config,
  deps: { psc: PscSmtpSessionDeps['psc']; tickets: TicketBook; guards?: FrontGuards; throttle?: LoginThrottle; log: Logger },
): LpsFront[] {
  const auth = config.auth;
  if (!auth?.front.enabled) return [];
  const { imap, submission } = auth.front;
  const { guards, throttle } = deps;
  const common = {
    // EX_LPS_0100, EX_LPS_0200: the same TLS profile as every API LPS entry point.
    serverContext: entryPointTlsContext(auth.front, 'auth.front'),
    limits: auth.sessions,
    maxTokenBytes: auth.psc.maxTokenBytes,
    psc: deps.psc,
    tickets: deps.tickets,
    ...(guards ? { guards } : {}),
    ...(throttle ? { throttle } : {}),
  };
  return [
    pscImapFront({ ...imap, ...common, log: deps.log.child({ front: 'imap' }) }),
    pscSubmissionFront({ ...submission, ...common, log: deps.log.child({ front: 'submission' }) }),
  ];
}

/** The pre-login limits every front of one `serve` shares (auth.connections): one admission for all. */
export function frontGuards(limits: ConnectionLimits): FrontGuards {
  return { admission: new Admission(limits), preLoginIdleSeconds: limits.preLoginIdleSeconds };
}
