// Benchmark: `mss-sidecar stats build` over a month of 1,000,000 recipient events (500,000
// messages of 2 recipients, one delivery event each, 2% retried: bench/lib/stats-month.ts),
// embedded store, against an anchor run in the same batch: mawk reading the same journal day
// files and writing the same Echanges CSV (bench/lib/echanges-anchor.awk), then `zip -6`.
//   node dist/bench/stats.js [recipients]      env: BENCH_PAIRS (5), BENCH_KEEP=1 (keep the month
//   in $TMPDIR for the next run), BENCH_TODAY=<another checkout, built> (its CLI joins each pair)
// Fairness: both read the same files from the page cache and write CSV then ZIP (level 6) on
// the same disk; ours is the real command (CLI start, configuration, registry, both files
// of the domain, fsync, build.json), run as the timer runs it (with the NODE_OPTIONS and
// MALLOC_ARENA_MAX of systemd/mss-sidecar-stats.service); the anchor does less (no
// registry, so no EX_PSU_5820 exclusion, no Connexions file, no duplicate recipient, no
// escaping of ';', no patient address rewriting) — none is needed by this data, and the
// bench fails unless both Echanges CSV are byte-identical. Ours also makes its files durable
// (fsync), the anchor does not. Pairs alternate which runs first.
// Goal (issue 20): median wall time ≤ 1.5 × the anchor's; peak RSS < 100 MB.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { monthRange } from '../src/stats/month.js';
import { fileName } from '../src/stats/format.js';
import { gnuTimeMissing, loadAverage, median, minMedian, timed, type Run } from './lib/runs.js';
import { BENCH_MONTH, benchNow, configFile, journalDir, statsUnitEnvironment, writeBenchMonth } from './lib/stats-month.js';
import { fmt } from './lib/stats.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(here, '..', '..');
const recipients = Number(process.argv[2] ?? 1_000_000);
const PAIRS = Number(process.env.BENCH_PAIRS ?? 5);
const GOAL_RATIO = 1.5;
const GOAL_RSS_MIB = 100;

const missing = ['mawk', 'zip'].filter((c) => !fs.existsSync(`/usr/bin/${c}`));
if (gnuTimeMissing()) missing.push('time');
if (missing.length > 0) {
  process.stdout.write(`stats benchmark skipped: missing Debian packages ${missing.join(', ')}\n`);
  process.exit(0);
}

const dir = path.join(os.tmpdir(), `mss-bench-stats-${recipients}`);
const t0 = Date.now();
const { config, reused } = await writeBenchMonth(dir, recipients);
process.stdout.write(
  `journal: ${fmt(recipients / 2)} messages, ${fmt(recipients)} recipients ${reused ? `reused from ${dir}` : `written in ${fmt((Date.now() - t0) / 1000, 1)} s`}\n`,
);

const range = monthRange(BENCH_MONTH, config.operator.timeZone);
const now = benchNow(config);
const csvName = fileName('echanges', range.id, config.operator.domains[0] as string);
const sha = (file: string): string => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

/** Our build, as `mss-sidecar stats build` under the stats unit's environment (ROOT: this checkout, or BENCH_TODAY's). */
async function ours(root: string, out: string): Promise<Run> {
  fs.rmSync(out, { recursive: true, force: true });
  const unitEnv = fs.existsSync(path.join(root, 'systemd', 'mss-sidecar-stats.service')) ? statsUnitEnvironment(root) : {};
  const run = await timed(
    process.execPath,
    [path.join(root, 'bin', 'mss-sidecar'), '--config', configFile(dir), 'stats', 'build', '--month', '2025-03', '--now', now.toISOString(), '--out', out],
    { ...process.env, NODE_OPTIONS: '', ...unitEnv },
  );
  const lines = Number(/Echanges: \d+ messages, (\d+) lines/.exec(run.stdout)?.[1]);
  if (lines !== recipients) throw new Error(`stats build wrote ${lines} Echanges lines, not ${recipients}:\n${run.stdout}`);
  return run;
}

