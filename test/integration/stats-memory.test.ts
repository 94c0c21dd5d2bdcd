// The statistics build's peak memory (issue 20: RSS < 100 MB over 1,000,000 recipient events,
// bench/stats.ts): the build streams the month, so what it holds at its peak is the code it
// loaded and the garbage V8 lets accumulate. The shipped stats unit
// (systemd/mss-sidecar-stats.service) runs it with a 1 MB young-generation semi-space and
// --expose-gc, with which the build runs a full collection every 4 MiB of CSV
// (src/stats/collect.ts), and with one malloc arena. Measured over 200,000 events on the 2-core
// machine: 83–86 MiB so; 97–99 MiB with the semi-space alone (the unit before);
// 119–123 MiB with Node's defaults.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { BENCH_MONTH, benchNow, configFile, statsUnitEnvironment, writeBenchMonth } from '../../bench/lib/stats-month.js';
import { REPO_ROOT, runCliAsync } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';

const RECIPIENTS = 200_000;
const BOUND_MIB = 91;

test(`EX_PSU_5010: \`stats build\` in the stats unit's environment peaks under ${BOUND_MIB} MiB over ${RECIPIENTS / 1000},000 recipient events`, async () => {
  const dir = tmpDir('mss-stats-memory-');
  const { config } = await writeBenchMonth(dir, RECIPIENTS);
  const unitEnv = statsUnitEnvironment(REPO_ROOT);
  const nodeOptions = unitEnv.NODE_OPTIONS ?? '';
  assert.match(nodeOptions, /--max-semi-space-size=\d+/, 'the stats unit bounds the young generation');
  // The peak resident set of the build's process, written when it exits.
  const rssFile = path.join(dir, 'max-rss');
  const preload = path.join(dir, 'max-rss.mjs');
  fs.writeFileSync(
    preload,
    `import fs from 'node:fs';\nprocess.on('exit', () => fs.writeFileSync(${JSON.stringify(rssFile)}, String(process.resourceUsage().maxRSS)));\n`,
  );
  const out = path.join(dir, 'out');
  const r = await runCliAsync(
    [
      '--config',
      configFile(dir),
      'stats',
      'build',
      '--month',
      `${BENCH_MONTH.year}-0${BENCH_MONTH.month}`,
      '--now',
      benchNow(config).toISOString(),
      '--out',
      out,
    ],
    { env: { ...unitEnv, NODE_OPTIONS: `${nodeOptions} --import ${pathToFileURL(preload).href}` }, timeoutMs: 240_000 },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`Echanges: \\d+ messages, ${RECIPIENTS} lines`), r.stdout);
  assert.ok(
    fs.readdirSync(out).some((n) => n.endsWith('.zip')),
    'the archive is written',
  );
  const maxRssMiB = Number(fs.readFileSync(rssFile, 'utf8')) / 1024;
  assert.ok(maxRssMiB < BOUND_MIB, `peak RSS ${maxRssMiB.toFixed(0)} MiB, bound ${BOUND_MIB} MiB`);
  fs.rmSync(dir, { recursive: true, force: true });
});
