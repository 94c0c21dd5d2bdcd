// Plays the MTA side of the milter protocol against a MilterServer, the way Postfix's
// milter8.c does: negotiation, macros before each event, then the event, waiting for a
// reply only where the negotiated steps say one comes. Used by the tests, the fuzzer, the
// benchmark, and the sandbox self-check on a machine without Postfix.
import net from 'node:net';
import { encodeCommand, type MilterCommand } from './commands.js';
import { Action, Cmd, PROTOCOL_VERSION, Proto } from './constants.js';
import { PacketDecoder, type Packet } from './framing.js';
import { decodeAgreement } from './negotiation.js';
import { decodeResponse, type MilterResponse } from './responses.js';

/** What Postfix 3.7 offers with milter_protocol = 6. */
export const POSTFIX_V6_OFFER = {
  version: PROTOCOL_VERSION,
  actions: Object.values(Action).reduce((a, b) => a | b, 0),
  protocol: Object.values(Proto).reduce((a, b) => a | b, 0),
};

const NR_FLAG: Record<string, number> = {
  [Cmd.CONNECT]: Proto.NR_CONN,
  [Cmd.HELO]: Proto.NR_HELO,
  [Cmd.MAIL]: Proto.NR_MAIL,
  [Cmd.RCPT]: Proto.NR_RCPT,
  [Cmd.DATA]: Proto.NR_DATA,
  [Cmd.HEADER]: Proto.NR_HDR,
  [Cmd.EOH]: Proto.NR_EOH,
  [Cmd.BODY]: Proto.NR_BODY,
  [Cmd.UNKNOWN]: Proto.NR_UNKN,
};

const CODE_OF: Record<MilterCommand['type'], string> = {
  optneg: Cmd.OPTNEG,
  macro: Cmd.MACRO,
  connect: Cmd.CONNECT,
  helo: Cmd.HELO,
  mail: Cmd.MAIL,
  rcpt: Cmd.RCPT,
  data: Cmd.DATA,
  header: Cmd.HEADER,
  eoh: Cmd.EOH,
  body: Cmd.BODY,
  eom: Cmd.BODYEOB,
  abort: Cmd.ABORT,
  quit: Cmd.QUIT,
  'quit-nc': Cmd.QUIT_NC,
  unknown: Cmd.UNKNOWN,
};

export class MilterClient {
  private readonly decoder = new PacketDecoder(16 * 1024 * 1024);
  private readonly packets: Packet[] = [];
  private waiters: Array<(p: Packet | undefined) => void> = [];
  private ended = false;
  readonly closed: Promise<void>;
  agreed = { version: 0, actions: 0, protocol: 0, macros: {} as Record<string, string[]> };

  private constructor(readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      for (const p of this.decoder.push(chunk)) {
        const w = this.waiters.shift();
        if (w) w(p);
        else this.packets.push(p);
      }
    });
    socket.on('error', () => {});
    this.closed = new Promise((resolve) =>
      socket.on('close', () => {
        this.ended = true;
        for (const w of this.waiters.splice(0)) w(undefined);
        resolve();
      }),
    );
  }

  static async connect(target: number | string, host = '127.0.0.1'): Promise<MilterClient> {
    const socket = typeof target === 'number' ? net.connect({ port: target, host }) : net.connect(target);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new MilterClient(socket);
  }

  get isClosed(): boolean {
    return this.ended;
  }

  /** Next raw packet from the milter; undefined when the connection closed. */
  readPacket(timeoutMs = 5000): Promise<Packet | undefined> {
    const p = this.packets.shift();
    if (p) return Promise.resolve(p);
    if (this.ended) return Promise.resolve(undefined);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no milter reply within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push((pkt) => {
        clearTimeout(timer);
        resolve(pkt);
      });
    });
  }

  async read(timeoutMs?: number): Promise<MilterResponse | undefined> {
    const p = await this.readPacket(timeoutMs);
    return p && decodeResponse(p);
  }

  send(cmd: MilterCommand): void {
    this.socket.write(encodeCommand(cmd));
  }

  sendRaw(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  async negotiate(offer = POSTFIX_V6_OFFER): Promise<void> {
    this.send({ type: 'optneg', ...offer });
    const p = await this.readPacket();
    if (!p || p.code !== 'O') throw new Error(`no OPTNEG reply (got ${p ? p.code : 'close'})`);
    const a = decodeAgreement(p.data);
    this.agreed = { version: a.version, actions: a.actions, protocol: a.protocol, macros: a.macros as Record<string, string[]> };
  }

  /** Does the milter answer this command, given what was agreed? */
  expectsReply(type: MilterCommand['type']): boolean {
    const code = CODE_OF[type];
    if (code === Cmd.BODYEOB) return true;
    if (code === Cmd.MACRO || code === Cmd.ABORT || code === Cmd.QUIT || code === Cmd.QUIT_NC || code === Cmd.OPTNEG) return false;
    const nr = NR_FLAG[code];
    return nr === undefined || (this.agreed.protocol & nr) === 0;
  }

  /**
   * Send macros (when given) then the event; resolve with the milter's responses up to its
   * decision (header edits come first at end of message), or [] when none is due.
   */
  async event(cmd: MilterCommand, macros?: Record<string, string>): Promise<MilterResponse[]> {
    const code = CODE_OF[cmd.type];
    if (macros) this.send({ type: 'macro', for: code, macros: Object.entries(macros) });
    this.send(cmd);
    if (!this.expectsReply(cmd.type)) return [];
    const out: MilterResponse[] = [];
    for (;;) {
      const r = await this.read();
      if (!r) throw new Error(`milter closed the connection after ${cmd.type}`);
      out.push(r);
      if (r.type !== 'addheader' && r.type !== 'insheader' && r.type !== 'progress') return out;
    }
  }

  /** The final decision of event(). */
  async decision(cmd: MilterCommand, macros?: Record<string, string>): Promise<MilterResponse | undefined> {
    const rs = await this.event(cmd, macros);
    return rs[rs.length - 1];
  }

  async quit(): Promise<void> {
    if (!this.ended) this.send({ type: 'quit' });
    this.socket.end();
    await Promise.race([this.closed, new Promise((r) => setTimeout(r, 1000))]);
    this.socket.destroy();
  }
}

