// Raw IMAP and SMTP clients of the API LPS, as an LPS would log in (the sandbox self-check
// and the tests use them): STARTTLS, then AUTHENTICATE XOAUTH2 with SASL-IR (IMAP) or AUTH
// XOAUTH2 (SMTP), answering the XOAUTH2 error challenge with an empty line as RFC 7628 and
// Google's XOAUTH2 require, or PLAIN/LOGIN with a client certificate (AUTH-CLI), and
// reporting the server's exact final line. Each connection can come from its own loopback
// address (127.x.y.z), so that Dovecot's per-address auth penalty does not slow unrelated
// checks.
import net from 'node:net';
import tls from 'node:tls';
import { xoauth2Response } from '../src/auth/front/xoauth2.js';
import { upgradeToTls } from '../src/net/client-tls.js';

/** The XOAUTH2 initial response an LPS sends (the front's own encoder: one format). */
export const xoauth2InitialResponse = xoauth2Response;

export class LineConnection {
  private socket: net.Socket | tls.TLSSocket;
  private buffer = '';
  private lines: string[] = [];
  private history: string[] = [];
  private waiter: (() => void) | undefined;
  closed = false;
  closedAt: number | undefined;
  /** When the client last wrote: the front's inactivity count starts there. */
  lastSentAt = Date.now();
  /** When the TCP connection was established: the front's session (and its maximum duration) starts after it. */
  readonly openedAt = Date.now();

  private constructor(socket: net.Socket) {
    this.socket = socket;
    this.attach(socket);
  }

  static async open(port: number, opts: { localAddress?: string; timeoutMs?: number } = {}): Promise<LineConnection> {
    const socket = net.connect({ host: '127.0.0.1', port, localAddress: opts.localAddress });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new LineConnection(socket);
  }