/** The anchor: mawk over the day files (three passes, as the build), then zip. */
async function anchor(out: string): Promise<Run> {
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(out, { recursive: true });
  const jdir = journalDir(config);
  const lookahead = Math.min(now.getTime(), range.endMs + 10 * 86_400_000);
  const days = fs
    .readdirSync(jdir)
    .filter((d) => d >= new Date(range.startMs).toISOString().slice(0, 10) && d <= new Date(lookahead - 1).toISOString().slice(0, 10))
    .sort();
  const files = days.flatMap((d) =>
    fs
      .readdirSync(path.join(jdir, d))
      .filter((n) => n.endsWith('.jsonl'))
      .sort()
      .map((n) => path.join(jdir, d, n)),
  );
  const awk = path.join(ROOT, 'bench', 'lib', 'echanges-anchor.awk');
  const csv = path.join(out, csvName);
  const script = `TZ="$1" mawk -v S="$2" -v E="$3" -v W="$4" -f "$5" phase=1 "\${@:8}" phase=2 "\${@:8}" phase=3 "\${@:8}" > "$6" && cd "$(dirname "$6")" && zip -q -6 "$7" "$(basename "$6")"`;
  return timed('bash', [
    '-c',
    script,
    'anchor',
    config.operator.timeZone,
    String(range.startMs),
    String(range.endMs),
    String(lookahead),
    awk,
    csv,
    path.join(out, 'anchor.zip'),
    ...files,
  ]);
}

const results: Record<'ours' | 'anchor' | 'today', Run[]> = { ours: [], anchor: [], today: [] };
const today = process.env.BENCH_TODAY;
const outOf = (who: string): string => path.join(dir, `out-${who}`);
for (let i = 0; i < PAIRS; i++) {
  const order: Array<'ours' | 'anchor' | 'today'> = i % 2 === 0 ? ['ours', 'anchor'] : ['anchor', 'ours'];
  if (today) order.splice(i % 3, 0, 'today');
  for (const who of order) {
    const run = who === 'anchor' ? await anchor(outOf(who)) : await ours(who === 'today' ? (today as string) : ROOT, outOf(who));
    results[who].push(run);
  }
  if (i === 0) {
    const mine = sha(path.join(outOf('ours'), csvName));
    if (mine !== sha(path.join(outOf('anchor'), csvName))) {
      process.stderr.write(`the anchor's Echanges CSV differs from the build's (${outOf('anchor')} vs ${outOf('ours')})\n`);
      process.exit(1);
    }
    if (today && sha(path.join(outOf('today'), csvName)) !== mine) process.stdout.write('note: BENCH_TODAY wrote another Echanges CSV\n');
  }
  process.stdout.write(
    `pair ${i + 1}: ` +
      order
        .map(
          (w) =>
            `${w} ${fmt(results[w].at(-1)?.wallS ?? NaN, 2)} s (${fmt(results[w].at(-1)?.cpuS ?? NaN, 2)} s CPU, ${fmt(results[w].at(-1)?.rssMiB ?? NaN, 0)} MiB)`,
        )
        .join(', ') +
      `; load ${loadAverage()}\n`,
  );
}

const line = (who: string, runs: Run[]): string =>
  `${who}: wall ${minMedian(
    runs.map((r) => r.wallS),
    2,
    ' s',
  )}; CPU ${minMedian(
    runs.map((r) => r.cpuS),
    2,
    ' s',
  )}; peak RSS max ${fmt(Math.max(...runs.map((r) => r.rssMiB)), 0)} MiB\n`;
process.stdout.write(
  `stats build, ${fmt(recipients)} Echanges lines (CSV byte-identical to the anchor's), ${PAIRS} interleaved pairs, environment of the stats unit: ${
    Object.entries(statsUnitEnvironment(ROOT))
      .map(([k, v]) => `${k}=${v}`)
      .join(' ') || '(none)'
  }; load average ${loadAverage()}\n`,
);
if (today) process.stdout.write(line(`today (${today})`, results.today));
process.stdout.write(line('ours', results.ours));
process.stdout.write(line('anchor (mawk + zip)', results.anchor));
const ratio = (f: (r: Run) => number): string => fmt(median(results.ours.map(f)) / median(results.anchor.map(f)), 2);
const wallRatio = median(results.ours.map((r) => r.wallS)) / median(results.anchor.map((r) => r.wallS));
const rss = Math.max(...results.ours.map((r) => r.rssMiB));
process.stdout.write(
  `ratio ours/anchor (medians): wall ${ratio((r) => r.wallS)}×, CPU ${ratio((r) => r.cpuS)}× — goal ≤ ${GOAL_RATIO}× ${wallRatio <= GOAL_RATIO ? 'met' : 'NOT met'}; ` +
    `peak RSS ${fmt(rss, 0)} MiB — goal < ${GOAL_RSS_MIB} MB ${rss * 1.048576 < GOAL_RSS_MIB ? 'met' : 'NOT met'}\n`,
);
if (process.env.BENCH_KEEP !== '1') fs.rmSync(dir, { recursive: true, force: true });
