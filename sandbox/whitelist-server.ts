// The ANS liste blanche host, simulated on loopback: HTTPS with the sandbox server
// certificate, serving a list signed by the sandbox ANS signer, plus a plain-HTTP control
// port (loopback only) through which tests and the self-check inject faults or publish
// another list:
//   GET  /                  → {"fault": "...", "url": "...", "sha256": "..."}
//   POST /fault?mode=MODE   → none | down | http500 | truncated | slow | bad-signature
//   POST /list              → body = the new (signed) list to publish
import { createHash } from 'node:crypto';
import type http from 'node:http';
import type { Logger } from '../src/log.js';
import { mssTlsOptions } from '../src/pki/tls-profile.js';
import { LoopbackService } from './loopback-service.js';

export const WHITELIST_FAULTS = ['none', 'down', 'http500', 'truncated', 'slow', 'bad-signature'] as const;
export type WhitelistFault = (typeof WHITELIST_FAULTS)[number];

export const WHITELIST_PATH = '/listeblanchemssante.xml';

export interface WhitelistServerOptions {
  host: string;
  /** 0 (default) picks a free port. */
  port?: number;
  controlPort?: number;
  /** PEM: server certificate followed by the intermediate, and its key. */
  certChainPem: string;
  keyPem: string;
  list: Buffer;
  log: Logger;
}

/** The published list with one byte of signed content changed: what "bad-signature" serves. */
export function tamper(list: Buffer): Buffer {
  const text = list.toString('utf8');
  const at = text.indexOf('<Nom>') + '<Nom>'.length;
  if (at < '<Nom>'.length) return Buffer.concat([list, Buffer.from(' ')]);
  const c = text[at] === 'x' ? 'y' : 'x';
  return Buffer.from(text.slice(0, at) + c + text.slice(at + 1), 'utf8');
}

export class SandboxWhitelistServer extends LoopbackService {
  private fault: WhitelistFault = 'none';
  private list: Buffer;

  constructor(private readonly opts: WhitelistServerOptions) {
    super({
      host: opts.host,
      ...(opts.port !== undefined ? { port: opts.port } : {}),
      ...(opts.controlPort !== undefined ? { controlPort: opts.controlPort } : {}),
      tls: { ...mssTlsOptions(), cert: opts.certChainPem, key: opts.keyPem },
    });
    this.list = opts.list;
  }

  get url(): string {
    return `https://${this.opts.host}:${this.port}${WHITELIST_PATH}`;
  }

  async setFault(mode: WhitelistFault): Promise<void> {
    this.fault = mode;
    if (mode === 'down') await this.down();
    else await this.up();
    this.opts.log.info({ fault: mode }, 'sandbox liste blanche fault set');
  }

  setList(list: Buffer): void {
    this.list = list;
  }

  protected serve(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (req.method !== 'GET' || req.url !== WHITELIST_PATH) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    const body = this.fault === 'bad-signature' ? tamper(this.list) : this.list;
    switch (this.fault) {
      case 'http500':
        res.writeHead(500, { 'content-type': 'text/plain' }).end('simulated server error\n');
        return;
      case 'truncated':
        res.writeHead(200, { 'content-type': 'application/xml', 'content-length': body.length });
        res.write(body.subarray(0, Math.floor(body.length / 2)), () => res.socket?.destroy());
        return;
      case 'slow':
        // Headers and a first chunk, then nothing: the client's deadline must fire.
        res.writeHead(200, { 'content-type': 'application/xml', 'content-length': body.length });
        res.write(body.subarray(0, 512));
        return;
      default:
        res.writeHead(200, { 'content-type': 'application/xml', 'content-length': body.length }).end(body);
    }
  }

  protected controlRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://control');
    const reply = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(`${JSON.stringify(body)}\n`);
    };
    if (req.method === 'GET' && url.pathname === '/') {
      reply(200, { fault: this.fault, url: this.url, sha256: createHash('sha256').update(this.list).digest('hex') });
      return;
    }
    if (req.method === 'POST' && url.pathname === '/fault') {
      const mode = url.searchParams.get('mode') as WhitelistFault;
      if (!WHITELIST_FAULTS.includes(mode)) {
        reply(400, { error: `mode must be one of ${WHITELIST_FAULTS.join(', ')}` });
        return;
      }
      this.setFault(mode).then(
        () => reply(200, { fault: mode }),
        (err: Error) => reply(500, { error: err.message }),
      );
      return;
    }
    if (req.method === 'POST' && url.pathname === '/list') {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.setList(Buffer.concat(chunks));
        reply(200, { bytes: this.list.length });
      });
      return;
    }
    reply(404, { error: 'unknown control request' });
  }
}

/** Client of the control port, for tests and self-check steps. */
export async function controlWhitelist(controlUrl: string, path: string, body?: Buffer): Promise<unknown> {
  const res = await fetch(new URL(path, controlUrl), { method: body === undefined && path === '/' ? 'GET' : 'POST', ...(body ? { body } : {}) });
  const json: unknown = await res.json();
  if (!res.ok) throw new Error(`sandbox control ${path}: HTTP ${res.status} ${JSON.stringify(json)}`);
  return json;
}