export interface Transaction {
  client?: string;
  sender: string;
  /** ESMTP parameters of MAIL FROM, e.g. `SIZE=123`. */
  mailParams?: string[];
  recipients: string[];
  headers?: Array<[string, string]>;
  body?: string | Buffer;
  queueId?: string;
  /** The SASL login ({auth_authen}); default the sender; '' for an unauthenticated session. */
  login?: string;
  authType?: string;
  /**
   * {daemon_name}: default the LPS submission service's (postfix/master.cf.d/20-submission.cf);
   * another name is local submission (non_smtpd_milters: Postfix's myhostname).
   */
  daemonName?: string;
}

function mailMacros(t: Transaction, id: string): Record<string, string> {
  const login = t.login ?? t.sender;
  return {
    i: id,
    '{mail_addr}': t.sender,
    '{daemon_name}': t.daemonName ?? 'mss-lps-submission',
    ...(login ? { '{auth_authen}': login, '{auth_type}': t.authType ?? 'XOAUTH2' } : {}),
  };
}

function bodyOf(t: Transaction): Buffer {
  return Buffer.isBuffer(t.body) ? t.body : Buffer.from(t.body ?? 'hello\r\n');
}

/** One SMTP transaction as Postfix reports it to a milter; returns each step's decision. */
export async function runTransaction(
  mta: MilterClient,
  t: Transaction,
): Promise<{ mail?: MilterResponse; rcpt: Array<MilterResponse | undefined>; eom: MilterResponse[] }> {
  const id = t.queueId ?? 'ABC123';
  const mail = await mta.decision({ type: 'mail', args: [`<${t.sender}>`, ...(t.mailParams ?? [])] }, mailMacros(t, id));
  const rcpt: Array<MilterResponse | undefined> = [];
  for (const r of t.recipients) rcpt.push(await mta.decision({ type: 'rcpt', args: [`<${r}>`] }, { i: id, '{rcpt_addr}': r }));
  await mta.event({ type: 'data' }, { i: id });
  for (const [name, value] of t.headers ?? [['Subject', 'test']]) await mta.event({ type: 'header', name, value }, { i: id });
  await mta.event({ type: 'eoh' }, { i: id });
  await mta.event({ type: 'body', chunk: bodyOf(t) }, { i: id });
  const eom = await mta.event({ type: 'eom', chunk: Buffer.alloc(0) }, { i: id });
  return { ...(mail ? { mail } : {}), rcpt, eom };
}

/** What an SMTP client would have been told at each step (`250` when the milter let it go on). */
export interface SmtpOutcome {
  mail: string;
  rcpt: string[];
  /** The final answer to DATA; absent when no recipient was accepted or MAIL was refused. */
  data?: string;
}

function smtpText(r: MilterResponse | undefined, ok: string): string {
  if (!r || r.type === 'continue' || r.type === 'accept') return ok;
  if (r.type === 'replycode') return r.reply;
  if (r.type === 'reject') return '550 5.7.1 Command rejected';
  if (r.type === 'tempfail') return '451 4.7.1 Service unavailable - try again later';
  return r.type === 'discard' ? '250 discarded' : ok;
}

/**
 * One transaction, stopped where Postfix would stop it: no recipient after a refused MAIL,
 * no DATA without an accepted recipient, no body after a refusal at end of headers (Postfix
 * then answers DATA with that refusal). Chunks the body as Postfix does (64 KiB).
 */
export async function submitLikePostfix(mta: MilterClient, t: Transaction): Promise<SmtpOutcome> {
  const id = t.queueId ?? 'ABC123';
  const mail = smtpText(await mta.decision({ type: 'mail', args: [`<${t.sender}>`, ...(t.mailParams ?? [])] }, mailMacros(t, id)), '250 2.1.0 Ok');
  if (!mail.startsWith('2')) return { mail, rcpt: [] };
  const rcpt: string[] = [];
  for (const r of t.recipients) rcpt.push(smtpText(await mta.decision({ type: 'rcpt', args: [`<${r}>`] }, { i: id, '{rcpt_addr}': r }), '250 2.1.5 Ok'));
  if (!rcpt.some((r) => r.startsWith('2'))) return { mail, rcpt };
  const fail = (r: MilterResponse | undefined): boolean => r !== undefined && r.type !== 'continue';
  const data = await mta.decision({ type: 'data' }, { i: id });
  if (fail(data)) return { mail, rcpt, data: smtpText(data, '') };
  for (const [name, value] of t.headers ?? [['Subject', 'test']]) {
    const h = await mta.decision({ type: 'header', name, value }, { i: id });
    if (fail(h)) return { mail, rcpt, data: smtpText(h, '') };
  }
  const eoh = await mta.decision({ type: 'eoh' }, { i: id });
  if (fail(eoh)) return { mail, rcpt, data: smtpText(eoh, '') };
  const body = bodyOf(t);
  for (let at = 0; at < body.length; at += 65_536) await mta.event({ type: 'body', chunk: body.subarray(at, at + 65_536) }, { i: id });
  const eom = await mta.decision({ type: 'eom', chunk: Buffer.alloc(0) }, { i: id });
  return { mail, rcpt, data: smtpText(eom, `250 2.0.0 Ok: queued as ${id}`) };
}
