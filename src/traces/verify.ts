// `traces verify`: check every trace file's hash chain, the links between the successive
// files of one writer, and the manifest (files deleted, added, or cut after their seal).
// Files removed by `traces prune` are recognised through the manifest's prune entries.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { DAY_PATTERN, listDays } from '../util/day-files.js';
import { GENESIS, checkLine } from './chain.js';
import { readManifest, type ManifestEntry } from './manifest.js';

export interface VerifyProblem {
  file: string;
  line?: number;
  message: string;
}

export interface VerifyReport {
  ok: boolean;
  files: number;
  lines: number;
  /** Tampering or loss: deleted, edited, inserted or reordered lines or files. */
  problems: VerifyProblem[];
  /** Not proof of tampering: files whose writer stopped without sealing (crash, kill). */
  warnings: VerifyProblem[];
}

interface FileSummary {
  first?: { prev: string; prevFile: string | null; writer?: string; host?: string; pid?: number };
  lastHash?: string;
  lastKind?: string;
  lines: number;
}

const CATEGORIES = ['functional', 'technical'];

export async function verifyTraces(dir: string): Promise<VerifyReport> {
  const problems: VerifyProblem[] = [];
  const warnings: VerifyProblem[] = [];
  const manifest = readManifest(dir);
  for (const p of manifest.problems) problems.push({ file: 'manifest.jsonl', message: p });

  const listed = new Map<string, Extract<ManifestEntry, { kind: 'file' }>>();
  const seals = new Map<string, Extract<ManifestEntry, { kind: 'seal' }>>();
  const prunedBefore = new Map<string, string>();
  for (const e of manifest.entries) {
    if (e.kind === 'file') listed.set(e.file, e);
    else if (e.kind === 'seal') seals.set(e.file, e);
    else if (e.kind === 'prune' && (prunedBefore.get(e.category) ?? '') < e.before) prunedBefore.set(e.category, e.before);
  }
  const isPruned = (file: string): boolean => {
    const [category, day] = file.split(path.sep);
    return day !== undefined && DAY_PATTERN.test(day) && day < (prunedBefore.get(category ?? '') ?? '');
  };

  const summaries = new Map<string, FileSummary>();
  let lines = 0;
  for (const category of CATEGORIES) {
    for (const day of listDays(path.join(dir, category))) {
      const dayDir = path.join(dir, category, day);
      for (const name of fs.readdirSync(dayDir).sort()) {
        if (!name.endsWith('.jsonl')) continue;
        const rel = path.join(category, day, name);
        const s = await checkFile(path.join(dir, rel), rel, problems);
        summaries.set(rel, s);
        lines += s.lines;
        if (!listed.has(rel)) problems.push({ file: rel, message: 'file is not in the manifest (added by hand, or the manifest was edited)' });
      }
    }
  }

  for (const [rel, s] of summaries) {
    // Link to the previous file of the same writer.
    const prevFile = s.first?.prevFile ?? null;
    if (prevFile !== null) {
      const p = summaries.get(prevFile);
      if (p) {
        if (p.lastHash !== s.first?.prev) problems.push({ file: rel, line: 1, message: `does not continue ${prevFile} (its end was changed or cut)` });
      } else if (!isPruned(prevFile)) {
        problems.push({ file: rel, line: 1, message: `the previous file of this writer, ${prevFile}, is missing` });
      }
    } else if (s.first && s.first.prev !== GENESIS) {
      problems.push({ file: rel, line: 1, message: 'header claims a predecessor but names none' });
    }
    const seal = seals.get(rel);
    if (seal) {
      if (s.lastKind !== 'seal' || s.lastHash !== seal.lastHash || s.lines !== seal.lines) {
        problems.push({
          file: rel,
          message: `differs from its seal in the manifest (${seal.lines} lines ending ${seal.lastHash.slice(0, 12)}…, found ${s.lines}): lines were cut or added after sealing`,
        });
      }
    } else if (!writerAlive(s)) {
      warnings.push({ file: rel, message: 'not sealed: its writer stopped without closing (crash or kill); lines cut from its end could not be detected' });
    }
  }

  for (const rel of listed.keys()) {
    if (!summaries.has(rel) && !isPruned(rel)) problems.push({ file: rel, message: 'listed in the manifest but missing (deleted)' });
  }
  return { ok: problems.length === 0, files: summaries.size, lines, problems, warnings };
}

async function checkFile(file: string, rel: string, problems: VerifyProblem[]): Promise<FileSummary> {
  const summary: FileSummary = { lines: 0 };
  const rl = readline.createInterface({ input: fs.createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  let prev: string | undefined;
  let seq = 0;
  let n = 0;
  for await (const line of rl) {
    n++;
    const c = checkLine(line);
    if (!c.ok) {
      problems.push({ file: rel, line: n, message: c.reason });
      prev = /"hash":"([0-9a-f]{64})"/.exec(line)?.[1];
      seq++;
      continue;
    }
    if (n === 1) {
      if (c.record.kind !== 'header' || c.record.seq !== 0)
        problems.push({ file: rel, line: 1, message: 'first line is not the chain header (lines removed at the start)' });
      summary.first = {
        prev: c.record.prev,
        prevFile: (c.record.prevFile as string | null | undefined) ?? null,
        writer: c.record.writer as string | undefined,
        host: c.record.host as string | undefined,
        pid: c.record.pid as number | undefined,
      };
    } else if (c.record.prev !== prev || c.record.seq !== seq) {
      problems.push({ file: rel, line: n, message: 'chain broken: a line before it was removed, inserted, reordered or edited' });
    }
    prev = c.hash;
    seq = c.record.seq + 1;
    summary.lastHash = c.hash;
    summary.lastKind = c.record.kind as string | undefined;
  }
  summary.lines = n;
  return summary;
}

function writerAlive(s: FileSummary): boolean {
  const pid = s.first?.pid;
  if (s.first?.host !== os.hostname() || typeof pid !== 'number') return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