  private attach(socket: net.Socket | tls.TLSSocket): void {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      let nl: number;
      while ((nl = this.buffer.indexOf('\n')) >= 0) {
        const line = this.buffer.slice(0, nl).replace(/\r$/, '');
        this.lines.push(line);
        this.history.push(line);
        this.buffer = this.buffer.slice(nl + 1);
      }
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.closedAt ??= Date.now();
      this.wake();
    });
    socket.on('error', () => {});
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  /** The next line matching `re` (earlier lines are returned in `skipped`); rejects on close or timeout. */
  async expect(re: RegExp, timeoutMs = 10_000): Promise<{ line: string; skipped: string[] }> {
    const skipped: string[] = [];
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.lines.length > 0) {
        const line = this.lines.shift() as string;
        if (re.test(line)) return { line, skipped };
        skipped.push(line);
      }
      if (this.closed) throw new Error(`connection closed while waiting for ${re}; got: ${skipped.join(' | ')}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${re}; got: ${skipped.join(' | ')}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }

  /** Resolves when the server has closed the connection (or after `timeoutMs`, false). */
  async waitClosed(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(100, deadline - Date.now()));
        this.waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
    return this.closed;
  }

  /** The last lines the server sent (diagnostics, and refusals that close the connection). */
  lastLines(n = 3): string[] {
    return this.history.slice(-n);
  }

  send(line: string): void {
    this.lastSentAt = Date.now();
    this.socket.write(`${line}\r\n`);
  }

  async startTls(options: tls.ConnectionOptions = {}): Promise<tls.TLSSocket> {
    const secure = await upgradeToTls(this.socket as net.Socket, options);
    this.socket = secure;
    this.buffer = '';
    this.lines = [];
    this.attach(secure);
    return secure;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

export type LoginVerdict = 'OK' | 'FAIL' | 'TEMPFAIL';

export interface LoginResult {
  verdict: LoginVerdict;
  /** The server's final line, verbatim. */
  line: string;
  /** The XOAUTH2 error challenge (`+ …` or `334 …`) the server sent before the final line, if any. */
  challenge?: string;
  /** Capabilities (IMAP) or EHLO keywords (SMTP) announced after STARTTLS. */
  capabilities: string[];
  connection: LineConnection;
}

export interface LoginOptions {
  localAddress?: string;
  tls?: tls.ConnectionOptions;
  /** Keep the connection open after a success (session-limit tests), or `always`: after a refusal too. */
  keepOpen?: boolean | 'always';
  /** IMAP: an ID command (RFC 2971) before logging in, as mail software sends it: name, version... */
  id?: Record<string, string>;
}

const keptOpen = (opts: LoginOptions, verdict: LoginVerdict): boolean => opts.keepOpen === 'always' || (opts.keepOpen === true && verdict === 'OK');

/** IMAP: greeting, STARTTLS, CAPABILITY, AUTHENTICATE XOAUTH2 <initial response> (SASL-IR). */
export async function imapXoauth2Login(port: number, user: string, token: string, opts: LoginOptions = {}): Promise<LoginResult> {
  const c = await LineConnection.open(port, opts);
  try {
    await c.expect(/^\* OK/);
    c.send('a1 STARTTLS');
    await c.expect(/^a1 OK/);
    await c.startTls(opts.tls);
    c.send('a2 CAPABILITY');
    const caps = await c.expect(/^a2 /);
    const capabilities = (caps.skipped.find((l) => l.startsWith('* CAPABILITY ')) ?? '').split(' ').slice(2);
    if (opts.id) {
      const quote = (t: string) => `"${t.replace(/["\\]/g, '')}"`;
      c.send(
        `i1 ID (${Object.entries(opts.id)
          .map(([k, v]) => `${quote(k)} ${quote(v)}`)
          .join(' ')})`,
      );
      await c.expect(/^i1 OK/);
    }
    c.send(`a3 AUTHENTICATE XOAUTH2 ${xoauth2InitialResponse(user, token)}`);
    let final = (await c.expect(/^(a3 |\+ )/)).line;
    let challenge: string | undefined;
    if (final.startsWith('+ ')) {
      // XOAUTH2 failure: a base64 JSON error as a challenge, then the tagged NO after an empty reply.
      challenge = final;
      c.send('');
      final = (await c.expect(/^a3 /)).line;
    }
    const verdict: LoginVerdict = /^a3 OK/.test(final) ? 'OK' : /\[UNAVAILABLE\]/.test(final) ? 'TEMPFAIL' : 'FAIL';
    if (!keptOpen(opts, verdict)) c.destroy();
    return { verdict, line: final, ...(challenge ? { challenge } : {}), capabilities, connection: c };
  } catch (err) {
    c.destroy();
    throw err;
  }
}

/** SMTP submission up to login: greeting, EHLO, STARTTLS, EHLO; the EHLO keywords after STARTTLS. */
export async function smtpOverTls(
  port: number,
  opts: Pick<LoginOptions, 'localAddress' | 'tls'> = {},
): Promise<{ connection: LineConnection; keywords: string[] }> {
  const c = await LineConnection.open(port, opts);
  try {
    await c.expect(/^220 /);
    c.send('EHLO lps.test');
    await c.expect(/^250 /);
    c.send('STARTTLS');
    await c.expect(/^220 /);
    await c.startTls(opts.tls);
    c.send('EHLO lps.test');
    const ehlo = await c.expect(/^250 /);
    return { connection: c, keywords: [...ehlo.skipped, ehlo.line].map((l) => l.slice(4)) };
  } catch (err) {
    c.destroy();
    throw err;
  }
}

