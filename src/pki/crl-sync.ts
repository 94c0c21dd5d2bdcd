// `crl sync` (EX_OPE_5050, run daily by systemd/mss-sidecar-crl-sync.timer): download the
// configured IGC-Santé CRLs, full and delta, verify each one's signature with a CA of the
// trust store, refuse one older than the CRL already in use for its issuer (a replayed CRL
// would un-revoke certificates), and only then replace its file in trust.crlDir,
// atomically. The gates notice the new file and reload (revocation-holder.ts). A failed
// download leaves the previous file in place.
import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { createHash } from 'node:crypto';
import { MssError, asMssError } from '../errors.js';
import type { Logger } from '../log.js';
import { httpsRequest } from '../net/https-request.js';
import { atomicWriteFileSync } from '../util/atomic-write.js';
import { describeCert } from './certificate.js';
import { RevocationStore } from './crl.js';
import type { TrustStore } from './truststore.js';

export interface CrlSyncOptions {
  urls: readonly string[];
  dir: string;
  trust: TrustStore;
  timeoutMs: number;
  maxBytes: number;
  log: Logger;
  now?: () => Date;
}

export type CrlSyncItem =
  | { url: string; outcome: 'updated' | 'unchanged'; file: string; issuer: string; delta: boolean; thisUpdate: string; nextUpdate?: string }
  | { url: string; outcome: 'failed'; error: MssError };

/** The file a URL's CRL is kept in: its own name, made safe, with a short hash against clashes. */
export function crlFileName(url: string): string {
  const base =
    path
      .basename(new URL(url).pathname)
      .replace(/[^A-Za-z0-9._-]/g, '_')
      .replace(/\.(crl|der|pem)$/i, '') || 'crl';
  return `${base}-${createHash('sha256').update(url).digest('hex').slice(0, 8)}.crl`;
}

async function download(url: string, opts: CrlSyncOptions): Promise<Buffer> {
  const res = await httpsRequest({
    url,
    // A CRL is trusted for its signature, not its transport: https with the public CAs
    // (the IGC-Santé sites) or the IGC-Santé store, or plain http.
    ca: [...tls.rootCertificates, ...opts.trust.pem],
    allowHttp: true,
    timeoutMs: opts.timeoutMs,
    maxBytes: opts.maxBytes,
  });
  if (res.status >= 500) throw new MssError('HTTP_SERVER_ERROR', `${url} answered HTTP ${res.status}`, { url, status: res.status });
  if (res.status !== 200) throw new MssError('HTTP_STATUS', `${url} answered HTTP ${res.status}, expected 200`, { url, status: res.status });
  return res.body;
}

export async function syncCrls(opts: CrlSyncOptions): Promise<CrlSyncItem[]> {
  const now = opts.now?.() ?? new Date();
  fs.mkdirSync(opts.dir, { recursive: true });
  // What is in use now: a downloaded CRL must not be older than it.
  const store = await RevocationStore.fromDir(opts.dir, opts.trust, now);
  const items: CrlSyncItem[] = [];
  for (const url of opts.urls) {
    try {
      const bytes = await download(url, opts);
      const loaded = await store.add(bytes, url, now);
      const issuer = describeCert(loaded.issuer);
      if (!store.inUse(loaded)) {
        throw new MssError('CRL_ROLLBACK', `${url}: CRL of ${issuer} issued ${loaded.thisUpdate.toISOString()} is older than the one in use; kept the newer`, {
          url,
        });
      }
      const file = path.join(opts.dir, crlFileName(url));
      const same = fs.existsSync(file) && fs.readFileSync(file).equals(bytes);
      if (!same) atomicWriteFileSync(file, bytes, { mode: 0o644 });
      if (loaded.nextUpdate && loaded.nextUpdate < now)
        opts.log.warn({ code: 'CRL_STALE', url }, `${url}: the CRL published for ${issuer} is past its nextUpdate (${loaded.nextUpdate.toISOString()})`);
      items.push({
        url,
        outcome: same ? 'unchanged' : 'updated',
        file,
        issuer,
        delta: loaded.deltaOf !== undefined,
        thisUpdate: loaded.thisUpdate.toISOString(),
        ...(loaded.nextUpdate ? { nextUpdate: loaded.nextUpdate.toISOString() } : {}),
      });
      opts.log.info({ url, file, issuer, outcome: same ? 'unchanged' : 'updated' }, 'CRL verified and stored');
    } catch (thrown) {
      const error = asMssError(thrown);
      opts.log.error({ code: error.code, url }, `CRL ${url} not stored (${error.code}): ${error.message}; the previous file stays in use`);
      items.push({ url, outcome: 'failed', error });
    }
  }
  return items;
}
