// The steps the CLI and the schedule share: check a month's archive, upload it, read its
// report, and keep the record of what SIPIL said (submissions.ts).
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/schema.js';
import { MssError } from '../errors.js';
import type { Logger } from '../log.js';
import type { StateStore } from '../store/store.js';
import { checkArchive, checkDirectory, type ArchiveCheck } from './archive-check.js';
import { readZip } from './zip.js';
import { acceptedAmong, localControlContext } from './local-context.js';
import { archiveName, monthDir } from './paths.js';
import { interpretReport, readReportBody, type ReportOutcome } from './report.js';
import { fetchReport, postArchive, sipilEndpoint, type SipilEndpoint, type UploadResult } from './sipil-client.js';
import { Submissions } from './submissions.js';

/** The names of the files a ZIP or a directory holds (to ask which were accepted before). */
function namesIn(target: string): string[] {
  if (fs.statSync(target).isDirectory()) return fs.readdirSync(target).filter((n) => n.endsWith('.csv'));
  const names: string[] = [];
  try {
    readZip(target, (n) => {
      names.push(n);
      return undefined;
    });
  } catch {
    /* reported by the check itself */
  }
  return names;
}

/** `stats validate DIR|ZIP`: the controls of §9.7.4.4, replayed locally. */
export async function validateTarget(config: Config, store: StateStore, target: string, now: Date): Promise<ArchiveCheck> {
  if (!fs.existsSync(target)) throw new MssError('USAGE_FILE', `${target} does not exist`, { file: target });
  const accepted = await acceptedAmong(new Submissions(store), namesIn(target));
  const ctx = await localControlContext(config, now, accepted);
  return fs.statSync(target).isDirectory() ? checkDirectory(target, ctx) : checkArchive(target, ctx);
}

export interface UploadOutcome {
  month: string;
  check: ArchiveCheck;
  upload: UploadResult;
  forced: boolean;
}

/** `stats upload`: refuses an archive with blocking errors unless forced; stores the deposit Id. */
export async function uploadMonth(
  config: Config,
  store: StateStore,
  monthId: string,
  opts: { now: Date; force?: boolean; archive?: string; log?: Logger; endpoint?: SipilEndpoint },
): Promise<UploadOutcome> {
  const file = opts.archive ?? path.join(monthDir(config, monthId), archiveName(monthId));
  if (!fs.existsSync(file))
    throw new MssError('STATS_NOT_BUILT', `${file} does not exist: run \`mss-sidecar stats build --month ${monthId.slice(0, 4)}-${monthId.slice(4)}\` first`, {
      file,
    });
  const check = await validateTarget(config, store, file, opts.now);
  if (check.blocking && !opts.force) {
    const bad = check.files.filter((f) => f.codeRetour === 1).map((f) => f.name);
    throw new MssError(
      'STATS_BLOCKING_ERRORS',
      `${file}: blocking errors (code ${check.code}${bad.length ? ` in ${bad.join(', ')}` : ''}); see \`mss-sidecar stats validate ${file}\`, or --force to send anyway`,
      { file, code: check.code, files: bad },
    );
  }
  const bytes = fs.readFileSync(file);
  const upload = await postArchive(
    opts.endpoint ?? sipilEndpoint(config),
    { name: path.basename(file), bytes },
    { ...(config.stats.reportEmail ? { email: config.stats.reportEmail } : {}), ...(opts.log ? { log: opts.log } : {}) },
  );
  const submissions = new Submissions(store);
  const rec = await submissions.get(monthId);
  const sha256 = (await import('node:crypto')).createHash('sha256').update(bytes).digest('hex');
  rec.deposits.push({
    ...(upload.depot.id ? { id: upload.depot.id } : {}),
    at: opts.now.toISOString(),
    code: upload.depot.code,
    sha256,
    mode: upload.mode,
    parts: upload.parts,
  });
  if (upload.depot.id) rec.currentId = upload.depot.id;
  rec.currentSha256 = sha256;
  delete rec.verdict;
  delete rec.nextReportAfter;
  delete rec.reportAt;
  delete rec.reportCode;
  await submissions.put(rec);
  opts.log?.info({ month: monthId, id: upload.depot.id, mode: upload.mode, parts: upload.parts }, 'statistics deposited on SIPIL');
  return { month: monthId, check, upload, forced: check.blocking };
}

export interface ReportFetch extends ReportOutcome {
  month?: string;
  savedTo?: string;
}

/** `stats report`: getReport, REPORT.ZIP kept next to the month's files, the record updated. */
export async function reportOf(
  config: Config,
  store: StateStore,
  ref: { id?: string; month?: string },
  opts: { now: Date; endpoint?: SipilEndpoint },
): Promise<ReportFetch> {
  const submissions = new Submissions(store);
  const month = ref.month;
  let id = ref.id;
  if (!id) {
    if (!month) throw new MssError('USAGE_REPORT', 'give --id ID or --month YYYY-MM');
    id = (await submissions.get(month)).currentId;
    if (!id) throw new MssError('STATS_NO_DEPOSIT', `no deposit is recorded for ${month}: run \`mss-sidecar stats upload\` first`, { month });
  }
  const res = await fetchReport(opts.endpoint ?? sipilEndpoint(config), id);
  const outcome = interpretReport(readReportBody(res.body, res.zip), id);
  let savedTo: string | undefined;
  if (month) {
    const rec = await submissions.get(month);
    if (rec.currentId === id) {
      rec.reportAt = opts.now.toISOString();
      rec.reportCode = outcome.code;
      rec.verdict = outcome.verdict;
      // EX_SSU_5820 / §6.9.3.2.2.1: a report not ready is asked again 12 hours later.
      if (outcome.verdict === 'pending') rec.nextReportAfter = new Date(opts.now.getTime() + config.stats.schedule.reportRetryHours * 3_600_000).toISOString();
      else delete rec.nextReportAfter;
      if (outcome.verdict === 'rejected' && rec.currentSha256 && !rec.rejected.includes(rec.currentSha256)) rec.rejected.push(rec.currentSha256);
      await submissions.put(rec);
    }
    if (res.zip) {
      const dir = monthDir(config, month);
      fs.mkdirSync(dir, { recursive: true });
      savedTo = path.join(dir, `REPORT-${id.replace(/[^A-Za-z0-9_-]/g, '_')}.ZIP`);
      fs.writeFileSync(savedTo, res.body, { mode: 0o640 });
    }
  }
  if (outcome.verdict === 'accepted')
    await submissions.markAccepted(outcome.report.files.filter((f) => f.codeRetour === 0 || f.codeRetour === 2).map((f) => f.nomFichier));
  return { ...outcome, ...(month ? { month } : {}), ...(savedTo ? { savedTo } : {}) };
}