/** SMTP submission: greeting, EHLO, STARTTLS, EHLO, AUTH XOAUTH2 <initial response>. */
export async function smtpXoauth2Login(port: number, user: string, token: string, opts: LoginOptions = {}): Promise<LoginResult> {
  const { connection: c, keywords: capabilities } = await smtpOverTls(port, opts);
  try {
    c.send(`AUTH XOAUTH2 ${xoauth2InitialResponse(user, token)}`);
    let final = (await c.expect(/^\d{3} /)).line;
    let challenge: string | undefined;
    if (final.startsWith('334 ')) {
      challenge = final;
      c.send('');
      final = (await c.expect(/^\d{3} /)).line;
    }
    const verdict: LoginVerdict = final.startsWith('235 ') ? 'OK' : final.startsWith('4') ? 'TEMPFAIL' : 'FAIL';
    if (!keptOpen(opts, verdict)) c.destroy();
    return { verdict, line: final, ...(challenge ? { challenge } : {}), capabilities, connection: c };
  } catch (err) {
    c.destroy();
    throw err;
  }
}

export interface AuthCliLoginOptions {
  localAddress?: string;
  /** Client certificate and key (PEM); none: no certificate. */
  cert?: string;
  key?: string;
  /** IMAP: LOGIN instead of AUTHENTICATE PLAIN; SMTP: AUTH LOGIN instead of AUTH PLAIN. */
  loginCommand?: boolean;
  keepOpen?: boolean;
}

export interface AuthCliResult {
  /** OK, FAIL, TEMPFAIL, or CLOSED when the server ended the session after STARTTLS. */
  verdict: LoginVerdict | 'CLOSED';
  line: string;
  /** Capabilities / EHLO keywords before and after STARTTLS. */
  before: string[];
  after: string[];
  connection: LineConnection;
}

const plain = (user: string): string => Buffer.from(`\0${user}\0unused`).toString('base64');

/** IMAP on an AUTH-CLI entry point: STARTTLS with the client certificate, then PLAIN or LOGIN. */
export async function imapAuthCliLogin(port: number, user: string, opts: AuthCliLoginOptions = {}): Promise<AuthCliResult> {
  const c = await LineConnection.open(port, opts);
  try {
    const greeting = await c.expect(/^\* (OK|BYE)/);
    const before = /CAPABILITY ([^\]]*)\]/.exec(greeting.line)?.[1]?.split(' ') ?? [];
    c.send('a1 STARTTLS');
    await c.expect(/^a1 OK/);
    await c.startTls({ cert: opts.cert, key: opts.key });
    c.send('a2 CAPABILITY');
    let caps: { line: string; skipped: string[] };
    try {
      caps = await c.expect(/^a2 /);
    } catch {
      return { verdict: 'CLOSED', line: c.lastLines().join(' | '), before, after: [], connection: c };
    }
    const after = (caps.skipped.find((l) => l.startsWith('* CAPABILITY ')) ?? '').split(' ').slice(2);
    if (opts.loginCommand) c.send(`a3 LOGIN "${user}" "unused"`);
    else c.send(`a3 AUTHENTICATE PLAIN ${plain(user)}`);
    const final = (await c.expect(/^a3 /)).line;
    const verdict: LoginVerdict = /^a3 OK/.test(final) ? 'OK' : /\[UNAVAILABLE\]/.test(final) ? 'TEMPFAIL' : 'FAIL';
    if (!(opts.keepOpen && verdict === 'OK')) c.destroy();
    return { verdict, line: final, before, after, connection: c };
  } catch (err) {
    c.destroy();
    throw err;
  }
}

