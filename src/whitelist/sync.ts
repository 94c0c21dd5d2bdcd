// TM4.1P: download the liste blanche (EX_2.2_5010, run daily by the systemd timer), verify it
// after every download (EX_2.2_5040), and only then store its exact bytes as the last valid
// copy (EX_2.2_5030, EX_2.2_5035). Any failure leaves the last valid copy in place and in
// use, and is logged with its code; a list in use older than maxAgeHours is reported.
import { MssError, asMssError } from '../errors.js';
import type { Logger } from '../log.js';
import { httpsRequest } from '../net/https-request.js';
import { formatDn } from '../pki/dn.js';
import type { RevocationChecker, TrustStore } from '../pki/truststore.js';
import { refusal } from './codes.js';
import type { SignerSubject } from './signer-policy.js';
import { listAgeHours, readRecord, storedSha256, storeLastValid, writeRecord, type LastValidRecord, type WhitelistPaths } from './store.js';
import { verifyWhitelist } from './verify.js';

export interface SyncOptions {
  url: string;
  trust: TrustStore;
  revocation?: RevocationChecker;
  signer: SignerSubject;
  maxBytes: number;
  timeoutMs: number;
  maxAgeHours: number;
  paths: WhitelistPaths;
  log: Logger;
  now?: () => Date;
}

export interface KeptCopy {
  generated?: string;
  ageHours?: number;
  stale: boolean;
}

export type SyncResult =
  | { outcome: 'updated' | 'unchanged'; record: LastValidRecord }
  | { outcome: 'failed'; error: MssError; kept?: KeptCopy };

async function download(opts: SyncOptions): Promise<Buffer> {
  const res = await httpsRequest({
    url: opts.url,
    // Only the IGC-Santé store: the ANS serves the list with an IGC-Santé certificate (§9.2.1).
    ca: [...opts.trust.pem],
    timeoutMs: opts.timeoutMs,
    maxBytes: opts.maxBytes,
    headers: { accept: 'application/xml, text/xml' },
  });
  if (res.status >= 500) throw new MssError('HTTP_SERVER_ERROR', `${opts.url} answered HTTP ${res.status}`, { url: opts.url, status: res.status });
  if (res.status !== 200) throw new MssError('HTTP_STATUS', `${opts.url} answered HTTP ${res.status}, expected 200`, { url: opts.url, status: res.status });
  return res.body;
}

function keptCopy(opts: SyncOptions, now: Date): KeptCopy | undefined {
  const record = readRecord(opts.paths);
  const ageHours = listAgeHours(opts.paths, record?.sha256, now);
  if (ageHours === undefined) return undefined;
  return { ...(record ? { generated: record.generated } : {}), ageHours, stale: ageHours > opts.maxAgeHours };
}

export async function syncWhitelist(opts: SyncOptions): Promise<SyncResult> {
  const now = opts.now?.() ?? new Date();
  const log = opts.log;
  try {
    const bytes = await download(opts);
    // EX_2.2_5040: verified after every download, before anything is stored.
    const verified = verifyWhitelist(bytes, {
      trust: opts.trust,
      signer: opts.signer,
      maxBytes: opts.maxBytes,
      at: now,
      source: opts.url,
      ...(opts.revocation ? { revocation: opts.revocation } : {}),
    });
    const previous = readRecord(opts.paths);
    // A validly signed but older list is a replay: keep the newer one in use.
    if (previous && Date.parse(verified.index.generated) < Date.parse(previous.generated)) {
      throw refusal('WL_ROLLBACK', `${opts.url}: DateDeGeneration ${verified.index.generated} is older than the list in use (${previous.generated})`, { url: opts.url });
    }
    const record: LastValidRecord = {
      url: opts.url,
      sha256: verified.sha256,
      bytes: bytes.length,
      generated: verified.index.generated,
      domains: verified.index.domainCount,
      dns: verified.index.dnCount,
      signer: formatDn(verified.signer.subject),
      storedAt: now.toISOString(),
      confirmedAt: now.toISOString(),
    };
    for (const s of verified.index.skipped) log.warn({ code: 'WL_ENTRY_SKIPPED', position: s.position }, `liste blanche entry #${s.position} skipped: ${s.reason}`);
    if (storedSha256(opts.paths) === verified.sha256) {
      const kept = { ...record, storedAt: previous?.sha256 === verified.sha256 ? previous.storedAt : record.storedAt };
      await writeRecord(opts.paths, kept);
      log.info({ generated: kept.generated, domains: kept.domains, dns: kept.dns }, 'liste blanche unchanged, verified');
      return { outcome: 'unchanged', record: kept };
    }
    // EX_2.2_5030, EX_2.2_5035: the exact bytes, atomically, only now that they verified.
    await storeLastValid(opts.paths, bytes, record);
    log.info({ generated: record.generated, domains: record.domains, dns: record.dns, sha256: record.sha256, file: opts.paths.file }, 'liste blanche updated');
    return { outcome: 'updated', record };
  } catch (thrown) {
    const error = asMssError(thrown);
    const kept = keptCopy(opts, now);
    // EX_2.2_5035 / EX_2.2_5040: the last valid copy stays in use; say so loudly.
    log.error(
      { code: error.code, url: opts.url, keptGenerated: kept?.generated, keptAgeHours: kept?.ageHours },
      `liste blanche sync failed (${error.code}): ${error.message}; ${kept ? `keeping the last valid copy (generated ${kept.generated ?? 'unknown'})` : 'no valid copy is available yet'}`,
    );
    if (kept?.stale) {
      log.warn({ code: 'WL_STALE', ageHours: Math.round(kept.ageHours ?? 0), maxAgeHours: opts.maxAgeHours }, `the liste blanche in use was last confirmed ${Math.round(kept.ageHours ?? 0)} h ago (more than ${opts.maxAgeHours} h)`);
    }
    return kept ? { outcome: 'failed', error, kept } : { outcome: 'failed', error };
  }
}
