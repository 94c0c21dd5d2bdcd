// The two AUTH-CLI fronts from the configuration, with the trust store and CRLs of
// `trust.dir` / `trust.crlDir`, the registry, and the ticket book they share with the checker.
// Dovecot 2.3 cannot give a passdb the certificate's OU together with the PLAIN login, and
// Postfix passes no client certificate to Dovecot SASL, so these fronts terminate STARTTLS
// themselves and decide (EX_LPS_1100, EX_LPS_1200); see docs/auth.md.
import type { Logger } from '../../log.js';
import type { AuthCliConfig, SessionLimits } from '../config.js';
import { BackendTlsClient } from '../front/backend-tls.js';
import type { FrontGuards } from '../front/listener.js';
import { SmtpBackendProbe } from '../front/smtp-backend.js';
import { entryPointTlsContext } from '../front/tls-context.js';
import type { LoginThrottle } from '../login-throttle.js';
import { TlsFront } from '../front/tls-front.js';
import type { MailboxAccess } from '../ports.js';
import type { TicketBook } from '../tickets.js';
import { ClientCertVerifier } from './client-cert.js';
import { ImapAuthCliSession } from './imap-session.js';
import { SmtpAuthCliSession } from './smtp-session.js';

export interface AuthCliFronts {
  imap: TlsFront;
  submission: TlsFront;
  certificates: ClientCertVerifier;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export async function buildAuthCliFronts(
  cfg: AuthCliConfig,
  trust: { dir: string; crlDir?: string },
  limits: SessionLimits,
  deps: {
    access: Pick<MailboxAccess, 'decideApplication' | 'recordFailedLogin'>;
    tickets: TicketBook;
    /** Limits before login (auth.connections) and on refused logins (auth.failedLogins), shared with the PSC fronts. */
    guards?: FrontGuards;
    throttle?: LoginThrottle;
    log: Logger;
  },
): Promise<AuthCliFronts> {
  // EX_LPS_0100, EX_LPS_0200: the same TLS profile as every API LPS entry point.
  const serverContext = entryPointTlsContext(cfg, 'auth.authCli');
  const certificates = await ClientCertVerifier.fromDirs(trust.dir, trust.crlDir, deps.log);
  const { guards, throttle } = deps;
  const policy = { ...(guards ? { guards } : {}), ...(throttle ? { throttle } : {}) };
  const common = { serverContext, requestCert: true, certificates, access: deps.access, tickets: deps.tickets, limits, ...policy };
  const imapLog = deps.log.child({ front: 'authcli-imap' });
  const imapDeps = { ...common, protocol: 'imap' as const, backend: cfg.imap.backend, backendTls: new BackendTlsClient(), log: imapLog };
  const imap = new TlsFront({
    name: 'authcli-imap',
    configKey: 'auth.authCli.imap.listen',
    listen: cfg.imap.listen,
    protocol: 'imap',
    ...policy,
    log: imapLog,
    session: (s, slot, onEnd) => new ImapAuthCliSession(s, slot, imapDeps, onEnd),
  });
  const smtpLog = deps.log.child({ front: 'authcli-submission' });
  const smtpTls = new BackendTlsClient();
  const smtpDeps = {
    ...common,
    protocol: 'smtp' as const,
    backend: cfg.submission.backend,
    backendTls: smtpTls,
    postfix: new SmtpBackendProbe(cfg.submission.backend, smtpTls, smtpLog),
    log: smtpLog,
  };
  const submission = new TlsFront({
    name: 'authcli-submission',
    configKey: 'auth.authCli.submission.listen',
    listen: cfg.submission.listen,
    protocol: 'smtp',
    ...policy,
    log: smtpLog,
    session: (s, slot, onEnd) => new SmtpAuthCliSession(s, slot, smtpDeps, onEnd),
  });
  let reload: NodeJS.Timeout | undefined;
  return {
    imap,
    submission,
    certificates,
    async start() {
      await imap.start();
      try {
        await submission.start();
      } catch (err) {
        await imap.stop();
        throw err;
      }
      reload = setInterval(
        () => void certificates.reloadCrls().catch((err: unknown) => deps.log.error({ err }, 'CRL reload failed')),
        cfg.crlReloadSeconds * 1000,
      );
      reload.unref();
    },
    async stop() {
      clearInterval(reload);
      await Promise.all([imap.stop(), submission.stop()]);
    },
  };
}
