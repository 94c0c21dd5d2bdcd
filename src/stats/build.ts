// `stats build --month YYYY-MM`: the Echanges and Connexions files of every managed domain
// (EX_PSU_5010, EX_PSU_5830, EX_PSU_5840), written under <stats.dir>/<AAAAMM>/ and zipped with
// the files at the root of the archive (§6.9.3.2.1.1). Streaming: the journal is read a block
// at a time, lines are encoded into blocks written as they fill, and the archive compresses
// those blocks as they come; memory does not grow with the month's traffic (bench/stats.ts,
// docs/performance.md).
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/schema.js';
import { Journal } from '../journal/journal.js';
import type { Registry } from '../registry/registry.js';
import { activityKnownSince } from '../lifecycle/known-since.js';
import { RuntimeFields } from '../registry/runtime.js';
import type { StateStore } from '../store/store.js';
import { atomicWriteFileSync } from '../util/atomic-write.js';
import { collectorEvery } from './collect.js';
import { buildConnexions, type ConnexionsSummary } from './connexions.js';
import { CsvFile } from './csv-writer.js';
import { buildEchanges, type EchangesSummary } from './echanges.js';
import { CONNEXIONS, echangesColumns, fileName, headerLine, type FileKind } from './format.js';
import { monthRange, type Month, type MonthRange } from './month.js';
import { archiveName, monthDir } from './paths.js';
import { ZipStream } from './zip-stream.js';

export interface BuildInput {
  config: Config;
  registry: Registry;
  store: StateStore;
  month: Month;
  /** Build time (delivery events are read up to it). */
  now: Date;
  /** Default: <stats.dir>/<AAAAMM>. */
  outDir?: string;
}

export interface BuiltFile {
  name: string;
  kind: FileKind;
  domain: string;
  lines: number;
  bytes: number;
}

export interface BuildResult {
  month: string;
  range: { start: string; end: string; timeZone: string };
  builtAt: string;
  dir: string;
  format: Config['stats']['echangesFormat'];
  files: BuiltFile[];
  archive: { file: string; name: string; bytes: number; sha256: string };
  echanges: Omit<EchangesSummary, 'appLastSend'>;
  connexions: ConnexionsSummary;
}

export const BUILD_SUMMARY = 'build.json';

export async function buildMonth(input: BuildInput): Promise<BuildResult> {
  const { config } = input;
  const tz = config.operator.timeZone;
  const range: MonthRange = monthRange(input.month, tz);
  const dir = input.outDir ?? monthDir(config, range.id);
  fs.mkdirSync(dir, { recursive: true, mode: 0o750 });
  const columns = echangesColumns(config.stats.echangesFormat);
  const name = archiveName(range.id);
  // Deterministic bytes: the same content gives the same archive (the schedule compares them).
  // The first domain's Echanges file — most of the archive — is compressed while it is written.
  const zip = new ZipStream(path.join(dir, name), new Date(range.startMs));
  const files = new Map<string, CsvFile>();
  // Peak memory (issue 20): a full collection every few blocks of CSV, if the process allows it.
  const collect = collectorEvery();
  const open = (kind: FileKind, domain: string, header: string, live = false): CsvFile => {
    const csv = fileName(kind, range.id, domain);
    if (live) zip.entry(csv);
    const f = new CsvFile(
      dir,
      csv,
      header,
      live
        ? (bytes) => {
            zip.push(bytes);
            collect();
          }
        : collect,
    );
    files.set(`${kind}:${domain}`, f);
    return f;
  };
  const echanges = new Map<string, CsvFile>();
  const connexions = new Map<string, CsvFile>();
  let result: BuildResult;
  try {
    config.operator.domains.forEach((domain, i) => {
      echanges.set(domain, open('echanges', domain, headerLine(columns), i === 0));
      connexions.set(domain, open('connexions', domain, headerLine(CONNEXIONS)));
    });
    const journal = new Journal(input.store);
    const e = await buildEchanges({ journal, registry: input.registry, range, timeZone: tz, now: input.now, columns, fileOf: (d) => echanges.get(d) });
    const runtime = new RuntimeFields(input.store);
    // EX_SSU_5800: logins are known from the day the lifecycle uses too (lifecycle.activityKnownSince,
    // else stats.loginsRecordedSince, else the day a service first recorded them here); never
    // recorded at all: every last connection is unknown.
    const known = await activityKnownSince(config, input.store, input.now);
    const c = await buildConnexions({
      registry: input.registry,
      runtime,
      range,
      timeZone: tz,
      fileOf: (d) => connexions.get(d),
      appLastSend: e.appLastSend,
      loginsRecordedSince: known.source === 'none' ? 'never' : new Date(known.at).toISOString().slice(0, 10),
    });
    for (const f of files.values()) f.close();
    if (config.operator.domains.length > 0) zip.endEntry();
    // Files of domains no longer managed, from an earlier build of this month, must not be sent.
    for (const n of fs.readdirSync(dir)) if (n.endsWith('.csv') && !n.startsWith('.')) fs.rmSync(path.join(dir, n));
    for (const f of files.values()) f.commit();
    const built: BuiltFile[] = [...files.entries()].map(([key, f]) => {
      const [kind, domain] = key.split(':') as [FileKind, string];
      return { name: path.basename(f.file), kind, domain, lines: f.lines, bytes: f.bytes };
    });
    // The other files, in the archive's order (each domain's Echanges then Connexions).
    for (const b of built.slice(config.operator.domains.length > 0 ? 1 : 0)) zip.file(b.name, path.join(dir, b.name));
    const archive = zip.finish();
    const { appLastSend: _ignored, ...echangesSummary } = e;
    result = {
      month: range.id,
      range: { start: new Date(range.startMs).toISOString(), end: new Date(range.endMs).toISOString(), timeZone: tz },
      builtAt: input.now.toISOString(),
      dir,
      format: config.stats.echangesFormat,
      files: built,
      archive: { file: path.join(dir, name), name, ...archive },
      echanges: echangesSummary,
      connexions: c,
    };
  } catch (err) {
    for (const f of files.values()) f.abandon();
    zip.abort();
    throw err;
  }
  atomicWriteFileSync(path.join(dir, BUILD_SUMMARY), `${JSON.stringify(result, null, 2)}\n`, { mode: 0o640 });
  return result;
}
