// HTTPS to Pro Santé Connect (EX_LPS_910: the one outbound flow the API LPS needs): only
// the configured CAs are trusted, every call has a deadline and a size cap, and failures
// come back as coded errors (HTTP_UNREACHABLE, HTTP_TIMEOUT, HTTP_TLS...).
import { httpsFetch, httpsRequest, type HttpsResponse } from '../../net/https-request.js';
import { MssError, asMssError } from '../../errors.js';
import { instruments, pscEndpointOf, secondsSince } from '../../health/instruments.js';

export interface PscHttpOptions {
  /** PEM CA certificates trusted for PSC. */
  ca: string;
  timeoutMs: number;
}

/** Discovery documents, key sets and UserInfo answers are small. */
const MAX_BYTES = 256 * 1024;

export function pscGet(url: string, opts: PscHttpOptions, headers: Record<string, string> = {}): Promise<HttpsResponse> {
  return timed(url, () =>
    httpsRequest({ url, method: 'GET', headers: { accept: 'application/json', ...headers }, ca: opts.ca, timeoutMs: opts.timeoutMs, maxBytes: MAX_BYTES }),
  );
}

/** Report each PSC call's duration and outcome (ok, http_4xx, http_5xx, or the error code) for /metrics. */
async function timed<T extends { status: number }>(url: string, call: () => Promise<T>): Promise<T> {
  const start = performance.now();
  try {
    const res = await call();
    instruments.pscRequest(pscEndpointOf(url), res.status < 400 ? 'ok' : `http_${Math.floor(res.status / 100)}xx`, secondsSince(start));
    return res;
  } catch (err) {
    instruments.pscRequest(pscEndpointOf(url), asMssError(err).code, secondsSince(start));
    throw err;
  }
}

/** Parse a JSON object body, or throw PSC_BAD_RESPONSE naming the URL. */
export function jsonObject(res: HttpsResponse, url: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(res.body.toString('utf8'));
  } catch {
    throw new MssError('PSC_BAD_RESPONSE', `${url} answered ${res.status} with a body that is not JSON`, { url, status: res.status });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new MssError('PSC_BAD_RESPONSE', `${url} answered ${res.status} with JSON that is not an object`, { url, status: res.status });
  }
  return value as Record<string, unknown>;
}

/** A fetch for jose's remote key set, going through the same client (jose passes a Headers object). */
export function pscFetchForJose(opts: PscHttpOptions) {
  const fetchImpl = httpsFetch({ ca: opts.ca, timeoutMs: opts.timeoutMs, maxBytes: MAX_BYTES });
  return (url: string | URL, init?: { method?: string; headers?: ConstructorParameters<typeof Headers>[0] }): Promise<Response> =>
    timed(String(url), () => fetchImpl(url, { method: init?.method ?? 'GET', headers: Object.fromEntries(new Headers(init?.headers).entries()) }));
}
