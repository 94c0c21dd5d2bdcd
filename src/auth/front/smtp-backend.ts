// The submission fronts' view of Postfix before any LPS has logged in. The fronts answer the
// pre-login dialogue themselves (greeting, EHLO, STARTTLS, NOOP…) and connect to Postfix
// only once a login was decided, so that clients that never log in hold no smtpd process
// (one per connection, `default_process_limit` 100: a hundred idle connections used to
// lock every LPS out of 587). What they announce must still be Postfix's: its greeting and
// its EHLO keywords before and after STARTTLS are read from Postfix by one short probe,
// kept for `ttlMs`, and shared by every session (one probe at a time). Its STARTTLS is the
// front's first with Postfix: the sessions resume the TLS session it got (backend-tls.ts).
import net from 'node:net';
import type { Logger } from '../../log.js';
import type { BackendTlsClient } from './backend-tls.js';
import { LineSocket } from './line-socket.js';
import { proxyV1Header } from './proxy-protocol.js';

export interface SmtpBackendProfile {
  /** Postfix's 220 greeting lines. */
  greeting: string[];
  /** Its EHLO reply lines before STARTTLS, and after. */
  ehlo: string[];
  ehloTls: string[];
}

/** One (possibly multi-line) SMTP reply, or undefined when the connection ended first. */
export async function readSmtpReply(socket: LineSocket | undefined): Promise<string[] | undefined> {
  const lines: string[] = [];
  for (;;) {
    const line = await socket?.line();
    if (line === undefined) return undefined;
    lines.push(line);
    if (!/^\d{3}-/.test(line)) return lines;
  }
}

export class SmtpBackendProbe {
  private cached: { at: number; profile: SmtpBackendProfile } | undefined;
  private probing: Promise<SmtpBackendProfile | undefined> | undefined;
  /** Probes made (tests: one per ttl, not one per client). */
  probes = 0;

  constructor(
    private readonly backend: { host: string; port: number },
    /** The front's STARTTLS towards Postfix: the probe's handshake gives the sessions their TLS session to resume. */
    readonly tls: BackendTlsClient,
    private readonly log: Logger,
    private readonly ttlMs = 60_000,
    private readonly timeoutMs = 10_000,
  ) {}

  /** Postfix's greeting and EHLO replies, or undefined when Postfix cannot be reached now. */
  async profile(): Promise<SmtpBackendProfile | undefined> {
    const c = this.cached;
    if (c && Date.now() - c.at < this.ttlMs) return c.profile;
    this.probing ??= this.probe().finally(() => (this.probing = undefined));
    return this.probing;
  }

  private async probe(): Promise<SmtpBackendProfile | undefined> {
    this.probes += 1;
    const socket = net.connect({ host: this.backend.host, port: this.backend.port, noDelay: true });
    const timer = setTimeout(() => socket.destroy(), this.timeoutMs);
    try {
      const connected = await new Promise<boolean>((resolve) => {
        socket.once('connect', () => resolve(true));
        socket.once('error', () => resolve(false));
      });
      if (!connected) throw new Error('connection refused');
      socket.on('error', () => {});
      // Postfix expects a PROXY header on this listener; this one names the front itself.
      socket.write(proxyV1Header(socket));
      const ls = new LineSocket(socket, 64 * 1024);
      const step = async (command: string | undefined, code: string): Promise<string[]> => {
        if (command) ls.write(`${command}\r\n`);
        const reply = await readSmtpReply(ls);
        if (!reply?.[0]?.startsWith(code)) throw new Error(`${command ?? 'greeting'}: ${reply?.join(' | ') ?? 'connection closed'}`);
        return reply;
      };
      const greeting = await step(undefined, '220');
      const ehlo = await step('EHLO localhost', '250');
      await step('STARTTLS', '220');
      const secure = await this.tls.upgrade(ls, this.timeoutMs);
      secure.on('error', () => {});
      const ehloTls = await step('EHLO localhost', '250');
      ls.write('QUIT\r\n');
      const profile = { greeting, ehlo, ehloTls };
      this.cached = { at: Date.now(), profile };
      return profile;
    } catch (err) {
      this.log.error({ backend: this.backend, err: (err as Error).message }, 'Postfix probe failed: the submission front cannot greet clients');
      return undefined;
    } finally {
      clearTimeout(timer);
      socket.destroy();
    }
  }
}
