// `mss-sidecar sandbox selfcheck` (what `make sandbox` runs): start the sandbox in a
// temporary directory, run every step of ./checks/index.ts against it, print a readable
// report, exit 0 only if every step behaved. Needs only Node and loopback networking.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { loadConfig } from '../src/config/load.js';
import { asMssError } from '../src/errors.js';
import type { Logger } from '../src/log.js';
import type { CheckOutcome, SelfCheckStep } from './checks/check.js';
import { selfCheckSteps } from './checks/index.js';
import { startSandbox } from './run.js';

export interface SelfCheckOptions {
  /** Sandbox directory; default a fresh temporary one, removed afterwards unless `keep`. */
  dir?: string;
  keep?: boolean;
  steps?: readonly SelfCheckStep[];
  out?: (line: string) => void;
}

export interface SelfCheckReport {
  passed: number;
  failed: number;
  skipped: number;
  results: Array<{ name: string; ms: number } & CheckOutcome>;
}

export async function runSelfCheck(opts: SelfCheckOptions = {}): Promise<SelfCheckReport> {
  const out = opts.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'mss-sandbox-'));
  fs.mkdirSync(dir, { recursive: true });
  // The steps provoke failures on purpose: their log goes to a file, the report to stdout.
  const logFile = path.join(dir, 'selfcheck.log');
  const log: Logger = pino({ level: 'debug', name: 'selfcheck' }, pino.destination({ dest: logFile, sync: true }));
  const results: SelfCheckReport['results'] = [];
  out(`mss-sidecar sandbox self-check — sandbox in ${dir} (log: ${logFile})`);
  const started = Date.now();
  let sandbox: Awaited<ReturnType<typeof startSandbox>> | undefined;
  try {
    sandbox = await startSandbox({ dir, log, freshPki: true });
    out(
      `  sandbox up in ${Date.now() - started} ms: ${Object.entries(sandbox.manifest.endpoints)
        .map(([k, v]) => `${k} ${v?.url ?? ''}`)
        .join(', ')}`,
    );
    const ctx = { sandbox: sandbox.manifest, pki: sandbox.pki, config: loadConfig(sandbox.manifest.config), log, facts: new Map<string, unknown>() };
    for (const step of opts.steps ?? selfCheckSteps) {
      const t = Date.now();
      let outcome: CheckOutcome;
      try {
        outcome = await step.run(ctx);
      } catch (err) {
        const e = asMssError(err);
        outcome = { ok: false, detail: `threw ${e.code}: ${e.message}` };
      }
      results.push({ name: step.name, ms: Date.now() - t, ...outcome });
      out(`  ${outcome.skipped ? 'SKIP' : outcome.ok ? 'PASS' : 'FAIL'}  ${step.name}\n        ${outcome.detail}`);
    }
  } catch (err) {
    const e = asMssError(err);
    results.push({ name: 'sandbox start', ms: Date.now() - started, ok: false, detail: `${e.code}: ${e.message}` });
    out(`  FAIL  sandbox start\n        ${e.code}: ${e.message}`);
  } finally {
    await sandbox?.stop();
    if (!opts.keep && !opts.dir) fs.rmSync(dir, { recursive: true, force: true });
  }
  const failed = results.filter((r) => !r.ok).length;
  const skipped = results.filter((r) => r.skipped).length;
  const passed = results.length - failed - skipped;
  out(
    `${results.length} steps in ${Date.now() - started} ms: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}${failed ? '' : ' — the sandbox behaves'}`,
  );
  return { passed, failed, skipped, results };
}
