// The AUTH-CLI entry points (priority 20 in the SRV records of TM5.1P): IMAP 143 and
// submission 587 for application mailboxes, authenticated by an IGC-Santé ORG AUTH-CLI
// client certificate (EX_LPS_1100, EX_LPS_1200). Dovecot 2.3 cannot give a passdb the
// certificate's OU together with the PLAIN login, and Postfix passes no client certificate
// to Dovecot SASL, so this front terminates STARTTLS itself and decides; see docs/auth.md.
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { MssError } from '../../errors.js';
import type { AuthCliDeps, AuthCliSession, EndReason } from './session-base.js';
import { ImapAuthCliSession } from './imap-session.js';
import { SmtpAuthCliSession } from './smtp-session.js';

export interface AuthCliFrontOptions extends AuthCliDeps {
  listen: { host: string; port: number };
}

export class AuthCliFront {
  private server: net.Server | undefined;
  private readonly sessions = new Set<AuthCliSession>();
  readonly ended: Partial<Record<EndReason, number>> = {};

  constructor(private readonly opts: AuthCliFrontOptions) {}

  async start(): Promise<void> {
    const server = net.createServer({ pauseOnConnect: true }, (socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(new MssError('FRONT_LISTEN', `the AUTH-CLI ${this.opts.protocol} front cannot listen on ${this.opts.listen.host}:${this.opts.listen.port} (auth.authCli): ${err.message}`, { ...this.opts.listen }, { cause: err })),
      );
      server.listen(this.opts.listen.port, this.opts.listen.host, () => resolve());
    });
    this.server = server;
  }

  get port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? this.opts.listen.port;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of [...this.sessions]) s.end('shutdown');
    await closed;
  }

  private accept(socket: net.Socket): void {
    const onEnd = (reason: EndReason, durationMs: number): void => {
      this.sessions.delete(session);
      this.ended[reason] = (this.ended[reason] ?? 0) + 1;
      const fields = { front: `authcli-${this.opts.protocol}`, rip: socket.remoteAddress, reason, durationMs };
      if (reason === 'idle' || reason === 'max-duration') this.opts.log.info(fields, 'session ended by the EX_LPS_1000 limit');
      else this.opts.log.debug(fields, 'session ended');
    };
    const session = this.opts.protocol === 'imap' ? new ImapAuthCliSession(socket, this.opts, onEnd) : new SmtpAuthCliSession(socket, this.opts, onEnd);
    this.sessions.add(session);
    session.run().catch((err: unknown) => {
      this.opts.log.error({ err }, 'AUTH-CLI session failed');
      session.end('error');
    });
  }
}
