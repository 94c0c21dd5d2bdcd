// One message handed over by Postfix (one LMTP transaction), delivered to every recipient
// domain at once: a verified session per domain (remote.ts, from the cache when one is
// idle), MAIL and RCPT per domain, then the message streamed to all of them together —
// never held whole: up to 128 KB are read ahead while the sessions open (prefetch.ts), then
// each chunk goes to every session, and the next one is read only when the slowest has
// taken it. Each recipient ends with its own outcome, which becomes its
// LMTP reply, so Postfix retries only the deferred ones and never repeats a delivered one.
import type { Readable } from 'node:stream';
import type { SMTPServerAddress } from 'smtp-server';
import { asMssError } from '../../errors.js';
import { splitAddress } from '../address.js';
import type { GateDeps } from '../deps.js';
import { mailCommand, needsSmtputf8, rcptCommand } from '../envelope.js';
import { formatReply, oneLine, refusal, type Reply } from '../reply.js';
import type { SmtpClient } from '../smtp-client.js';
import type { MxResolver } from './mx.js';
import { openRemote, stillValid, type RemoteSession } from './remote.js';
import type { SessionCache } from './session-cache.js';
import { ContentPrefetch } from './prefetch.js';

/** What is read of a message ahead of the 354s: one content write batch (smtp-client.ts), an ordinary message whole. */
const PREFETCH_BYTES = 128 * 1024;

export type Outcome = 'delivered' | 'bounced' | 'deferred';

export interface RecipientResult {
  /** The LMTP reply given to Postfix for this recipient. */
  reply: Reply & { reason?: string };
  outcome: Outcome;
  /** Receiving server, "host[address]:port", when one was reached. */
  remote?: string;
  /** DN of the receiving connector, when it was verified. */
  peer?: string;
}

interface Leg {
  domain: string;
  session: RemoteSession;
  /** Indices of the recipients the remote server accepted. */
  accepted: number[];
  broken: boolean;
}

export interface OutboundMessage {
  mailFrom: SMTPServerAddress;
  rcpts: readonly SMTPServerAddress[];
  /** SIZE announced by Postfix, passed on. */
  size?: number;
  stream: Readable;
  /** Sees every chunk as it passes (header sniffing for the traces). */
  onChunk?: (chunk: Buffer) => void;
}

export function outcomeOf(r: Reply): Outcome {
  return r.code < 400 ? 'delivered' : r.code < 500 ? 'deferred' : 'bounced';
}

const where = (s: RemoteSession, port: number): string => `${s.target.host}[${s.target.address}]:${port}`;

export class Delivery {
  private readonly results: Array<RecipientResult | undefined>;
  private readonly port: number;

  constructor(
    private readonly msg: OutboundMessage,
    private readonly deps: GateDeps,
    private readonly mx: MxResolver,
    private readonly cache: SessionCache,
  ) {
    this.results = new Array(msg.rcpts.length);
    this.port = deps.config.gates.out.remotePort;
  }

  private set(i: number, reply: Reply, s?: RemoteSession): void {
    this.results[i] = { reply, outcome: outcomeOf(reply), ...(s ? { remote: where(s, this.port), peer: s.peer.dn } : {}) };
  }

  /** A remote server's answer, relayed to Postfix with who said it. */
  private remote(i: number, r: Reply, s: RemoteSession): void {
    const said = `${where(s, this.port)} said: ${formatReply(r)}`;
    const enhanced = r.enhanced || (r.code < 300 ? '2.0.0' : r.code < 500 ? '4.0.0' : '5.0.0');
    if (r.code < 300) this.set(i, { code: 250, enhanced, text: `<${this.msg.rcpts[i]?.address}> delivered to ${said}` }, s);
    else this.set(i, { code: r.code, enhanced, text: said }, s);
  }

  async run(): Promise<RecipientResult[]> {
    const cfg = this.deps.config.gates.out;
    const groups = new Map<string, number[]>();
    this.msg.rcpts.forEach((r, i) => {
      const d = splitAddress(r.address).domain;
      groups.set(d, [...(groups.get(d) ?? []), i]);
    });
    const deadline = Date.now() + cfg.timeouts.setupMs;
    // Postfix's content is read while the sessions open and the 354s come (prefetch.ts, issue 20).
    const content = new ContentPrefetch(this.msg.stream, PREFETCH_BYTES, this.msg.onChunk);
    let legs: Leg[];
    try {
      legs = (await Promise.all([...groups].map(([domain, idx]) => this.openLeg(domain, idx, deadline)))).filter((l): l is Leg => l !== undefined);
    } catch (err) {
      await content.discard();
      throw err;
    }
    await this.stream(legs, content);
    await Promise.all(legs.map((leg) => this.finish(leg)));
    return this.results.map((r) => r ?? { reply: refusal('GATE_OUT_INTERNAL', 451, '4.3.0', 'delivery not attempted'), outcome: 'deferred' as const });
  }

  private async session(domain: string, idx: number[], deadline: number): Promise<RemoteSession | undefined> {
    const resolved = await this.mx.resolve(domain);
    if (!resolved.ok) {
      for (const i of idx) this.set(i, resolved.refusal);
      return undefined;
    }
    const open = await openRemote(domain, resolved.targets, this.deps, deadline);
    if (!open.ok) {
      for (const i of idx) this.set(i, open.refusal);
      return undefined;
    }
    return open.session;
  }

