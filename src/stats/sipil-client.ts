// The SIPIL web services from the operator's side (§6.9.3.2): postFile, classic or segmented,
// and getReport. EX_SSU_5810: mutual TLS with the operator certificate, the server checked
// against the IGC-Santé trust store only (the curl examples' --cacert LIST_AC_ELEM_ORG.pem).
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import type { Config } from '../config/schema.js';
import { MssError } from '../errors.js';
import type { Logger } from '../log.js';
import { httpsRequest, type HttpsResponse } from '../net/https-request.js';
import { TrustStore } from '../pki/truststore.js';
import { AUTH_CODES, DEPOSIT_CODES } from './sipil-codes.js';
import { parseDepot, type Depot } from './sipil-xml.js';
import { isZipBytes } from './zip.js';

/** §6.9.3.2.1.2: at most 30 segments, each at most 70 Mo. */
export const MAX_PARTS = 30;
export const MAX_PART_BYTES = 70_000_000;

export interface SipilEndpoint {
  postFileUrl: string;
  getReportUrl: string;
  ca: string[];
  cert: string;
  key: string;
  timeoutMs: number;
  maxClassicBytes: number;
  segmentBytes: number;
  maxReportBytes: number;
}

export function sipilEndpoint(config: Config): SipilEndpoint {
  const s = config.stats.sipil;
  return {
    postFileUrl: s.postFileUrl,
    getReportUrl: s.getReportUrl,
    ca: [...TrustStore.fromDir(config.trust.dir).pem], // EX_SSU_5810: IGC-Santé only
    cert: fs.readFileSync(config.operator.certificate, 'utf8'), // EX_SSU_5810: the operator certificate
    key: fs.readFileSync(config.operator.key, 'utf8'),
    timeoutMs: s.timeoutMs,
    maxClassicBytes: s.maxClassicBytes,
    segmentBytes: s.segmentBytes,
    maxReportBytes: s.maxReportBytes,
  };
}

export interface UploadResult {
  mode: 'classic' | 'segmented';
  parts: number;
  /** Restarts from segment 1 after codes 6/7/8. */
  restarts: number;
  depot: Depot;
}

