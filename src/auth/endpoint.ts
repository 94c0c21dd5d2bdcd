// The loopback HTTP endpoint the Dovecot Lua passdb (dovecot/mss-lps-auth.lua) calls for
// every XOAUTH2 login on IMAP and for the fronts' ticket logins (Postfix authenticates
// through Dovecot SASL; the submission front has already answered the LPS).
//
//   POST /v1/xoauth2   application/x-www-form-urlencoded
//        user, token, service, mech, rip, session, client_id
//   200 "OK"                 the passdb answers PASSDB_RESULT_OK
//   403 "FAIL <reason>"      PASSDB_RESULT_PASSWORD_MISMATCH → AUTHENTICATIONFAILED
//   503 "TEMPFAIL <reason>"  PASSDB_RESULT_INTERNAL_FAILURE → UNAVAILABLE (never a success)
//   4xx other                a broken request: the passdb treats it as a temporary failure
//
//   POST /v1/password-login  user, service, mech, rip, session (never the password)
//   403 "FAIL mssante-mailbox"  an MSSanté mailbox of this operator: the passdb refuses
//                               (EX_LPS_0600, EX_LPS_1200: no password opens one)
//   200 "NEXT"                  not ours: the site's passdbs decide
//   503 "TEMPFAIL …"            undecided: the passdb answers a temporary failure
//
// Loopback only, form encoding because Dovecot 2.3's Lua has no JSON, plain-text answers
// the script can match without parsing. The token is never logged.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { closeServerNow } from '../util/close-server.js';
import { MssError } from '../errors.js';
import type { Logger } from '../log.js';
import type { LoginAttempt, XOAuth2Checker } from './checker.js';
import type { CheckOutcome } from './outcome.js';
import type { PasswordAttempt, PasswordLogins } from './password-login.js';

const MAX_BODY = 64 * 1024;
/**
 * Requests one connection may have in flight (received, not answered). Dovecot's Lua HTTP
 * client sends one at a time; a peer pipelining thousands without reading the answers would
 * make Node's HTTP server hold them all, so beyond this the connection is closed.
 */
const MAX_IN_FLIGHT = 16;
export const CHECK_PATH = '/v1/xoauth2';
export const PASSWORD_PATH = '/v1/password-login';

export class CheckerEndpoint {
  private server: http.Server | undefined;

  constructor(
    private readonly checker: Pick<XOAuth2Checker, 'check'>,
    private readonly listen: { host: string; port: number },
    private readonly log: Logger,
    /** Without it, password logins are undecided (503): never let through to a site passdb unchecked. */
    private readonly passwords?: Pick<PasswordLogins, 'decide'>,
  ) {}

  async start(): Promise<void> {
    const server = http.createServer({ keepAlive: true }, (req, res) => void this.handle(req, res));
    server.keepAliveTimeout = 60_000;
    server.headersTimeout = 10_000;
    server.requestTimeout = 30_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          new MssError(
            'AUTH_LISTEN',
            `cannot listen on ${this.listen.host}:${this.listen.port} (auth.checker.listen): ${err.message}`,
            { ...this.listen },
            { cause: err },
          ),
        ),
      );
      server.listen(this.listen.port, this.listen.host, () => resolve());
    });
    this.server = server;
  }

  get port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? this.listen.port;
  }

  get url(): string {
    return `http://${this.listen.host}:${this.port}${CHECK_PATH}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await closeServerNow(server);
  }

  private readonly inFlight = new WeakMap<object, number>();

  /** Count the request against its connection; false (and the connection closed) beyond MAX_IN_FLIGHT. */
  private admitted(req: http.IncomingMessage, res: http.ServerResponse): boolean {
    const socket = req.socket;
    const n = (this.inFlight.get(socket) ?? 0) + 1;
    this.inFlight.set(socket, n);
    res.once('close', () => this.inFlight.set(socket, (this.inFlight.get(socket) ?? 1) - 1));
    if (n <= MAX_IN_FLIGHT) return true;
    if (!socket.destroyed) {
      this.log.warn({ remote: socket.remoteAddress }, `more than ${MAX_IN_FLIGHT} pipelined requests unanswered on one connection: closed`);
      socket.destroy();
    }
    return false;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (!this.admitted(req, res)) return;
    if (req.url === '/v1/health' && req.method === 'GET') return reply(res, 200, 'OK');
    if (req.url !== CHECK_PATH && req.url !== PASSWORD_PATH) return reply(res, 404, 'unknown path');
    if (req.method !== 'POST') return reply(res, 405, 'POST only');
    const body = await readBody(req);
    if (body === undefined) {
      res.setHeader('connection', 'close');
      return reply(res, 413, 'request too large');
    }
    if (req.url === PASSWORD_PATH) return this.password(res, body);
    const attempt = parseAttempt(body);
    if (!attempt) return reply(res, 400, 'user, token, service, mech and rip are required');
    let outcome: CheckOutcome;
    try {
      outcome = await this.checker.check(attempt);
    } catch (err) {
      this.log.error({ err }, 'checker failed');
      return reply(res, 503, 'TEMPFAIL internal');
    }
    if (outcome.verdict === 'OK') return reply(res, 200, 'OK');
    if (outcome.verdict === 'FAIL') return reply(res, 403, `FAIL ${outcome.reason}`);
    return reply(res, 503, `TEMPFAIL ${outcome.reason}`);
  }

  private async password(res: http.ServerResponse, body: string): Promise<void> {
    const attempt = parsePasswordAttempt(body);
    if (!attempt) return reply(res, 400, 'user, service and mech are required');
    if (!this.passwords) return reply(res, 503, 'TEMPFAIL no-registry');
    try {
      return (await this.passwords.decide(attempt)) === 'not-ours' ? reply(res, 200, 'NEXT') : reply(res, 403, 'FAIL mssante-mailbox');
    } catch (err) {
      this.log.error({ err }, 'password login check failed');
      return reply(res, 503, 'TEMPFAIL internal');
    }
  }
}

function reply(res: http.ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** The body, or undefined when it is larger than MAX_BODY (the rest is read and dropped). */
function readBody(req: http.IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > MAX_BODY ? undefined : Buffer.concat(chunks, size).toString('utf8')));
    req.on('error', () => resolve(undefined));
  });
}

function parseAttempt(body: string): LoginAttempt | undefined {
  const form = new URLSearchParams(body);
  const user = form.get('user');
  const token = form.get('token');
  const service = form.get('service');
  const mechanism = form.get('mech');
  const remoteIp = form.get('rip');
  if (!user || !token || !service || !mechanism || remoteIp === null) return undefined;
  return { user, token, service, mechanism, remoteIp, session: form.get('session') ?? undefined, client: form.get('client_id') ?? undefined };
}

function parsePasswordAttempt(body: string): PasswordAttempt | undefined {
  const form = new URLSearchParams(body);
  const user = form.get('user');
  const service = form.get('service');
  const mechanism = form.get('mech');
  if (!user || !service || !mechanism) return undefined;
  const session = form.get('session');
  return { user, service, mechanism, remoteIp: form.get('rip') ?? '', ...(session ? { session } : {}) };
}
