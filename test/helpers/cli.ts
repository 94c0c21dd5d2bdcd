// Run the built CLI as a user would (bin/mss-sidecar), capturing status and output.
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tmpDir } from './tmp.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const CLI = path.join(REPO_ROOT, 'bin', 'mss-sidecar');

/**
 * The configuration a CLI run of the tests finds when it is given none: a path in this test
 * process's temporary directory where no file is ever written. Without it a command run
 * without --config reads /etc/mss-sidecar/config.yaml, which the Debian package test
 * installs on this machine: the result of a test would depend on files outside it.
 */
export const NO_CONFIG = path.join(tmpDir('mss-cli-'), 'no-config.yaml');

/**
 * The environment of every CLI a test spawns (runCli, runCliAsync, spawnTracked of CLI: a
 * unit test checks that each spawn of CLI under test/ passes it): logs as JSON, NO_CONFIG
 * unless `env` names another configuration.
 */
export function cliEnv(env: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, MSS_LOG_JSON: '1', MSS_SIDECAR_CONFIG: NO_CONFIG, ...env };
}

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], opts: { env?: Record<string, string>; cwd?: string; timeoutMs?: number } = {}): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: opts.cwd ?? REPO_ROOT,
    env: cliEnv(opts.env),
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 60_000,
  });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Like runCli, without blocking the event loop (for tests whose servers run in-process). */
export function runCliAsync(args: string[], opts: { env?: Record<string, string>; cwd?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: opts.cwd ?? REPO_ROOT,
      env: cliEnv(opts.env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ status: code ?? -1, stdout, stderr });
    });
  });
}
