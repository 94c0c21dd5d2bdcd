// TM4.1P: download the liste blanche (EX_2.2_5010, run daily by the systemd timer), verify it
// after every download (EX_2.2_5040), and only then store its exact bytes as the last valid
// copy (EX_2.2_5030, EX_2.2_5035). Any failure leaves the last valid copy in place and in
// use, and is logged with its code; a list in use older than maxAgeHours is reported.
import { MssError, asMssError } from '../errors.js';
import type { Logger } from '../log.js';
import { httpsRequest } from '../net/https-request.js';
import { formatDn } from '../pki/dn.js';
import { whitelistRefused } from './codes.js';
import { parseXsdDateTime } from './dates.js';
import { DEFAULT_FUTURE_SKEW_HOURS } from './defaults.js';
import { listAgeHours, readRecord, storedSha256, storeLastValid, writeRecord, type LastValidRecord, type WhitelistPaths } from './store.js';
import { verifyWhitelist, type VerifyPolicy } from './verify.js';

export interface SyncOptions {
  url: string;
  /** From whitelistSetup(): the same checks as every other use of the list. */
  policy: VerifyPolicy;
  timeoutMs: number;
  maxAgeHours: number;
  paths: WhitelistPaths;
  log: Logger;
  now?: () => Date;
  /**
   * Accept a validly signed list even if it is older than the recorded one (recovery after
   * the ANS published a wrongly dated list: `whitelist sync --accept-older`).
   */
  acceptOlder?: boolean;
}

export interface KeptCopy {
  generated?: string;
  ageHours?: number;
  stale: boolean;
}

export type SyncResult = { outcome: 'updated' | 'unchanged'; record: LastValidRecord } | { outcome: 'failed'; error: MssError; kept?: KeptCopy };

async function download(opts: SyncOptions): Promise<Buffer> {
  const res = await httpsRequest({
    url: opts.url,
    // Only the IGC-Santé store: the ANS serves the list with an IGC-Santé certificate (§9.2.1).
    ca: [...opts.policy.trust.pem],
    timeoutMs: opts.timeoutMs,
    maxBytes: opts.policy.maxBytes,
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

/**
 * The date the replay guard compares with: the recorded DateDeGeneration, unless it is not a
 * valid date or lies beyond the accepted skew — such a record (written by an older version, or
 * edited) would refuse every later list, so it is ignored, loudly.
 */
function replayGuardDate(previous: LastValidRecord | undefined, now: Date, opts: SyncOptions): number | undefined {
  if (!previous) return undefined;
  const at = parseXsdDateTime(previous.generated);
  const latest = now.getTime() + (opts.policy.futureSkewHours ?? DEFAULT_FUTURE_SKEW_HOURS) * 3_600_000;
  if (at === undefined || at > latest) {
    opts.log.warn(
      { code: 'WL_RECORD_IGNORED', generated: previous.generated, record: opts.paths.record },
      `the recorded DateDeGeneration "${previous.generated}" is ${at === undefined ? 'not a valid date' : 'in the future'}; the replay check ignores it`,
    );
    return undefined;
  }
  return at;
}

export async function syncWhitelist(opts: SyncOptions): Promise<SyncResult> {
  const now = opts.now?.() ?? new Date();
  const log = opts.log;
  try {
    const bytes = await download(opts);
    // EX_2.2_5040: verified after every download, before anything is stored.
    const verified = verifyWhitelist(bytes, { ...opts.policy, at: now, source: opts.url });
    if (verified.unchecked) log.warn({ code: verified.unchecked.code, ca: verified.unchecked.ca, url: opts.url }, verified.unchecked.message);
    const previous = readRecord(opts.paths);
    // A validly signed but older list is a replay: keep the newer one in use.
    const guard = replayGuardDate(previous, now, opts);
    if (guard !== undefined && verified.index.generatedAt < guard) {
      if (!opts.acceptOlder) {
        throw whitelistRefused(
          'WL_ROLLBACK',
          `${opts.url}: DateDeGeneration ${verified.index.generated} is older than the list in use (${previous?.generated}); if that date is wrong, check with the ANS and run \`mss-sidecar whitelist sync --accept-older\``,
          {
            url: opts.url,
            generated: verified.index.generated,
            inUse: previous?.generated,
          },
        );
      }
      log.warn(
        { code: 'WL_ROLLBACK_ACCEPTED', generated: verified.index.generated, inUse: previous?.generated },
        `liste blanche dated ${verified.index.generated}, older than the one in use (${previous?.generated}), accepted on request (--accept-older)`,
      );
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
    for (const s of verified.index.skipped)
      log.warn({ code: 'WL_ENTRY_SKIPPED', position: s.position }, `liste blanche entry #${s.position} skipped: ${s.reason}`);
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
      log.warn(
        { code: 'WL_STALE', ageHours: Math.round(kept.ageHours ?? 0), maxAgeHours: opts.maxAgeHours },
        `the liste blanche in use was last confirmed ${Math.round(kept.ageHours ?? 0)} h ago (more than ${opts.maxAgeHours} h)`,
      );
    }
    return kept ? { outcome: 'failed', error, kept } : { outcome: 'failed', error };
  }
}
