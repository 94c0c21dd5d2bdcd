// The two AUTH-CLI fronts from the configuration, with the trust store and CRLs of
// `trust.dir` / `trust.crlDir`, the registry, and the ticket book they share with the checker.
import fs from 'node:fs';
import tls from 'node:tls';
import { MssError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { mssTlsOptions } from '../../pki/tls-profile.js';
import type { AuthCliConfig, SessionLimits } from '../config.js';
import type { MailboxAccess } from '../ports.js';
import { AuthCliFront } from './authcli-front.js';
import { ClientCertVerifier } from './client-cert.js';
import type { TicketBook } from './tickets.js';

export interface AuthCliFronts {
  imap: AuthCliFront;
  submission: AuthCliFront;
  certificates: ClientCertVerifier;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export async function buildAuthCliFronts(
  cfg: AuthCliConfig,
  trust: { dir: string; crlDir?: string },
  limits: SessionLimits,
  deps: { access: Pick<MailboxAccess, 'decideApplication' | 'recordFailedLogin'>; tickets: TicketBook; log: Logger },
): Promise<AuthCliFronts> {
  const read = (file: string, key: string): string => {
    try {
      return fs.readFileSync(file, 'utf8');
    } catch (err) {
      throw new MssError('CONFIG_AUTHCLI_TLS', `cannot read ${file} (auth.authCli.${key}): ${(err as Error).message}`, { file });
    }
  };
  // EX_LPS_0100, EX_LPS_0200: the same TLS profile as every API LPS entry point.
  const serverContext = tls.createSecureContext({ ...mssTlsOptions(), cert: read(cfg.certificate, 'certificate'), key: read(cfg.key, 'key') });
  const certificates = await ClientCertVerifier.fromDirs(trust.dir, trust.crlDir, deps.log);
  const common = { serverContext, certificates, access: deps.access, tickets: deps.tickets, limits };
  const imap = new AuthCliFront({ ...common, protocol: 'imap', listen: cfg.imap.listen, backend: cfg.imap.backend, log: deps.log.child({ front: 'authcli-imap' }) });
  const submission = new AuthCliFront({ ...common, protocol: 'smtp', listen: cfg.submission.listen, backend: cfg.submission.backend, log: deps.log.child({ front: 'authcli-submission' }) });
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
      reload = setInterval(() => void certificates.reloadCrls().catch((err: unknown) => deps.log.error({ err }, 'CRL reload failed')), cfg.crlReloadSeconds * 1000);
      reload.unref();
    },
    async stop() {
      clearInterval(reload);
      await Promise.all([imap.stop(), submission.stop()]);
    },
  };
}