/** SMTP on an AUTH-CLI entry point: EHLO, STARTTLS with the client certificate, EHLO, AUTH PLAIN or LOGIN. */
export async function smtpAuthCliLogin(port: number, user: string, opts: AuthCliLoginOptions = {}): Promise<AuthCliResult> {
  const c = await LineConnection.open(port, opts);
  try {
    await c.expect(/^220 /);
    c.send('EHLO lps.test');
    const ehlo1 = await c.expect(/^250 /);
    const before = [...ehlo1.skipped, ehlo1.line].map((l) => l.slice(4));
    c.send('STARTTLS');
    await c.expect(/^220 /);
    await c.startTls({ cert: opts.cert, key: opts.key });
    c.send('EHLO lps.test');
    let ehlo2: { line: string; skipped: string[] };
    try {
      ehlo2 = await c.expect(/^\d{3} /);
    } catch {
      return { verdict: 'CLOSED', line: c.lastLines().join(' | '), before, after: [], connection: c };
    }
    if (!ehlo2.line.startsWith('250')) return { verdict: 'CLOSED', line: ehlo2.line, before, after: [], connection: c };
    const after = [...ehlo2.skipped, ehlo2.line].map((l) => l.slice(4));
    let final: string;
    if (opts.loginCommand) {
      c.send('AUTH LOGIN');
      await c.expect(/^334 /);
      c.send(Buffer.from(user).toString('base64'));
      await c.expect(/^334 /);
      c.send(Buffer.from('unused').toString('base64'));
      final = (await c.expect(/^\d{3} /)).line;
    } else {
      c.send(`AUTH PLAIN ${plain(user)}`);
      final = (await c.expect(/^\d{3} /)).line;
    }
    const verdict: LoginVerdict = final.startsWith('235 ') ? 'OK' : final.startsWith('4') ? 'TEMPFAIL' : 'FAIL';
    if (!(opts.keepOpen && verdict === 'OK')) c.destroy();
    return { verdict, line: final, before, after, connection: c };
  } catch (err) {
    c.destroy();
    throw err;
  }
}

/** What the server answered at each step of one message sent in a logged-in SMTP session. */
export interface SendOutcome {
  mail: string;
  rcpt: string[];
  /** The final reply after the message (absent when no recipient was accepted or DATA was refused). */
  data?: string;
  /** The queue id of `250 … queued as ID`: the message's MAIL_ID. */
  queueId?: string;
}

/**
 * One message in a logged-in SMTP session (smtpXoauth2Login with keepOpen): MAIL, each RCPT,
 * DATA with `message` (CRLF lines, dot-stuffed here), the final reply. The session stays open.
 */
export async function smtpSend(c: LineConnection, from: string, to: readonly string[], message: string): Promise<SendOutcome> {
  c.send(`MAIL FROM:<${from}>`);
  const mail = (await c.expect(/^\d{3} /)).line;
  if (!mail.startsWith('250')) return { mail, rcpt: [] };
  const rcpt: string[] = [];
  for (const r of to) {
    c.send(`RCPT TO:<${r}>`);
    rcpt.push((await c.expect(/^\d{3} /)).line);
  }
  if (!rcpt.some((r) => r.startsWith('250'))) return { mail, rcpt };
  c.send('DATA');
  const go = (await c.expect(/^\d{3} /)).line;
  if (!go.startsWith('354')) return { mail, rcpt, data: go };
  for (const line of message.replace(/\r?\n$/, '').split(/\r?\n/)) c.send(line.startsWith('.') ? `.${line}` : line);
  c.send('.');
  const data = (await c.expect(/^\d{3} /, 60_000)).line;
  const queueId = /queued as ([0-9A-Za-z]+)/.exec(data)?.[1];
  return { mail, rcpt, data, ...(queueId ? { queueId } : {}) };
}

/**
 * The first message of INBOX whose Subject contains `subject`, in a logged-in IMAP session
 * (imapXoauth2Login with keepOpen): SELECT, UID SEARCH, UID FETCH BODY.PEEK[]. The message
 * as lines, or undefined when there is none. The session stays open.
 */
export async function imapFetchBySubject(c: LineConnection, subject: string): Promise<string | undefined> {
  c.send('r1 SELECT INBOX');
  await c.expect(/^r1 OK/);
  c.send(`r2 UID SEARCH SUBJECT "${subject.replace(/["\\]/g, '')}"`);
  const search = await c.expect(/^r2 /);
  const uid = (search.skipped.find((l) => l.startsWith('* SEARCH')) ?? '').split(' ').slice(2)[0];
  if (!uid) return undefined;
  c.send(`r3 UID FETCH ${uid} BODY.PEEK[]`);
  const fetched = await c.expect(/^r3 OK/);
  return fetched.skipped.slice(1, -1).join('\r\n');
}