function multipart(fieldFile: string, bytes: Uint8Array): { body: Buffer; contentType: string } {
  const boundary = `----mss-sidecar-${randomBytes(12).toString('hex')}`;
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${fieldFile.replace(/["\r\n]/g, '_')}"\r\nContent-Type: application/zip\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return { body: Buffer.concat([head, bytes, tail]), contentType: `multipart/form-data; boundary=${boundary}` };
}

function withEmail(url: string, email: string | undefined): string {
  if (!email) return url;
  const u = new URL(url);
  u.searchParams.set('email', email);
  return u.toString();
}

function depotOf(res: HttpsResponse, url: string): Depot {
  try {
    return parseDepot(res.body, `postFile answer (HTTP ${res.status})`);
  } catch (err) {
    if (res.status >= 500)
      throw new MssError('HTTP_SERVER_ERROR', `${url} answered HTTP ${res.status} without a Depot document`, { url, status: res.status }, { cause: err });
    throw err;
  }
}

/** An answer that is not a deposit step: a coded error. */
function depotError(d: Depot, what: string): MssError {
  const auth = AUTH_CODES[d.code];
  const text = DEPOSIT_CODES[d.code] ?? auth ?? 'code inconnu';
  const details = { code: d.code, message: d.message ?? text };
  if (d.code === 10 || d.code === 100 || d.code === 1)
    return new MssError('TEMPORARY_SIPIL', `${what}: SIPIL answered ${d.code} « ${d.message ?? text} » (${text}); retry later`, details);
  if (d.code === 20 || d.code === 30)
    return new MssError(
      'STATS_SIPIL_ACCESS',
      `${what}: SIPIL refused the connection: ${d.code} « ${d.message ?? text} » (EX_SSU_5810: is the operator certificate's DN in the liste blanche?)`,
      details,
    );
  if (d.code === 2) return new MssError('STATS_DEPOSIT_TOO_LARGE', `${what}: ${d.code} « ${text} »`, details);
  if (d.code === 3) return new MssError('STATS_DEPOSIT_NOT_ZIP', `${what}: ${d.code} « ${text} »`, details);
  if (d.code >= 6 && d.code <= 8) return new MssError('STATS_SEGMENTS_REFUSED', `${what}: ${d.code} « ${text} »; the segments were deleted`, details);
  return new MssError('STATS_DEPOSIT_REFUSED', `${what}: SIPIL answered ${d.code} « ${d.message ?? text} »`, details);
}

/** One postFile request (exported for tests that send what the client never would). */
export async function postFileRequest(ep: SipilEndpoint, url: string, name: string, bytes: Uint8Array, headers: Record<string, string> = {}): Promise<Depot> {
  const { body, contentType } = multipart(name, bytes);
  const res = await httpsRequest({
    url,
    method: 'POST',
    headers: { 'content-type': contentType, 'content-length': String(body.length), accept: 'application/xml', ...headers },
    body,
    ca: ep.ca,
    cert: ep.cert,
    key: ep.key,
    timeoutMs: ep.timeoutMs,
    maxBytes: 1024 * 1024,
  });
  return depotOf(res, url);
}

/** Segment sizes: the configured size, larger when needed to stay within 30 parts. */
export function planSegments(size: number, segmentBytes: number): number {
  let part = Math.min(segmentBytes, MAX_PART_BYTES);
  if (Math.ceil(size / part) > MAX_PARTS) part = Math.ceil(size / MAX_PARTS);
  if (part > MAX_PART_BYTES) {
    throw new MssError('STATS_ARCHIVE_TOO_LARGE', `the archive is ${size} bytes: more than ${MAX_PARTS} segments of ${MAX_PART_BYTES} bytes (§6.9.3.2.1.2)`, {
      size,
    });
  }
  return part;
}

export async function postArchive(
  ep: SipilEndpoint,
  archive: { name: string; bytes: Uint8Array },
  opts: { email?: string; log?: Logger } = {},
): Promise<UploadResult> {
  if (!isZipBytes(archive.bytes)) throw new MssError('STATS_NOT_ZIP', `${archive.name} is not a ZIP archive`, { name: archive.name });
  const url = withEmail(ep.postFileUrl, opts.email);
  // §6.9.3.2.1.1: classic deposit up to 70 Mo.
  if (archive.bytes.length <= ep.maxClassicBytes) {
    const d = await postFileRequest(ep, url, archive.name, archive.bytes);
    if (d.code !== 0 || !d.id) throw depotError(d, `postFile ${archive.name}`);
    return { mode: 'classic', parts: 1, restarts: 0, depot: d };
  }
  // §6.9.3.2.1.2: segments of the archive's byte stream, File-Part / Total-File-Parts.
  const part = planSegments(archive.bytes.length, ep.segmentBytes);
  const total = Math.ceil(archive.bytes.length / part);
  let restarts = 0;
  for (;;) {
    try {
      for (let i = 1; i <= total; i++) {
        const slice = archive.bytes.subarray((i - 1) * part, Math.min(i * part, archive.bytes.length));
        const headers = { 'File-Part': String(i), 'Total-File-Parts': String(total) };
        let d: Depot | undefined;
        for (let attempt = 1; ; attempt++) {
          try {
            d = await postFileRequest(ep, url, `${archive.name}.part${i}`, slice, headers);
            break;
          } catch (err) {
            // A segment lost on the way is sent again (SIPIL answers 5: overwritten).
            if (attempt >= 3 || !(err instanceof MssError) || !/^(HTTP_UNREACHABLE|HTTP_TIMEOUT|HTTP_TRUNCATED|HTTP_FAILED|HTTP_SERVER_ERROR)$/.test(err.code))
              throw err;
            opts.log?.warn({ part: i, total, code: err.code }, 'SIPIL segment failed; sending it again');
          }
        }
        const last = i === total;
        if (last && d.code === 0 && d.id) return { mode: 'segmented', parts: total, restarts, depot: d };
        if (!last && (d.code === 4 || d.code === 5)) continue;
        throw depotError(d, `postFile ${archive.name} segment ${i}/${total}`);
      }
      throw new MssError('STATS_DEPOSIT_REFUSED', `postFile ${archive.name}: the last segment did not return a deposit Id`);
    } catch (err) {
      // Codes 6, 7, 8: SIPIL deleted the segments; the deposit restarts from segment 1, once.
      if (err instanceof MssError && err.code === 'STATS_SEGMENTS_REFUSED' && restarts === 0) {
        restarts++;
        opts.log?.warn({ code: err.details.code }, 'SIPIL refused a segment; restarting the deposit from segment 1');
        continue;
      }
      throw err;
    }
  }
}

/** getReport?id= → the body (REPORT.ZIP, or an XML answer when SIPIL has no archive to give). */
export async function fetchReport(ep: SipilEndpoint, id: string): Promise<{ status: number; body: Buffer; zip: boolean }> {
  const u = new URL(ep.getReportUrl);
  u.searchParams.set('id', id);
  const res = await httpsRequest({
    url: u.toString(),
    method: 'GET',
    headers: { accept: 'application/zip, application/xml' },
    ca: ep.ca,
    cert: ep.cert,
    key: ep.key,
    timeoutMs: ep.timeoutMs,
    maxBytes: ep.maxReportBytes,
  });
  const zip = isZipBytes(res.body);
  if (!zip && res.status >= 500 && !res.body.includes('CodeRetourGlobal'))
    throw new MssError('HTTP_SERVER_ERROR', `${u} answered HTTP ${res.status}`, { status: res.status });
  return { status: res.status, body: res.body, zip };
}