  private async openLeg(domain: string, idx: number[], deadline: number): Promise<Leg | undefined> {
    let session = this.cache.take(domain);
    if (session && !stillValid(session, this.deps)) {
      void session.client.quit();
      session = undefined;
    }
    let cached = session !== undefined;
    for (;;) {
      session ??= await this.session(domain, idx, deadline);
      if (!session) return undefined;
      const client = session.client;
      const has = (k: string): boolean => client.feature(k) !== undefined;
      try {
        if (needsSmtputf8(this.msg.mailFrom) && !has('SMTPUTF8')) {
          // RFC 6531 §3.4: an internationalised message cannot be downgraded here.
          for (const i of idx)
            this.set(
              i,
              refusal('GATE_OUT_NO_SMTPUTF8', 553, '5.6.7', `${where(session, this.port)} does not support SMTPUTF8, which this message needs`),
              session,
            );
          this.cache.park(session);
          return undefined;
        }
        // MAIL, every RCPT and DATA in one write when the server pipelines (RFC 2920).
        const lines = [mailCommand(this.msg.mailFrom, has, this.msg.size), ...idx.map((i) => rcptCommand(this.msg.rcpts[i] as SMTPServerAddress, has)), 'DATA'];
        const replies = has('PIPELINING') ? await client.pipeline(lines) : await this.lockstep(client, lines);
        const [mail, ...rest] = replies as [Reply, ...Reply[]];
        const go = rest[idx.length];
        const accepted: number[] = [];
        if (mail.code !== 250) for (const i of idx) this.remote(i, mail, session);
        else {
          const current = session;
          idx.forEach((i, k) => {
            const r = rest[k] as Reply;
            if (r.code === 250 || r.code === 251) accepted.push(i);
            else this.remote(i, r, current);
          });
        }
        if (accepted.length === 0 || go?.code !== 354) {
          for (const i of accepted) this.remote(i, go ?? mail, session);
          // A server that said 354 anyway gets an empty message it must refuse (RFC 2920 §3.1).
          if (go?.code === 354) await client.endData(this.deps.config.gates.out.timeouts.dataDoneMs);
          await this.reset(session);
          return undefined;
        }
        return { domain, session, accepted, broken: false };
      } catch (thrown) {
        client.destroy();
        // A cached session the server closed while idle: once more with a fresh one.
        if (cached) {
          cached = false;
          session = undefined;
          continue;
        }
        const err = asMssError(thrown);
        for (const i of idx)
          if (!this.results[i]) this.set(i, refusal('GATE_OUT_CONNECTION_LOST', 451, '4.4.2', `${where(session, this.port)}: ${err.message}`), session);
        return undefined;
      }
    }
  }

  /** Without PIPELINING: one command at a time, stopping at the first refusal that ends the transaction. */
  private async lockstep(client: SmtpClient, lines: readonly string[]): Promise<Reply[]> {
    const replies: Reply[] = [];
    const mail = await client.command(lines[0] as string);
    replies.push(mail);
    if (mail.code !== 250) return replies;
    let accepted = 0;
    for (const line of lines.slice(1, -1)) {
      const r = await client.command(line);
      if (r.code === 250 || r.code === 251) accepted++;
      replies.push(r);
    }
    if (accepted > 0) replies.push(await client.command('DATA'));
    return replies;
  }

  /** After a refused transaction: RSET, and keep the session for the next message if it agrees. */
  private async reset(session: RemoteSession): Promise<void> {
    try {
      if ((await session.client.command('RSET')).code === 250) {
        this.cache.park(session);
        return;
      }
    } catch {
      /* closed below */
    }
    session.client.destroy();
  }

  /** Every chunk to every leg; the next chunk only when all took this one (bounded memory). */
  private async stream(legs: Leg[], content: ContentPrefetch): Promise<void> {
    const commandMs = this.deps.config.gates.out.timeouts.commandMs;
    for await (const chunk of content.content()) {
      const waits: Array<Promise<void>> = [];
      for (const leg of legs) {
        if (leg.broken) continue;
        if (!leg.session.client.writeData(chunk)) waits.push(drainWithin(leg, commandMs));
      }
      if (waits.length > 0) await Promise.all(waits);
    }
  }

  private async finish(leg: Leg): Promise<void> {
    const { session } = leg;
    try {
      if (leg.broken) throw new Error('the server stopped reading the message');
      const final = await session.client.endData(this.deps.config.gates.out.timeouts.dataDoneMs);
      session.uses++;
      for (const i of leg.accepted) this.remote(i, final, session);
      this.cache.park(session);
    } catch (thrown) {
      session.client.destroy();
      const why = oneLine(asMssError(thrown).message);
      for (const i of leg.accepted)
        this.set(
          i,
          refusal('GATE_OUT_CONNECTION_LOST', 451, '4.4.2', `${where(session, this.port)}: lost during the message (${why}); will try again`),
          session,
        );
    }
  }
}

/** Wait for a leg to take more data; a server that stops reading is dropped, not waited for. */
async function drainWithin(leg: Leg, ms: number): Promise<void> {
  const client: SmtpClient = leg.session.client;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = await Promise.race([
    client.drain().then(() => false),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), ms);
    }),
  ]);
  clearTimeout(timer);
  if (timedOut) {
    leg.broken = true;
    client.destroy();
  }
}
