// The inbound gate's side of the before-queue proxy: one SMTP session with the Postfix smtpd
// of postfix/master.cf.d/10-gates.cf per remote session, opened when a transaction is
// complete and used for complete transactions only (server.ts). That smtpd listens on a unix
// socket in Postfix's public/ directory (gates.in.postfix.path), which only Postfix, root and
// the postdrop group — the sidecar's service user — can open: no other local process can
// inject mail behind the gate's checks. XCLIENT hands Postfix the remote client's address and
// HELO, so Postfix logs, restrictions and Received headers name the real peer
// (smtpd_authorized_xclient_hosts; on that socket, the gate is the only client).
import { formatListen } from '../../config/listen-spec.js';
import { MssError } from '../../errors.js';
import type { GateInConfig } from '../config.js';
import { xtext } from '../address.js';
import type { Reply } from '../reply.js';
import { SmtpClient } from '../smtp-client.js';

export interface ClientIdentity {
  address: string;
  port: number;
  helo: string;
}

export class PostfixSession {
  private constructor(readonly client: SmtpClient) {}

  static async open(cfg: GateInConfig['postfix'], ourName: string, peer: ClientIdentity): Promise<PostfixSession> {
    const endpoint = cfg.endpoint;
    const target = endpoint.kind === 'unix' ? { path: endpoint.path } : { host: endpoint.host, port: endpoint.port };
    const client = await SmtpClient.connect({ ...target, connectTimeoutMs: cfg.connectTimeoutMs, commandTimeoutMs: cfg.commandTimeoutMs });
    try {
      expect(client.greeting, 220, 'greeting');
      expect(await client.ehlo(ourName), 250, 'EHLO');
      if (client.feature('XCLIENT') === undefined) {
        throw new MssError(
          'GATE_POSTFIX_NO_XCLIENT',
          `Postfix at ${formatListen(endpoint)} does not offer XCLIENT to the gate: set smtpd_authorized_xclient_hosts on that service (postfix/master.cf.d/10-gates.cf)`,
        );
      }
      const addr = peer.address.includes(':') ? `IPV6:${peer.address}` : peer.address;
      // NAME is unknown (the gate does no PTR lookup); Postfix then does none either.
      expect(
        await client.command(`XCLIENT NAME=[UNAVAILABLE] ADDR=${xtext(addr)} PORT=${peer.port} PROTO=ESMTP HELO=${xtext(peer.helo || '[UNAVAILABLE]')}`),
        220,
        'XCLIENT',
      );
      expect(await client.ehlo(peer.helo || ourName), 250, 'EHLO after XCLIENT');
      return new PostfixSession(client);
    } catch (err) {
      client.destroy();
      throw err;
    }
  }

  get closed(): boolean {
    return this.client.closed;
  }

  async quit(): Promise<void> {
    await this.client.quit();
  }

  destroy(): void {
    this.client.destroy();
  }
}

function expect(reply: Reply, code: number, step: string): void {
  if (reply.code !== code) throw new MssError('GATE_POSTFIX_REFUSED', `Postfix answered ${reply.code} ${reply.enhanced} ${reply.text} to ${step}`, { reply });
}
