// One HTTPS client for every call to the ANS side (liste blanche, Annuaire, SIPIL) and to
// Pro Santé Connect: server certificates checked against the configured CAs only (never the
// system bundle), optional mutual TLS with the operator certificate, one deadline covering
// connection and body, a size cap, and failures reported as coded errors.
import http from 'node:http';
import https from 'node:https';
import type { ClientRequest, IncomingHttpHeaders } from 'node:http';
import { confirmLeases } from '../cluster/lease-context.js';
import { MssError } from '../errors.js';

export interface HttpsRequest {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  /** A string or bytes, or chunks written as they come (chunked encoding, back-pressure respected). */
  body?: string | Uint8Array | Iterable<string | Uint8Array>;
  /** PEM CA certificates trusted for the server; required: there is no system fallback. */
  ca: string | string[];
  /** Client certificate and key (PEM) for mutual TLS. */
  cert?: string;
  key?: string;
  /** Deadline for the whole exchange, body included. */
  timeoutMs: number;
  /** Refuse responses larger than this. */
  maxBytes: number;
  minVersion?: 'TLSv1.2' | 'TLSv1.3';
  /**
   * Also accept http:// URLs. Only for content that carries its own signature and is
   * verified after download whatever the transport (CRLs, which the IGC-Santé publishes
   * over http).
   */
  allowHttp?: boolean;
}

export interface HttpsResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export async function httpsRequest(req: HttpsRequest): Promise<HttpsResponse> {
  // A job acting under a cluster lease (Annuaire, SIPIL) calls the ANS only while the lease
  // is still its own: a node paused or cut off past its lease sends nothing more.
  await confirmLeases();
  return send(req);
}

function send(req: HttpsRequest): Promise<HttpsResponse> {
  const url = new URL(req.url);
  const plain = url.protocol === 'http:' && req.allowHttp === true;
  if (url.protocol !== 'https:' && !plain) {
    return Promise.reject(new MssError('HTTP_NOT_HTTPS', `refusing to call ${req.url}: only https:// is allowed`, { url: req.url }));
  }
  return new Promise<HttpsResponse>((resolve, reject) => {
    let settled = false;
    const finish = (err: MssError | null, res?: HttpsResponse): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) {
        request.destroy();
        reject(err);
      } else if (res) resolve(res);
    };
    const request = plain
      ? http.request(url, { method: req.method ?? 'GET', headers: req.headers, agent: false })
      : https.request(url, {
          method: req.method ?? 'GET',
          headers: req.headers,
          ca: req.ca,
          cert: req.cert,
          key: req.key,
          minVersion: req.minVersion ?? 'TLSv1.2',
          rejectUnauthorized: true,
          agent: false,
        });
    const timer = setTimeout(() => {
      finish(new MssError('HTTP_TIMEOUT', `${req.url} did not answer completely within ${req.timeoutMs} ms`, { url: req.url, timeoutMs: req.timeoutMs }));
    }, req.timeoutMs);

    request.on('error', (err: NodeJS.ErrnoException) => finish(classifyNetworkError(err, req.url)));
    request.on('response', (res) => {
      const declared = Number(res.headers['content-length'] ?? NaN);
      if (Number.isFinite(declared) && declared > req.maxBytes) {
        finish(tooLarge(req, declared));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      let ended = false;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > req.maxBytes) {
          finish(tooLarge(req, size));
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => {
        ended = true;
        if (Number.isFinite(declared) && declared !== size) {
          finish(new MssError('HTTP_TRUNCATED', `${req.url} sent ${size} bytes of the ${declared} announced`, { url: req.url, received: size, declared }));
          return;
        }
        finish(null, { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks, size) });
      });
      res.on('aborted', () => finish(truncated(req, size)));
      res.on('error', () => finish(truncated(req, size)));
      res.on('close', () => {
        if (!ended) finish(truncated(req, size));
      });
    });
    if (req.body === undefined) request.end();
    else if (typeof req.body === 'string' || req.body instanceof Uint8Array) request.end(req.body);
    else writeChunks(request, req.body).catch((err: NodeJS.ErrnoException) => finish(classifyNetworkError(err, req.url)));
  });
}

/** Stream a large body without holding it: wait for 'drain' whenever the socket buffer is full. */
async function writeChunks(request: ClientRequest, chunks: Iterable<string | Uint8Array>): Promise<void> {
  for (const chunk of chunks) {
    if (request.destroyed) return;
    if (!request.write(chunk)) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          request.off('drain', done);
          request.off('close', done);
          resolve();
        };
        request.on('drain', done);
        request.on('close', done);
      });
    }
  }
  if (!request.destroyed) request.end();
}

function tooLarge(req: HttpsRequest, size: number): MssError {
  return new MssError('HTTP_TOO_LARGE', `${req.url} sent more than ${req.maxBytes} bytes (at least ${size}); refusing it`, {
    url: req.url,
    maxBytes: req.maxBytes,
  });
}

function truncated(req: HttpsRequest, size: number): MssError {
  return new MssError('HTTP_TRUNCATED', `${req.url} closed the connection after ${size} bytes, before the end of the body`, { url: req.url, received: size });
}

const TLS_ERROR_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'CERT_REVOKED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_SIGNATURE_FAILURE',
  'ERR_SSL_WRONG_VERSION_NUMBER',
]);

function classifyNetworkError(err: NodeJS.ErrnoException, url: string): MssError {
  const code = err.code ?? 'UNKNOWN';
  if (TLS_ERROR_CODES.has(code) || code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS')) {
    return new MssError(
      'HTTP_TLS',
      `TLS with ${url} failed: ${err.message} (${code}); only the configured IGC-Santé CAs are trusted`,
      { url, tlsCode: code },
      { cause: err },
    );
  }
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH') {
    return new MssError('HTTP_UNREACHABLE', `cannot reach ${url}: ${err.message}`, { url, netCode: code }, { cause: err });
  }
  return new MssError('HTTP_FAILED', `request to ${url} failed: ${err.message}`, { url, netCode: code }, { cause: err });
}

/** A fetch-compatible adapter (for libraries such as jose that take a custom fetch). */
export function httpsFetch(base: Omit<HttpsRequest, 'url' | 'method' | 'headers' | 'body'>) {
  return async (input: string | URL, init?: { method?: string; headers?: Record<string, string>; body?: string }): Promise<Response> => {
    const res = await httpsRequest({ ...base, url: String(input), method: init?.method, headers: init?.headers, body: init?.body });
    const headers = new Headers();
    for (const [name, value] of Object.entries(res.headers)) {
      if (typeof value === 'string') headers.set(name, value);
      else if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    }
    return new Response(res.status === 204 || res.status === 304 ? null : res.body, { status: res.status, headers });
  };
}
